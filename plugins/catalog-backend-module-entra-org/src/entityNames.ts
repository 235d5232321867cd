import { GroupEntity, UserEntity } from '@backstage/catalog-model';
import {
  defaultGroupTransformer,
  defaultUserTransformer,
  GroupTransformer,
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

/** A valid, readable entity name: lower case, at most 63 characters. */
export function normalizeName(value: string): string {
  return value
    .toLocaleLowerCase('en-US')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 63)
    .replace(/[^a-z0-9]+$/, '');
}

const GROUP_REF_PREFIX = 'group:default/';

/**
 * Entity names for one ingestion run.
 *
 * Readable names can collide (two groups called "Platform", two people
 * `kim@` in two domains), and the upstream reader builds every reference
 * (`memberOf`, `parent`, `children`) from names while it reads, so colliding
 * entities would merge and their references could not be told apart
 * afterwards. The transformers therefore name each entity after its object
 * id while the reader runs, and remember the readable name it should get;
 * {@link EntraEntityNaming.assignNames} then gives every entity its readable
 * name (with an object-id suffix for every holder of a contested name, so the
 * outcome does not depend on Graph's order) and rewrites the references.
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
    this.readableName.set(group.id, entity.metadata.name);
    entity.metadata.name = group.id;
    return entity;
  };

  /**
   * Gives the run's entities their readable names and rewrites the
   * references between them. `groups` may hold the tenant's root group, which
   * upstream already names after the organisation.
   */
  assignNames(
    users: UserEntity[],
    groups: GroupEntity[],
  ): { users: UserEntity[]; groups: GroupEntity[] } {
    const userNames = this.finalNames(users.map(u => u.metadata.name));
    const groupNames = this.finalNames(groups.map(g => g.metadata.name));
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

  /** Provisional name (object id) → readable name, contested names suffixed. */
  private finalNames(provisional: string[]): Map<string, string> {
    const wanted = (id: string) => this.readableName.get(id) ?? id;
    const holders = new Map<string, number>();
    for (const id of provisional) {
      holders.set(wanted(id), (holders.get(wanted(id)) ?? 0) + 1);
    }
    return new Map(
      provisional.map(id => {
        const name = wanted(id);
        if (holders.get(name)! < 2) return [id, name];
        return [id, `${name.slice(0, 54)}-${id.slice(0, 8)}`];
      }),
    );
  }
}
