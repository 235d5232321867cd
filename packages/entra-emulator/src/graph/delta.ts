import { randomUUID } from 'node:crypto';
import { Request } from 'express';
import { EmulatorContext } from '../context';
import { Directory } from '../seed/directory';
import { readSelect } from './collection';
import { GraphError, graphErrors } from './errors';
import {
  groupResource,
  project,
  servicePrincipalResource,
  userResource,
} from './representations';

type Resource = 'users' | 'groups' | 'servicePrincipals';

/** Objects per delta page when the client sets no `Prefer: odata.maxpagesize`. */
const DEFAULT_PAGE_SIZE = 100;
/**
 * Member references per page. Graph spreads a big group's `members@delta`
 * over several pages (the group appears once per page); this makes a group of
 * a few thousand members do the same.
 */
const MEMBER_REFS_PER_PAGE = 1000;
/** Paged walks kept for `$skiptoken` (oldest dropped first). */
const MAX_SESSIONS = 200;

type DeltaRecord = Record<string, unknown> & { id: string };

interface Session {
  resource: Resource;
  pages: DeltaRecord[][];
  /** Change sequence number the walk's deltaLink continues from. */
  seq: number;
  select?: string[];
}

interface DeltaToken {
  r: Resource;
  s: number;
  sel?: string[];
}

const TOKEN_PREFIX = 'ZGVsdGE';

function encode(value: unknown): string {
  return `${TOKEN_PREFIX}${Buffer.from(JSON.stringify(value)).toString(
    'base64url',
  )}`;
}

function decode<T>(token: string): T | undefined {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  try {
    return JSON.parse(
      Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString(
        'utf8',
      ),
    ) as T;
  } catch {
    return undefined;
  }
}

/** Graph's answer to a delta token it no longer (or never) had state for. */
export function syncStateNotFound(): GraphError {
  return new GraphError(
    410,
    'syncStateNotFound',
    'The delta token has expired or is not valid. Synchronize again from the start: call delta without a token.',
  );
}

/**
 * `GET /users/delta` and `GET /groups/delta` with Graph's wire shapes: the
 * first call (no token) pages through every object, later calls with the
 * `@odata.deltaLink` return only what changed since. Removed objects come as
 * `{id, "@removed": {reason}}` (`changed` for a soft-deleted user that can
 * still be restored, `deleted` for good); groups carry `members@delta` (when
 * `$select` names `members`) with removed members marked the same way. The
 * answer is computed from the directory's change log; a token from before
 * the log's floor answers 410 `syncStateNotFound`.
 */
export class DeltaQueries {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly ctx: EmulatorContext) {}

  answer(req: Request, resource: Resource): Record<string, unknown> {
    const q = req.query as Record<string, string | undefined>;
    const directory = this.ctx.directory;
    let session: Session;
    let offset = 0;
    if (q.$skiptoken !== undefined) {
      const skip = decode<{ id: string; p: number }>(q.$skiptoken);
      const found = skip && this.sessions.get(skip.id);
      if (
        !found ||
        found.resource !== resource ||
        !(skip.p < found.pages.length)
      )
        throw graphErrors.badSkipToken();
      session = found;
      offset = skip.p;
    } else if (q.$deltatoken !== undefined) {
      if (q.$deltatoken === 'latest') {
        // Graph's shortcut: a deltaLink for now, without reading anything.
        session = {
          resource,
          pages: [[]],
          seq: directory.changeSeq,
          select: readSelect(req),
        };
      } else {
        const token = decode<DeltaToken>(q.$deltatoken);
        if (
          !token ||
          token.r !== resource ||
          typeof token.s !== 'number' ||
          token.s < directory.deltaFloor ||
          token.s > directory.changeSeq
        )
          throw syncStateNotFound();
        session = this.start(resource, token.sel, token.s, req);
      }
    } else {
      session = this.start(resource, readSelect(req), undefined, req);
    }

    const path = `${req.baseUrl}${req.path}`;
    const pageFault = this.ctx.faults.take(
      path,
      req.method,
      ['failPage'],
      r => r.page === offset + 1,
    );
    if (pageFault) throw graphErrors.pageFault(pageFault.status ?? 503);

    const base = `${req.protocol}://${req.headers.host}${req.baseUrl}/${resource}/delta`;
    const body: Record<string, unknown> = {
      '@odata.context': `${this.ctx.urls.graphBaseUrl}/$metadata#${resource}(${(
        session.select ?? []
      ).join(',')})`,
    };
    const last = offset + 1 >= session.pages.length;
    if (last) {
      body['@odata.deltaLink'] = `${base}?$deltatoken=${encode({
        r: resource,
        s: session.seq,
        sel: session.select,
      } satisfies DeltaToken)}`;
    } else {
      const id = this.keep(session);
      body['@odata.nextLink'] = `${base}?$skiptoken=${encode({
        id,
        p: offset + 1,
      })}`;
    }
    body.value = session.pages[offset];
    return body;
  }

  private keep(session: Session): string {
    for (const [id, s] of this.sessions) if (s === session) return id;
    const id = randomUUID();
    this.sessions.set(id, session);
    if (this.sessions.size > MAX_SESSIONS) {
      this.sessions.delete(this.sessions.keys().next().value!);
    }
    return id;
  }

  /**
   * Computes a whole walk up front, so that changes made while a client
   * pages through it neither shift nor skip objects; they come with the next
   * round (whose token starts from this walk's sequence number).
   */
  private start(
    resource: Resource,
    select: string[] | undefined,
    since: number | undefined,
    req?: Request,
  ): Session {
    const directory = this.ctx.directory;
    const seq = directory.changeSeq;
    const records = {
      users: userRecords,
      groups: groupRecords,
      servicePrincipals: servicePrincipalRecords,
    }[resource](directory, select, since);
    const pageSize = req ? maxPageSize(req) : DEFAULT_PAGE_SIZE;
    const pages: DeltaRecord[][] = [[]];
    let refs = 0;
    for (const record of records) {
      const n = (record['members@delta'] as unknown[] | undefined)?.length ?? 0;
      const page = pages[pages.length - 1];
      if (
        page.length > 0 &&
        (page.length >= pageSize || refs + n > MEMBER_REFS_PER_PAGE)
      ) {
        pages.push([record]);
        refs = n;
      } else {
        page.push(record);
        refs += n;
      }
    }
    return { resource, pages, seq, select };
  }
}

function maxPageSize(req: Request): number {
  const m = /odata\.maxpagesize=(\d+)/i.exec(String(req.headers.prefer ?? ''));
  const n = m ? Number(m[1]) : DEFAULT_PAGE_SIZE;
  return n >= 1 ? Math.min(n, 999) : DEFAULT_PAGE_SIZE;
}

/** Ids changed after `since` (all entries when `since` is undefined). */
function changedSince(directory: Directory, since: number) {
  const objects = {
    user: new Set<string>(),
    group: new Set<string>(),
    servicePrincipal: new Set<string>(),
  };
  const members = new Map<string, Set<string>>();
  // The log is in order: walk back from the end to the first newer entry.
  const changes = directory.changes;
  let i = changes.length;
  while (i > 0 && changes[i - 1].seq > since) i--;
  for (const c of changes.slice(i)) {
    if (c.kind === 'member') {
      const set = members.get(c.groupId) ?? new Set<string>();
      set.add(c.memberId);
      members.set(c.groupId, set);
    } else {
      objects[c.kind].add(c.id);
    }
  }
  return { ...objects, members };
}

function userRecords(
  directory: Directory,
  select: string[] | undefined,
  since: number | undefined,
): DeltaRecord[] {
  const ids =
    since === undefined
      ? directory.users.map(u => u.id)
      : [...changedSince(directory, since).user];
  return ids.map(id => {
    const user = directory.usersById.get(id);
    if (user) return { ...project(userResource(user), select, false), id };
    return {
      id,
      '@removed': {
        reason: directory.deletedUsers.has(id) ? 'changed' : 'deleted',
      },
    };
  });
}

/**
 * Seeded service principals (the emulator knows no others); every one on
 * the first walk, those changed (enabled or disabled) after.
 */
function servicePrincipalRecords(
  directory: Directory,
  select: string[] | undefined,
  since: number | undefined,
): DeltaRecord[] {
  const ids =
    since === undefined
      ? [...directory.servicePrincipalsById.keys()]
      : [...changedSince(directory, since).servicePrincipal];
  return ids.map(id => {
    const app = directory.servicePrincipalsById.get(id)!;
    return {
      ...project(
        servicePrincipalResource(app, directory.tenantId),
        select,
        false,
      ),
      id,
    };
  });
}

function memberType(directory: Directory, id: string): string {
  if (directory.servicePrincipalsById.has(id)) {
    return '#microsoft.graph.servicePrincipal';
  }
  const isGroup =
    directory.groupsById.has(id) ||
    (!directory.usersById.has(id) &&
      !directory.deletedUsers.has(id) &&
      directory.changes.some(c => c.kind === 'group' && c.id === id));
  return isGroup ? '#microsoft.graph.group' : '#microsoft.graph.user';
}

function memberRef(directory: Directory, id: string, removed: boolean) {
  return {
    '@odata.type': memberType(directory, id),
    id,
    ...(removed && { '@removed': { reason: 'deleted' } }),
  };
}

function groupRecords(
  directory: Directory,
  select: string[] | undefined,
  since: number | undefined,
): DeltaRecord[] {
  const withMembers = select?.some(s => s.toLowerCase() === 'members') ?? false;
  const properties = select?.filter(s => s.toLowerCase() !== 'members');
  let entries: Array<{ id: string; members: string[] | undefined }>;
  if (since === undefined) {
    entries = directory.groups.map(g => ({ id: g.id, members: g.members }));
  } else {
    const changed = changedSince(directory, since);
    const ids = new Set([...changed.group, ...changed.members.keys()]);
    entries = [...ids].map(id => ({
      id,
      members: [...(changed.members.get(id) ?? [])],
    }));
  }
  const records: DeltaRecord[] = [];
  for (const { id, members } of entries) {
    const group = directory.groupsById.get(id);
    if (!group) {
      records.push({ id, '@removed': { reason: 'deleted' } });
      continue;
    }
    const head = {
      ...project(groupResource(group), properties, false),
      id,
    };
    if (!withMembers) {
      records.push(head);
      continue;
    }
    const current = new Set(group.members);
    const refs = (members ?? []).map(m =>
      memberRef(directory, m, !current.has(m)),
    );
    // The group's first appearance has its properties; later ones (more
    // members of a big group) only its id, as Graph's do.
    records.push({
      ...head,
      'members@delta': refs.slice(0, MEMBER_REFS_PER_PAGE),
    });
    for (
      let i = MEMBER_REFS_PER_PAGE;
      i < refs.length;
      i += MEMBER_REFS_PER_PAGE
    ) {
      records.push({
        id,
        'members@delta': refs.slice(i, i + MEMBER_REFS_PER_PAGE),
      });
    }
  }
  return records;
}
