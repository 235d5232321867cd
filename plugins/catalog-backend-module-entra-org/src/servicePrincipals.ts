import { GroupEntity, UserEntity } from '@backstage/catalog-model';
import {
  GroupMember,
  MicrosoftGraphClient,
  ODataQuery,
} from '@backstage/plugin-catalog-backend-module-msgraph';
import { normalizeName, uniqueNames } from './entityNames';

/** Graph's `@odata.type` of a service principal member. */
export const SERVICE_PRINCIPAL_TYPE = '#microsoft.graph.servicePrincipal';

/** The label that tells a pipeline's User entity from a person's. */
export const PRINCIPAL_TYPE_LABEL = 'entra.microsoft.com/principal-type';
/** The service principal's object id: the `oid` of its app-only tokens. */
export const SERVICE_PRINCIPAL_ID_ANNOTATION =
  'graph.microsoft.com/service-principal-id';
/** The application (client) id: the `azp`/`appid` of its tokens. */
export const APP_ID_ANNOTATION = 'graph.microsoft.com/app-id';
export const TENANT_ID_ANNOTATION = 'graph.microsoft.com/tenant-id';
/** Read by the auth module's `isDisabledUser`, as for people. */
export const ACCOUNT_ENABLED_ANNOTATION = 'graph.microsoft.com/account-enabled';
const GROUP_ID_ANNOTATION = 'graph.microsoft.com/group-id';

/** Properties of a service principal the entities are built from. */
export const SERVICE_PRINCIPAL_SELECT = [
  'id',
  'appId',
  'displayName',
  'servicePrincipalType',
  'accountEnabled',
];

/** A service principal as Graph returns it among a group's members. */
export interface ServicePrincipalMember {
  id: string;
  appId?: string;
  displayName?: string;
  servicePrincipalType?: string;
  accountEnabled?: boolean;
}

/** Service principal types ingested unless configured otherwise. */
export const DEFAULT_SERVICE_PRINCIPAL_TYPES = [
  'Application',
  'ManagedIdentity',
];

/** Which service principals become entities. */
export interface ServicePrincipalPolicy {
  enabled: boolean;
  /** `servicePrincipalType` values to ingest. */
  types: string[];
}

/** Keeps only Graph's properties the entities need (no `@odata` annotations). */
export function servicePrincipalOf(
  member: Record<string, any>,
): ServicePrincipalMember {
  const sp: ServicePrincipalMember = { id: String(member.id) };
  for (const key of SERVICE_PRINCIPAL_SELECT.slice(1)) {
    if (member[key] !== undefined) (sp as any)[key] = member[key];
  }
  return sp;
}

/**
 * Wraps the client the upstream reader reads through and keeps the service
 * principals it sees among group members, with their groups: the upstream
 * reader keeps only users and groups and drops the rest silently.
 */
export function servicePrincipalCollector(client: MicrosoftGraphClient): {
  client: MicrosoftGraphClient;
  collected: Map<string, { sp: ServicePrincipalMember; groupIds: Set<string> }>;
} {
  const collected = new Map<
    string,
    { sp: ServicePrincipalMember; groupIds: Set<string> }
  >();
  const wrapper = {
    getUsers: (...args: Parameters<MicrosoftGraphClient['getUsers']>) =>
      client.getUsers(...args),
    getGroups: (...args: Parameters<MicrosoftGraphClient['getGroups']>) =>
      client.getGroups(...args),
    async *getGroupMembers(
      groupId: string,
      query?: ODataQuery,
      queryMode?: 'basic' | 'advanced',
      signal?: AbortSignal,
    ): AsyncIterable<GroupMember> {
      for await (const member of client.getGroupMembers(
        groupId,
        query,
        queryMode,
        signal,
      )) {
        // Upstream's type names users and groups only; Graph sends more.
        const raw = member as unknown as Record<string, any>;
        if (raw.id && raw['@odata.type'] === SERVICE_PRINCIPAL_TYPE) {
          const entry = collected.get(raw.id) ?? {
            sp: servicePrincipalOf(raw),
            groupIds: new Set<string>(),
          };
          entry.groupIds.add(groupId);
          collected.set(raw.id, entry);
        }
        yield member;
      }
    },
    getOrganization: (
      ...args: Parameters<MicrosoftGraphClient['getOrganization']>
    ) => client.getOrganization(...args),
    getUserPhotoWithSizeLimit: (
      ...args: Parameters<MicrosoftGraphClient['getUserPhotoWithSizeLimit']>
    ) => client.getUserPhotoWithSizeLimit(...args),
  };
  return { client: wrapper as unknown as MicrosoftGraphClient, collected };
}

/** Whether a User entity stands for a service principal, not a person. */
export function isServicePrincipalEntity(entity: {
  metadata: { labels?: Record<string, string> };
}): boolean {
  return entity.metadata.labels?.[PRINCIPAL_TYPE_LABEL] === 'service-principal';
}

/**
 * User entities for the collected service principals that are members of
 * ingested groups. Named `app-<display name>`; a name another service
 * principal wants too gets part of the object id (as the naming of people
 * and groups does), and one a person holds gets the whole object id, so no
 * person is ever renamed for an app. They never carry
 * `graph.microsoft.com/user-id`: browser sign-in resolves people by that
 * annotation only, so nobody can sign in as a pipeline.
 */
export function servicePrincipalEntities(options: {
  collected: Map<string, { sp: ServicePrincipalMember; groupIds: Set<string> }>;
  groups: GroupEntity[];
  people: UserEntity[];
  tenantId: string;
  policy: ServicePrincipalPolicy;
}): { entities: UserEntity[]; withoutAppId: number } {
  const { collected, groups, people, tenantId, policy } = options;
  if (!policy.enabled) return { entities: [], withoutAppId: 0 };
  const groupRefById = new Map<string, string>();
  for (const g of groups) {
    const id = g.metadata.annotations?.[GROUP_ID_ANNOTATION];
    if (id) groupRefById.set(id, `group:default/${g.metadata.name}`);
  }
  let withoutAppId = 0;
  const kept: Array<{ sp: ServicePrincipalMember; memberOf: string[] }> = [];
  for (const { sp, groupIds } of collected.values()) {
    const memberOf = [...groupIds]
      .map(id => groupRefById.get(id))
      .filter((r): r is string => !!r)
      .sort();
    if (memberOf.length === 0) continue;
    // Graph sends only `id` for members the app may not read in full
    // (without Application.Read.All): nothing to match tokens against.
    if (!sp.appId) {
      withoutAppId++;
      continue;
    }
    if (!policy.types.includes(sp.servicePrincipalType ?? 'Application')) {
      continue;
    }
    kept.push({ sp, memberOf });
  }
  const readable = (sp: ServicePrincipalMember) => {
    const base = normalizeName(sp.displayName ?? '') || sp.id;
    return normalizeName(`app-${base}`);
  };
  const names = uniqueNames(
    kept.map(({ sp }) => ({ objectId: sp.id, readable: readable(sp) })),
  );
  const taken = new Set(
    people.map(p => p.metadata.name.toLocaleLowerCase('en-US')),
  );
  const entities = kept.map(({ sp, memberOf }, i) => {
    const name = taken.has(names[i])
      ? normalizeName(`${readable(sp).slice(0, 26)}-${sp.id}`)
      : names[i];
    const entity: UserEntity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: {
        name,
        description: `Entra application (service principal) ${sp.appId}`,
        labels: { [PRINCIPAL_TYPE_LABEL]: 'service-principal' },
        annotations: {
          [SERVICE_PRINCIPAL_ID_ANNOTATION]: sp.id,
          [APP_ID_ANNOTATION]: sp.appId!,
          [TENANT_ID_ANNOTATION]: tenantId,
          [ACCOUNT_ENABLED_ANNOTATION]: String(sp.accountEnabled !== false),
        },
      },
      spec: {
        profile: { displayName: `${sp.displayName ?? sp.appId} (app)` },
        memberOf,
      },
    };
    return entity;
  });
  entities.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return { entities, withoutAppId };
}
