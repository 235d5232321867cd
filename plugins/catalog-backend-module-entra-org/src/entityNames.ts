import { Entity, GroupEntity, UserEntity } from '@backstage/catalog-model';
import {
  defaultGroupTransformer,
  defaultOrganizationTransformer,
  defaultUserTransformer,
  GroupTransformer,
  OrganizationTransformer,
  UserTransformer,
} from '@backstage/plugin-catalog-backend-module-msgraph';
import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';

/**
 * User properties read from Graph: the upstream defaults plus
 * `accountEnabled` and `userType`, which Graph only returns when selected.
 */
export const USER_SELECT = [
  'id',
  'displayName',
  'mail',
  'userPrincipalName',
  'accountEnabled',
  'userType',
  'givenName',
  'surname',
  'jobTitle',
  'department',
];

/** Whether B2B guests (`userType: Guest`) become catalog users. */
export type GuestPolicy = 'include' | 'exclude';

/**
 * Latin letters that Unicode does not decompose into a base letter and a
 * mark, so NFKD alone would drop them (`Straße` would become `stra-e`).
 */
const LATIN_LETTERS: Record<string, string> = {
  ß: 'ss',
  ẞ: 'SS',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  ł: 'l',
  Ł: 'L',
  đ: 'd',
  Đ: 'D',
  ð: 'd',
  Ð: 'D',
  þ: 'th',
  Þ: 'TH',
  ı: 'i',
  ħ: 'h',
  Ħ: 'H',
};

/**
 * Cyrillic and Greek letter by letter (BGN/PCGN-like, simplified), the
 * scripts with a transliteration that needs no dictionary. Letters with
 * diacritics (й, ё, ї, ά) decompose to these under NFKD first.
 */
const ALPHABET_PAIRS = (
  'а a б b в v г g д d е e ж zh з z и i к k л l м m н n о o п p р r с s ' +
  'т t у u ф f х kh ц ts ч ch ш sh щ shch ъ - ы y ь - э e ю yu я ya і i ' +
  'є ye ґ g ў u ђ dj ј j љ lj њ nj ћ c џ dz ' +
  'α a β v γ g δ d ε e ζ z η i θ th ι i κ k λ l μ m ν n ξ x ο o π p ρ r ' +
  'σ s ς s τ t υ y φ f χ ch ψ ps ω o'
).split(' ');
const ALPHABETS: Record<string, string> = {};
for (let i = 0; i < ALPHABET_PAIRS.length; i += 2) {
  // `-`: a letter that has no sound of its own (hard and soft signs).
  const ascii = ALPHABET_PAIRS[i + 1];
  ALPHABETS[ALPHABET_PAIRS[i]] = ascii === '-' ? '' : ascii;
}

/**
 * Entity names are ASCII (the catalog's Kubernetes-style name rule). Letters
 * with diacritics keep their base letter (`Équipe Zoë` → `Equipe Zoe`, full
 * width `Ｆｕｌｌ` → `Full`), Cyrillic and Greek are spelled in Latin letters
 * (lower case); invisible format characters (zero-width space, joiners, bidi
 * marks) are removed so they cannot split a word. What has no ASCII form
 * (CJK, Arabic, emoji) stays, for the caller to treat as a separator.
 */
export function transliterate(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/\p{Cf}+/gu, '')
    .replace(
      /[^ -~]/g,
      c => LATIN_LETTERS[c] ?? ALPHABETS[c.toLocaleLowerCase('en-US')] ?? c,
    );
}

/** Longest entity name the catalog accepts. */
const MAX_NAME = 63;

/** Trims to what a name may start and end with, at most `max` characters. */
function trimName(value: string, max = MAX_NAME): string {
  return value
    .replace(/^[^a-zA-Z0-9]+/, '')
    .slice(0, max)
    .replace(/[^a-zA-Z0-9]+$/, '');
}

/**
 * A valid, readable entity name (lower case, at most 63 characters), or `''`
 * when nothing of `value` has an ASCII form; the caller then falls back to
 * the object id.
 */
export function normalizeName(value: string): string {
  return trimName(
    transliterate(value)
      .toLocaleLowerCase('en-US')
      .replace(/[^a-z0-9._-]+/g, '-'),
  );
}

/**
 * Upstream's group naming (`Platform Team` → `platform_team`, kept so that
 * group names, and the refs in policies and `catalog-info.yaml` files that
 * name them, do not change), made valid for any display name: transliterated,
 * and trimmed where upstream would leave a leading `_` or more than 63
 * characters.
 */
export function normalizeGroupName(value: string): string {
  return trimName(
    transliterate(value)
      .trim()
      .toLocaleLowerCase('en-US')
      .replace(/[^a-z0-9_.-]+/g, '_')
      .replace(/_{2,}/g, '_'),
  );
}

const GROUP_REF_PREFIX = 'group:default/';

/**
 * The name an object gets at each level of contest: its readable name; the
 * readable name with the first 8 characters of its object id; the readable
 * name with its whole object id (unique however the others are named). An
 * object without a readable name is named after its object id at every
 * level.
 */
function nameAtLevel(readable: string, objectId: string, level: number) {
  const id = normalizeName(objectId);
  if (!readable) return id;
  if (level === 0) return readable;
  if (level === 1) return `${trimName(readable, 54)}-${id.slice(0, 8)}`;
  return `${trimName(readable, MAX_NAME - id.length - 1)}-${id}`;
}

const MAX_LEVEL = 2;

/**
 * Final names for one kind: every object gets its readable name unless
 * another object of the kind wants the same name (compared as the catalog
 * compares names, ignoring case); then every holder of that name moves up a
 * level, until no two hold the same name. Only the set of objects decides the
 * outcome, never the order Graph returns them in.
 */
export function uniqueNames(
  objects: Array<{ objectId: string; readable: string }>,
): string[] {
  const levels = objects.map(() => 0);
  for (;;) {
    const names = objects.map((o, i) =>
      nameAtLevel(o.readable, o.objectId, levels[i]).toLocaleLowerCase('en-US'),
    );
    const holders = new Map<string, number[]>();
    names.forEach((name, i) => {
      const list = holders.get(name);
      if (list) list.push(i);
      else holders.set(name, [i]);
    });
    let moved = false;
    for (const indexes of holders.values()) {
      if (indexes.length < 2) continue;
      for (const i of indexes) {
        if (levels[i] < MAX_LEVEL && objects[i].readable) {
          levels[i]++;
          moved = true;
        }
      }
    }
    // At the last level names contain the object id, so they differ unless
    // two objects share an object id; the catalog reports those.
    if (!moved) return names;
  }
}

/**
 * Entity names for one ingestion run.
 *
 * Readable names can collide (two groups called "Platform", two people
 * `kim@` in two domains), and the upstream reader builds every reference
 * (`memberOf`, `parent`, `children`) from names while it reads, so colliding
 * entities would merge and their references could not be told apart
 * afterwards. The transformers therefore name each entity after its object
 * id while the reader runs, and remember the readable name it should get;
 * {@link EntraEntityNaming.assignNames} then gives every entity its final
 * name (see {@link uniqueNames}) and rewrites the references.
 */
export class EntraEntityNaming {
  private readonly readableName = new Map<string, string>();

  constructor(private readonly options: { guests: GuestPolicy }) {}

  /**
   * Users are named after the local part of their user principal name, which
   * is unique in a tenant and set by admins. Upstream names users after
   * `mail`, which anyone with mailbox rights can change and which may equal
   * another person's address. Disabled accounts are skipped: they cannot sign
   * in and should own nothing new.
   */
  readonly userTransformer: UserTransformer = async (
    user: MicrosoftGraph.User,
    userPhoto?: string,
  ): Promise<UserEntity | undefined> => {
    if (user.accountEnabled === false || !user.userPrincipalName || !user.id) {
      return undefined;
    }
    if (user.userType === 'Guest' && this.options.guests === 'exclude') {
      return undefined;
    }
    const entity = await defaultUserTransformer(user, userPhoto);
    if (!entity) return undefined;
    this.readableName.set(
      user.id,
      normalizeName(user.userPrincipalName.split('@')[0]),
    );
    entity.metadata.name = user.id;
    return entity;
  };

  /** Groups keep upstream's readable name (display name or mail nickname). */
  readonly groupTransformer: GroupTransformer = async (
    group: MicrosoftGraph.Group,
    groupPhoto?: string,
  ): Promise<GroupEntity | undefined> => {
    const entity = await defaultGroupTransformer(group, groupPhoto);
    if (!entity || !group.id) return undefined;
    const raw =
      group.securityEnabled || !group.mailNickname
        ? group.displayName!
        : group.mailNickname;
    this.readableName.set(group.id, normalizeGroupName(raw));
    entity.metadata.name = group.id;
    return entity;
  };

  /** The tenant's root group, named after the organisation like upstream. */
  readonly organizationTransformer: OrganizationTransformer = async (
    organization: MicrosoftGraph.Organization,
  ): Promise<GroupEntity | undefined> => {
    const entity = await defaultOrganizationTransformer(organization);
    if (!entity || !organization.id) return undefined;
    this.readableName.set(
      organization.id,
      normalizeGroupName(organization.displayName!),
    );
    entity.metadata.name = organization.id;
    return entity;
  };

  /**
   * Gives the run's entities their final names and rewrites the references
   * between them.
   */
  assignNames(
    users: UserEntity[],
    groups: GroupEntity[],
  ): { users: UserEntity[]; groups: GroupEntity[] } {
    const userNames = this.finalNames(users);
    const groupNames = this.finalNames(groups);
    const groupRef = (ref: string) => {
      const prefixed = ref.startsWith(GROUP_REF_PREFIX);
      const name = prefixed ? ref.slice(GROUP_REF_PREFIX.length) : ref;
      const final = groupNames.get(name) ?? name;
      return prefixed ? `${GROUP_REF_PREFIX}${final}` : final;
    };
    for (const user of users) {
      user.metadata.name = userNames.get(user.metadata.name)!;
      user.spec.memberOf = user.spec.memberOf?.map(groupRef);
    }
    for (const group of groups) {
      group.metadata.name = groupNames.get(group.metadata.name)!;
      if (group.spec.parent) group.spec.parent = groupRef(group.spec.parent);
      group.spec.children = group.spec.children.map(groupRef);
    }
    const byName = (a: { metadata: { name: string } }, b: typeof a) =>
      a.metadata.name.localeCompare(b.metadata.name);
    return { users: users.sort(byName), groups: groups.sort(byName) };
  }

  /** Provisional name (object id) → final name. */
  private finalNames(entities: Entity[]): Map<string, string> {
    const provisional = entities.map(e => e.metadata.name);
    const names = uniqueNames(
      provisional.map(id => ({
        objectId: id,
        readable: this.readableName.get(id) ?? '',
      })),
    );
    return new Map(provisional.map((id, i) => [id, names[i]]));
  }
}
