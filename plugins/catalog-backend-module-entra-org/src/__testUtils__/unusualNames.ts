import {
  EmulatorSeed,
  loadSeed,
  SeedGroup,
  SeedUser,
} from '@internal/entra-emulator';

/** Object ids of the unusual-names tenant, by what each object is for. */
export const OID = {
  kimContoso: 'b62735f3-0000-4000-8000-000000000001',
  kimFabrikam: 'c7a1e0d2-0000-4000-8000-000000000002',
  // UPN local part `kim-b62735f3`: the suffixed name Kim at Contoso gets.
  kimSuffixed: 'd39f44a1-0000-4000-8000-000000000003',
  zoeDiaeresis: 'e1111111-0000-4000-8000-000000000004',
  zoePlain: 'e2222222-0000-4000-8000-000000000005',
  cjkUpn: 'f3333333-0000-4000-8000-000000000006',
  punctuationUpn: 'f4444444-0000-4000-8000-000000000007',
  longUpn: 'f5555555-0000-4000-8000-000000000008',
  ada: 'a0000000-0000-4000-8000-000000000009',
  // Neither the object id nor the UPN has an ASCII letter or digit: no
  // valid name can be made, so the run leaves this person out.
  unnameable: '用户',
  cjkGroup: '10000000-0000-4000-8000-00000000000a',
  frenchGroup: '20000000-0000-4000-8000-00000000000b',
  arabicGroup: '30000000-0000-4000-8000-00000000000c',
  emojiGroup: '40000000-0000-4000-8000-00000000000d',
  zeroWidthGroup: '50000000-0000-4000-8000-00000000000e',
  cafeCombining: '60000000-0000-4000-8000-00000000000f',
  cafePrecomposed: '70000000-0000-4000-8000-000000000010',
  // Display name `cafe-60000000`: the suffixed name of the first café.
  cafeSuffixed: '80000000-0000-4000-8000-000000000011',
  longGroup: '90000000-0000-4000-8000-000000000012',
  punctuationGroup: 'a1000000-0000-4000-8000-000000000013',
  // A group that cannot be named either; its child and its members must
  // not point at it.
  unnameableGroup: '团队',
  unnameableChild: 'b2000000-0000-4000-8000-000000000014',
};

const LONG_NAME = 'Platform Engineering '.repeat(13).trim();

const user = (
  id: string,
  upn: string,
  displayName = upn.split('@')[0],
): SeedUser => ({
  id,
  displayName,
  userPrincipalName: upn,
  mail: upn,
});

const group = (
  id: string,
  displayName: string,
  members: string[],
): SeedGroup => ({ id, displayName, securityEnabled: true, members });

/**
 * A tenant whose names test naming: CJK, Arabic, emoji, combining marks,
 * zero-width characters, a 256-character name, all-punctuation names, two
 * names that collide after transliteration, a person whose UPN is the
 * suffixed name another person gets, and objects no valid name can be made
 * for. The apps are the bundled seed's, so sign-in settings stay the same.
 */
export function unusualNamesSeed(): EmulatorSeed {
  const base = loadSeed();
  const users: SeedUser[] = [
    user(OID.kimContoso, 'kim@contoso.example', 'Kim Contoso'),
    user(OID.kimFabrikam, 'kim@fabrikam.example', 'Kim Fabrikam'),
    user(OID.kimSuffixed, 'kim-b62735f3@contoso.example', 'Kim Suffixed'),
    user(OID.zoeDiaeresis, 'zoë@contoso.example', 'Zoë'),
    user(OID.zoePlain, 'zoe@contoso.example', 'Zoe'),
    user(OID.cjkUpn, '数据@contoso.example', '数据'),
    user(OID.punctuationUpn, '!!!@contoso.example', '!!!'),
    user(
      OID.longUpn,
      `${'x'.repeat(200)}.${'y'.repeat(55)}@contoso.example`,
      'Long Name '.repeat(26).slice(0, 256),
    ),
    user(OID.ada, 'ada.admin@contoso.example', 'Ada Admin'),
    user(OID.unnameable, '用户@contoso.example', '用户'),
  ];
  const groups: SeedGroup[] = [
    group(OID.cjkGroup, '数据团队', [
      OID.kimContoso,
      OID.zoeDiaeresis,
      OID.emojiGroup,
    ]),
    group(OID.emojiGroup, '🚀🚀🚀', [OID.kimFabrikam, OID.frenchGroup]),
    group(OID.frenchGroup, 'Équipe Zoë 🚀', [OID.zoePlain, OID.cjkUpn]),
    group(OID.arabicGroup, 'فريق الهندسة Eng', [OID.kimSuffixed]),
    group(OID.zeroWidthGroup, 'Dev\u200bOps\u200d', [OID.punctuationUpn]),
    group(OID.cafeCombining, 'Cafe\u0301', [OID.longUpn]),
    group(OID.cafePrecomposed, 'Café', [OID.ada]),
    group(OID.cafeSuffixed, 'cafe-60000000', [OID.ada]),
    group(OID.longGroup, LONG_NAME, [OID.ada, OID.unnameable]),
    group(OID.punctuationGroup, '!!! ??? ...', [OID.ada]),
    group(OID.unnameableGroup, '团队', [OID.ada, OID.unnameableChild]),
    group(OID.unnameableChild, 'Child of 团队', [OID.kimContoso]),
  ];
  return {
    ...base,
    tenant: { ...base.tenant, displayName: 'コントソ株式会社' },
    users,
    groups,
    groupRules: [],
  };
}

/** The names the tenant's objects should get, where a readable one exists. */
export const EXPECTED_NAMES: Record<string, string> = {
  [OID.kimContoso]: `kim-${OID.kimContoso}`,
  [OID.kimFabrikam]: 'kim-c7a1e0d2',
  [OID.kimSuffixed]: 'kim-b62735f3-d39f44a1',
  [OID.zoeDiaeresis]: 'zoe-e1111111',
  [OID.zoePlain]: 'zoe-e2222222',
  [OID.cjkUpn]: OID.cjkUpn,
  [OID.punctuationUpn]: OID.punctuationUpn,
  [OID.ada]: 'ada.admin',
  [OID.cjkGroup]: OID.cjkGroup,
  [OID.emojiGroup]: OID.emojiGroup,
  [OID.frenchGroup]: 'equipe_zoe',
  [OID.arabicGroup]: 'eng',
  [OID.zeroWidthGroup]: 'devops',
  [OID.cafeCombining]: `cafe-${OID.cafeCombining}`,
  [OID.cafePrecomposed]: 'cafe-70000000',
  [OID.cafeSuffixed]: 'cafe-60000000-80000000',
  [OID.punctuationGroup]: OID.punctuationGroup,
  [OID.unnameableChild]: 'child_of',
};
