import { GroupEntity, UserEntity } from '@backstage/catalog-model';
import { KubernetesValidatorFunctions } from '@backstage/catalog-model';
import {
  EntraEntityNaming,
  normalizeGroupName,
  normalizeName,
  transliterate,
  uniqueNames,
} from './entityNames';

const ID = {
  kimA: 'aaaaaaaa-1111-4111-8111-111111111111',
  kimB: 'bbbbbbbb-2222-4222-8222-222222222222',
  lee: 'cccccccc-3333-4333-8333-333333333333',
  guest: 'dddddddd-4444-4444-8444-444444444444',
  platform1: 'eeeeeeee-5555-4555-8555-555555555555',
  platform2: 'ffffffff-6666-4666-8666-666666666666',
};

async function transform(
  naming: EntraEntityNaming,
  order: 'forward' | 'reverse' = 'forward',
) {
  const people = [
    { id: ID.kimA, userPrincipalName: 'Kim@contoso.example' },
    { id: ID.kimB, userPrincipalName: 'kim@fabrikam.example' },
    { id: ID.lee, userPrincipalName: 'lee@contoso.example' },
  ];
  const teams = [
    { id: ID.platform1, displayName: 'Platform', securityEnabled: true },
    { id: ID.platform2, displayName: 'platform', securityEnabled: true },
  ];
  if (order === 'reverse') {
    people.reverse();
    teams.reverse();
  }
  const users = (await Promise.all(
    people.map(p => naming.userTransformer({ ...p, displayName: p.id })),
  )) as UserEntity[];
  const groups = (await Promise.all(
    teams.map(t => naming.groupTransformer(t)),
  )) as GroupEntity[];
  // What the upstream reader does with the provisional names: references.
  const platform1 = groups.find(g => g.metadata.name === ID.platform1)!;
  platform1.spec.children.push(`group:default/${ID.platform2}`);
  groups.find(
    g => g.metadata.name === ID.platform2,
  )!.spec.parent = `group:default/${ID.platform1}`;
  users.find(u => u.metadata.name === ID.lee)!.spec.memberOf = [
    `group:default/${ID.platform2}`,
  ];
  return naming.assignNames(users, groups);
}

describe('entity names', () => {
  it('normalizes UPN local parts, including guests', () => {
    expect(normalizeName('Ada.Admin')).toBe('ada.admin');
    expect(normalizeName('olga_partner.example#EXT#')).toBe(
      'olga_partner.example-ext',
    );
    expect(normalizeName('x'.repeat(80))).toHaveLength(63);
  });

  it('transliterates what has an ASCII form and drops what is invisible', () => {
    expect(transliterate('Équipe Zoë')).toBe('Equipe Zoe');
    expect(transliterate('Cafe\u0301')).toBe('Cafe');
    expect(transliterate('Dev\u200bOps\u200d')).toBe('DevOps');
    expect(transliterate('Ｆｕｌｌ ﬁnance')).toBe('Full finance');
    expect(transliterate('Straße Øre Łódź')).toBe('Strasse Ore Lodz');
    expect(transliterate('Команда Щит')).toBe('komanda shchit');
    expect(transliterate('Ομάδα')).toBe('omada');
    expect(transliterate('Київ')).toBe('kiiv');
  });

  it.each([
    ['Équipe Zoë 🚀', 'equipe_zoe'],
    ['فريق الهندسة Eng', 'eng'],
    ['Команда разработки', 'komanda_razrabotki'],
    ['Ομάδα Υποδομής', 'omada_ypodomis'],
    ['数据团队', ''],
    ['🚀🚀🚀', ''],
    ['!!! ??? ...', ''],
    ['_platform-', 'platform'],
    ['Dev\u200bOps', 'devops'],
    // Upstream's names stay as they were for names it already made valid.
    ['Platform Team', 'platform_team'],
    ['platform-admins', 'platform-admins'],
  ])('names group %j %j', (displayName, name) => {
    expect(normalizeGroupName(displayName)).toBe(name);
  });

  it('makes valid names of any length', () => {
    const long = normalizeGroupName('Platform Engineering '.repeat(13));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(KubernetesValidatorFunctions.isValidObjectName(long)).toBe(true);
    expect(
      KubernetesValidatorFunctions.isValidObjectName(
        normalizeName(`${'a'.repeat(62)}.-b`),
      ),
    ).toBe(true);
  });

  it('keeps names unique as the catalog compares them, suffixed names included', () => {
    const kim = 'b62735f3-0000-4000-8000-000000000001';
    const names = uniqueNames([
      { objectId: kim, readable: 'kim' },
      { objectId: 'c7a1e0d2-0000-4000-8000-000000000002', readable: 'kim' },
      // Wants exactly the suffixed name the first Kim would get.
      {
        objectId: 'd39f44a1-0000-4000-8000-000000000003',
        readable: 'kim-b62735f3',
      },
      // Differs only in case from another name.
      { objectId: 'e4000000-0000-4000-8000-000000000004', readable: 'Lee' },
      { objectId: 'e5000000-0000-4000-8000-000000000005', readable: 'lee' },
      // No readable name: the object id.
      { objectId: 'f6000000-0000-4000-8000-000000000006', readable: '' },
    ]);
    expect(names).toEqual([
      `kim-${kim}`,
      'kim-c7a1e0d2',
      'kim-b62735f3-d39f44a1',
      'lee-e4000000',
      'lee-e5000000',
      'f6000000-0000-4000-8000-000000000006',
    ]);
    for (const name of names) {
      expect(KubernetesValidatorFunctions.isValidObjectName(name)).toBe(true);
    }
  });

  it('gives readable names, suffixes every holder of a contested name by object id, and rewrites references', async () => {
    const { users, groups } = await transform(
      new EntraEntityNaming({ guests: 'exclude' }),
    );
    expect(users.map(u => u.metadata.name)).toEqual([
      'kim-aaaaaaaa',
      'kim-bbbbbbbb',
      'lee',
    ]);
    expect(groups.map(g => g.metadata.name)).toEqual([
      'platform-eeeeeeee',
      'platform-ffffffff',
    ]);
    expect(groups[0].spec.children).toEqual([
      'group:default/platform-ffffffff',
    ]);
    expect(groups[1].spec.parent).toBe('group:default/platform-eeeeeeee');
    expect(users[2].spec.memberOf).toEqual(['group:default/platform-ffffffff']);
    // The object id annotations stay: sign-in finds people by them.
    expect(users[0].metadata.annotations!['graph.microsoft.com/user-id']).toBe(
      ID.kimA,
    );
  });

  it('names do not depend on the order Graph returns objects in', async () => {
    const forward = await transform(
      new EntraEntityNaming({ guests: 'exclude' }),
    );
    const reverse = await transform(
      new EntraEntityNaming({ guests: 'exclude' }),
      'reverse',
    );
    expect(reverse).toEqual(forward);
  });

  it('skips disabled accounts, and guests unless included', async () => {
    const guest = {
      id: ID.guest,
      displayName: 'Olga',
      userPrincipalName: 'olga_partner.example#EXT#@contoso.example',
      userType: 'Guest',
    };
    const excluding = new EntraEntityNaming({ guests: 'exclude' });
    expect(await excluding.userTransformer(guest)).toBeUndefined();
    expect(
      await excluding.userTransformer({
        id: ID.lee,
        displayName: 'Lee',
        userPrincipalName: 'lee@contoso.example',
        accountEnabled: false,
      }),
    ).toBeUndefined();

    const including = new EntraEntityNaming({ guests: 'include' });
    const entity = (await including.userTransformer(guest))!;
    const { users } = including.assignNames([entity], []);
    expect(users[0].metadata.name).toBe('olga_partner.example-ext');
  });
});
