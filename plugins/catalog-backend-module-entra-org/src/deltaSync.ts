import {
  GroupMember,
  MicrosoftGraphClient,
  ODataQuery,
} from '@backstage/plugin-catalog-backend-module-msgraph';
import { Knex } from 'knex';
import * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import { ResilientGraphClient } from './graphClient';
import {
  SERVICE_PRINCIPAL_SELECT,
  SERVICE_PRINCIPAL_TYPE,
  ServicePrincipalMember,
  servicePrincipalOf,
} from './servicePrincipals';

/** What a group's direct member is. */
export type MemberKind = 'user' | 'group' | 'servicePrincipal';

/**
 * What the provider knows of the directory, as Graph answered the reader:
 * every user (disabled ones included: the reader leaves those out itself),
 * every group with its direct members, the organisation, and photos when
 * they are loaded. Delta pages are applied to it; the entities are then
 * derived from it by the same reader and transformers a full read uses.
 */
export interface DirectorySnapshot {
  organization: MicrosoftGraph.Organization;
  users: Record<string, MicrosoftGraph.User>;
  groups: Record<
    string,
    {
      group: MicrosoftGraph.Group;
      /** Direct members: object id to `user`, `group` or `servicePrincipal`. */
      members: Record<string, MemberKind>;
    }
  >;
  photos: Record<string, string>;
  /**
   * Service principals seen among group members, by object id. Absent in
   * snapshots saved before they were ingested.
   */
  servicePrincipals?: Record<string, ServicePrincipalMember>;
}

/** Where the next delta round starts from, per resource. */
export interface DeltaCursor {
  usersLink: string;
  groupsLink: string;
  /**
   * `/servicePrincipals/delta`: how a disabled pipeline is noticed between
   * full rounds. Absent when service principals are off, or Graph refused it.
   */
  servicePrincipalsLink?: string;
  /** When these links were last answered (the cursor's age on the status card). */
  syncedAt: string;
}

export interface DeltaState {
  cursor: DeltaCursor;
  snapshot: DirectorySnapshot;
  /** Changes whenever the snapshot does, so derived entities can be cached. */
  revision: string;
}

/** Graph no longer has state for a delta token: synchronize from the start. */
export class DeltaTokenExpiredError extends Error {
  name = 'DeltaTokenExpiredError';
}

const GROUP_TYPE = '#microsoft.graph.group';

function emptySnapshot(): DirectorySnapshot {
  return {
    organization: {},
    users: {},
    groups: {},
    photos: {},
    servicePrincipals: {},
  };
}

/**
 * A member's kind by its `@odata.type`. Anything that is neither a group nor
 * a service principal is taken for a user, as upstream's reader does.
 */
function memberKind(member: { '@odata.type'?: string }): MemberKind {
  if (member['@odata.type'] === GROUP_TYPE) return 'group';
  if (member['@odata.type'] === SERVICE_PRINCIPAL_TYPE) {
    return 'servicePrincipal';
  }
  return 'user';
}

/** Drops Graph's annotations (`@odata.type`, `members@delta`, …). */
function withoutAnnotations<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!k.includes('@')) out[k] = v;
  return out as T;
}

/**
 * Wraps the client a full read uses and keeps what it answers, so that the
 * read leaves a snapshot behind for delta rounds to continue from.
 */
export function recordingClient(client: MicrosoftGraphClient): {
  client: MicrosoftGraphClient;
  snapshot: DirectorySnapshot;
} {
  const snapshot = emptySnapshot();
  const recorder = {
    async *getUsers(...args: Parameters<MicrosoftGraphClient['getUsers']>) {
      for await (const user of client.getUsers(...args)) {
        snapshot.users[user.id!] = user;
        yield user;
      }
    },
    async *getGroups(...args: Parameters<MicrosoftGraphClient['getGroups']>) {
      for await (const group of client.getGroups(...args)) {
        snapshot.groups[group.id!] ??= { group, members: {} };
        snapshot.groups[group.id!].group = group;
        yield group;
      }
    },
    async *getGroupMembers(
      groupId: string,
      query?: ODataQuery,
      queryMode?: 'basic' | 'advanced',
      signal?: AbortSignal,
    ): AsyncIterable<GroupMember> {
      const entry = (snapshot.groups[groupId] ??= {
        group: { id: groupId },
        members: {},
      });
      for await (const member of client.getGroupMembers(
        groupId,
        query,
        queryMode,
        signal,
      )) {
        if (member.id) {
          const kind = memberKind(member);
          entry.members[member.id] = kind;
          if (kind === 'servicePrincipal') {
            snapshot.servicePrincipals![member.id] = servicePrincipalOf(
              member as Record<string, any>,
            );
          }
        }
        yield member;
      }
    },
    async getOrganization(tenantId: string, signal?: AbortSignal) {
      snapshot.organization = await client.getOrganization(tenantId, signal);
      return snapshot.organization;
    },
    async getUserPhotoWithSizeLimit(userId: string, maxSize: number) {
      const photo = await client.getUserPhotoWithSizeLimit(userId, maxSize);
      if (photo) snapshot.photos[userId] = photo;
      return photo;
    },
  };
  return {
    client: recorder as unknown as MicrosoftGraphClient,
    snapshot,
  };
}

/**
 * A client the upstream reader can read the snapshot through, as if it were
 * Graph. Photos of people the snapshot has none for (new since the full
 * read) are asked from Graph.
 */
export function snapshotClient(
  snapshot: DirectorySnapshot,
  graph: MicrosoftGraphClient,
): MicrosoftGraphClient {
  const reader = {
    async *getUsers() {
      yield* Object.values(snapshot.users);
    },
    async *getGroups() {
      yield* Object.values(snapshot.groups).map(g => g.group);
    },
    async *getGroupMembers(groupId: string) {
      const members = snapshot.groups[groupId]?.members ?? {};
      for (const [id, kind] of Object.entries(members)) {
        yield {
          '@odata.type': `#microsoft.graph.${kind}`,
          // What the service principal entities are built from; users and
          // groups are joined by id.
          ...(kind === 'servicePrincipal' && snapshot.servicePrincipals?.[id]),
          id,
        } as GroupMember;
      }
    },
    async getOrganization() {
      return snapshot.organization;
    },
    async getUserPhotoWithSizeLimit(userId: string, maxSize: number) {
      if (userId in snapshot.photos) return snapshot.photos[userId];
      const photo = await graph.getUserPhotoWithSizeLimit(userId, maxSize);
      if (photo) snapshot.photos[userId] = photo;
      return photo;
    },
  };
  return reader as unknown as MicrosoftGraphClient;
}

async function graphFailure(url: string, response: Response): Promise<Error> {
  let code = '';
  let message = '';
  try {
    const body = await response.json();
    code = body?.error?.code ?? '';
    message = body?.error?.message ?? '';
  } catch {
    // not JSON
  }
  const what = new URL(url).pathname.replace(
    /^.*\/(users|groups|servicePrincipals)\//,
    '$1/',
  );
  if (
    response.status === 410 ||
    code === 'syncStateNotFound' ||
    code === 'resyncRequired'
  ) {
    return new DeltaTokenExpiredError(
      `Graph no longer has delta state for ${what} (${response.status} ${code}): ${message}`,
    );
  }
  return new Error(
    `Graph answered ${what} with ${response.status}${code ? ` ${code}` : ''}${
      message ? `: ${message}` : ''
    }`,
  );
}

/** A delta walk from `url` to its deltaLink. */
export async function readDelta(
  client: ResilientGraphClient,
  url: string,
  signal?: AbortSignal,
): Promise<{ items: Array<Record<string, any>>; deltaLink: string }> {
  const items: Array<Record<string, any>> = [];
  let next = url;
  for (;;) {
    // Through the retrying client: a 429 on page 5 waits and asks page 5
    // again (the nextLink stays valid), it does not restart or skip pages.
    const response = await client.requestRaw(next, undefined, 0, signal);
    if (!response.ok) throw await graphFailure(next, response);
    const body = await response.json();
    items.push(...(body.value ?? []));
    if (body['@odata.deltaLink']) {
      return { items, deltaLink: body['@odata.deltaLink'] };
    }
    if (!body['@odata.nextLink']) {
      throw new Error(
        `Graph's delta answer for ${
          new URL(next).pathname
        } had neither a nextLink nor a deltaLink`,
      );
    }
    next = body['@odata.nextLink'];
  }
}

/**
 * A deltaLink for the directory as it is now. Asked before a full read, so
 * that whatever changes while the read goes on comes with the next round
 * (applying it twice is harmless). Graph's `$deltatoken=latest` answers
 * without the initial walk; where it is refused, the walk is made.
 */
export async function latestDeltaLink(
  client: ResilientGraphClient,
  url: string,
  signal?: AbortSignal,
): Promise<string> {
  const latest = new URL(url);
  latest.searchParams.set('$deltatoken', 'latest');
  try {
    return (await readDelta(client, latest.toString(), signal)).deltaLink;
  } catch (error) {
    if (signal?.aborted) throw error;
    return (await readDelta(client, url, signal)).deltaLink;
  }
}

/**
 * Reads service principals a delta round found in groups but the snapshot
 * has no properties for (`members@delta` carries only `id` and type), into
 * the snapshot. One that Graph no longer has (404) leaves its groups.
 */
export async function readMissingServicePrincipals(
  client: ResilientGraphClient,
  graphBase: string,
  snapshot: DirectorySnapshot,
  ids: string[],
  signal?: AbortSignal,
): Promise<void> {
  const sps = (snapshot.servicePrincipals ??= {});
  for (const id of ids) {
    const url = `${graphBase}/servicePrincipals/${encodeURIComponent(
      id,
    )}?$select=${SERVICE_PRINCIPAL_SELECT.join(',')}`;
    const response = await client.requestRaw(url, undefined, 0, signal);
    if (response.status === 404) {
      for (const g of Object.values(snapshot.groups)) delete g.members[id];
      continue;
    }
    if (!response.ok) throw await graphFailure(url, response);
    sps[id] = servicePrincipalOf(await response.json());
  }
}

/** What one delta round changed in the snapshot, by Graph object. */
export interface SnapshotChanges {
  users: number;
  groups: number;
  /** Known service principals Graph reported changed (absent when none). */
  servicePrincipals?: number;
}

/**
 * Applies delta items to the snapshot in place. Changed objects are merged
 * (Graph may send only the properties that changed); a group's
 * `members@delta` is merged across every page it appears on.
 */
export function applyDelta(
  snapshot: DirectorySnapshot,
  users: Array<Record<string, any>>,
  groups: Array<Record<string, any>>,
  servicePrincipals: Array<Record<string, any>> = [],
): SnapshotChanges & { unknownServicePrincipals: string[] } {
  const changedUsers = new Set<string>();
  const changedGroups = new Set<string>();
  const changedSps = new Set<string>();
  const sps = (snapshot.servicePrincipals ??= {});
  // Only those already in ingested groups: the tenant's other service
  // principals (Microsoft's own apps among them) are none of ours.
  for (const item of servicePrincipals) {
    const id = String(item.id);
    if (!(id in sps)) continue;
    changedSps.add(id);
    if (item['@removed']) delete sps[id];
    else sps[id] = { ...sps[id], ...servicePrincipalOf(item) };
  }
  for (const item of users) {
    const id = String(item.id);
    changedUsers.add(id);
    if (item['@removed']) {
      delete snapshot.users[id];
      delete snapshot.photos[id];
    } else {
      snapshot.users[id] = {
        ...snapshot.users[id],
        ...withoutAnnotations(item),
      };
    }
  }
  for (const item of groups) {
    const id = String(item.id);
    changedGroups.add(id);
    if (item['@removed']) {
      delete snapshot.groups[id];
      continue;
    }
    const entry = (snapshot.groups[id] ??= { group: { id }, members: {} });
    entry.group = { ...entry.group, ...withoutAnnotations(item) };
    for (const member of item['members@delta'] ?? []) {
      if (!member.id) continue;
      if (member['@removed']) delete entry.members[member.id];
      else entry.members[member.id] = memberKind(member);
    }
  }
  // Members whose properties the snapshot lacks (new in a group, or gone
  // from Graph); the poll reads them.
  const unknownServicePrincipals = new Set<string>();
  for (const { members } of Object.values(snapshot.groups)) {
    for (const [id, kind] of Object.entries(members)) {
      if (kind === 'servicePrincipal' && !(id in sps)) {
        unknownServicePrincipals.add(id);
      }
    }
  }
  return {
    users: changedUsers.size,
    groups: changedGroups.size,
    ...(changedSps.size && { servicePrincipals: changedSps.size }),
    unknownServicePrincipals: [...unknownServicePrincipals],
  };
}

const TABLE = 'entra_org_delta_state';

/**
 * Delta cursors and snapshots, in the catalog's database so that whichever
 * replica the scheduler runs the next round on continues where the last one
 * stopped. The cursor is written on its own when nothing changed, so a quiet
 * poll costs a small write, not the whole snapshot.
 */
export class DeltaStateStore {
  static async create(knex: Knex): Promise<DeltaStateStore> {
    if (!(await knex.schema.hasTable(TABLE))) {
      try {
        await knex.schema.createTable(TABLE, table => {
          table.string('provider_id').primary();
          table.text('cursor').notNullable();
          table.text('snapshot', 'longtext').notNullable();
          table.string('revision').notNullable();
        });
      } catch (error) {
        // Another replica created it first.
        if (!(await knex.schema.hasTable(TABLE))) throw error;
      }
    }
    return new DeltaStateStore(knex);
  }

  private constructor(private readonly knex: Knex) {}

  async get(providerId: string): Promise<DeltaState | undefined> {
    const row = await this.knex(TABLE)
      .where({ provider_id: providerId })
      .first();
    if (!row) return undefined;
    return {
      cursor: JSON.parse(row.cursor),
      snapshot: JSON.parse(row.snapshot),
      revision: row.revision,
    };
  }

  /** The cursor and the snapshot's revision, without the snapshot. */
  async meta(
    providerId: string,
  ): Promise<{ cursor: DeltaCursor; revision: string } | undefined> {
    const row = await this.knex(TABLE)
      .select('cursor', 'revision')
      .where({ provider_id: providerId })
      .first();
    return row
      ? { cursor: JSON.parse(row.cursor), revision: row.revision }
      : undefined;
  }

  async cursorOf(providerId: string): Promise<DeltaCursor | undefined> {
    const row = await this.knex(TABLE)
      .select('cursor')
      .where({ provider_id: providerId })
      .first();
    return row ? JSON.parse(row.cursor) : undefined;
  }

  async save(providerId: string, state: DeltaState): Promise<void> {
    const row = {
      cursor: JSON.stringify(state.cursor),
      snapshot: JSON.stringify(state.snapshot),
      revision: state.revision,
    };
    await this.knex(TABLE)
      .insert({ provider_id: providerId, ...row })
      .onConflict('provider_id')
      .merge(row);
  }

  async saveCursor(providerId: string, cursor: DeltaCursor): Promise<void> {
    await this.knex(TABLE)
      .where({ provider_id: providerId })
      .update({ cursor: JSON.stringify(cursor) });
  }

  async clear(providerId: string): Promise<void> {
    await this.knex(TABLE).where({ provider_id: providerId }).delete();
  }
}
