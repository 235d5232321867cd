import { UserEntity } from '@backstage/catalog-model';
import { defaultUserTransformer } from '@backstage/plugin-catalog-backend-module-msgraph';
import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';

/**
 * User properties read from Graph: the upstream defaults plus
 * `accountEnabled`, which Graph only returns when selected.
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

/** A valid, readable entity name: lower case, at most 63 characters. */
export function normalizeName(value: string): string {
  return value
    .toLocaleLowerCase('en-US')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 63)
    .replace(/[^a-z0-9]+$/, '');
}

/**
 * Users named after the local part of their user principal name, which is
 * unique in a tenant and set by admins. Upstream names users after `mail`,
 * which anyone with mailbox rights can change and which may equal another
 * person's address (two people then collapse into one entity). Disabled
 * accounts are skipped: they cannot sign in and should own nothing new.
 */
export async function entraUserTransformer(
  user: MicrosoftGraph.User,
  userPhoto?: string,
): Promise<UserEntity | undefined> {
  if (user.accountEnabled === false || !user.userPrincipalName) {
    return undefined;
  }
  const entity = await defaultUserTransformer(user, userPhoto);
  if (!entity) return undefined;
  entity.metadata.name = normalizeName(user.userPrincipalName.split('@')[0]);
  return entity;
}

/**
 * Two users whose names still collide (same local part in two domains) both
 * get a suffix from their object id, so the result does not depend on the
 * order Graph returned them in.
 */
export function resolveNameCollisions(users: UserEntity[]): UserEntity[] {
  const count = new Map<string, number>();
  for (const u of users) {
    count.set(u.metadata.name, (count.get(u.metadata.name) ?? 0) + 1);
  }
  return users.map(u => {
    if (count.get(u.metadata.name)! < 2) return u;
    const oid = u.metadata.annotations!['graph.microsoft.com/user-id'];
    const name = `${u.metadata.name.slice(0, 54)}-${oid.slice(0, 8)}`;
    return { ...u, metadata: { ...u.metadata, name } };
  });
}
