import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  AUDIT_SEVERITIES,
  AuditActor,
  AuditEvent,
  AuditEventFilter,
  AuditEventPage,
} from '@internal/plugin-audit-common';
import { Knex } from 'knex';
import { createHash } from 'node:crypto';
import { AuditEventWriter } from '../sink/types';

const EVENTS = 'audit_events';
const ENTITIES = 'audit_event_entities';

/** Rows per INSERT: PostgreSQL takes at most 65535 bindings per statement. */
const INSERT_CHUNK = 500;
/** Rows per DELETE transaction: retention never holds a long lock. */
const DELETE_BATCH = 1000;
/** Rows per page read by `iterate` (the export). */
const ITERATE_PAGE = 500;

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;

/** varchar(255) columns: PostgreSQL refuses longer values. */
const MAX_STRING = 255;
const MAX_CLIENT_ID = 2048;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Where the migrations live, for `knex.migrate.latest`. */
export const auditMigrationsDirectory = () =>
  resolvePackagePath('@internal/plugin-audit-backend', 'migrations');

type EventRow = {
  seq: number | string;
  id: string;
  occurred_at: Date | number | string;
  plugin: string;
  event_id: string;
  action: string;
  severity: string;
  outcome: string;
  actor_kind: string;
  actor_ref: string | null;
  actor_oid: string | null;
  actor_tid: string | null;
  actor_app_id: string | null;
  actor_client_id: string | null;
  actor: string;
  request_method: string | null;
  request_route: string | null;
  entity_refs: string;
  meta: string;
  error: string | null;
};

/** Options of `AuditStore.query`. */
export interface AuditQueryOptions {
  /** Page size, 1 to 500 (default 50). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** Options of `AuditStore.iterate`. */
export interface AuditIterateOptions {
  /** Stop after this many events. */
  max?: number;
  /** Only events with a seq at most this (an export's snapshot). */
  maxSeq?: number;
}

/** The opaque cursor: base64url of the last seq of a page. */
export function encodeCursor(seq: number): string {
  return Buffer.from(String(seq), 'utf8').toString('base64url');
}

/** Reads a cursor made by `encodeCursor`; anything else is an InputError. */
export function decodeCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,24}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  const seq = /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(seq)) {
    throw new InputError(
      'Invalid cursor: pass the nextCursor of the previous page unchanged, or no cursor for the newest page',
    );
  }
  return seq;
}

function lower(value: string | undefined): string | null {
  return value ? value.toLocaleLowerCase('en-US') : null;
}

function clip(value: string | undefined | null, max = MAX_STRING) {
  if (value === undefined || value === null) {
    return null;
  }
  return value.length > max ? value.slice(0, max) : value;
}

/**
 * The stored id: the event's own when it is a UUID (the sink makes v4 ids);
 * otherwise a UUID derived from it, so that a retry of the same batch still
 * meets the unique index instead of failing the whole batch on PostgreSQL's
 * uuid type.
 */
function storedId(id: string): string {
  if (UUID.test(id)) {
    return id.toLowerCase();
  }
  const hex = createHash('sha256').update(String(id)).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(
    13,
    16,
  )}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function toRow(event: AuditEvent): Omit<EventRow, 'seq'> {
  const actor: AuditActor = event.actor ?? { kind: 'anonymous' };
  const time = new Date(event.time);
  return {
    id: storedId(event.id),
    // An unreadable time must not make the batch unwritable forever.
    occurred_at: Number.isNaN(time.getTime()) ? new Date() : time,
    plugin: clip(event.plugin) ?? '',
    event_id: clip(event.eventId) ?? '',
    action: clip(event.action) ?? '',
    severity: clip(event.severity, 16) ?? 'low',
    outcome: clip(event.outcome, 16) ?? 'initiated',
    actor_kind: clip(actor.kind, 16) ?? 'anonymous',
    actor_ref: clip(lower(actor.entityRef)),
    actor_oid: clip(actor.oid),
    actor_tid: clip(actor.tid),
    actor_app_id: clip(actor.appId),
    actor_client_id: clip(actor.clientId, MAX_CLIENT_ID),
    actor: JSON.stringify(actor),
    request_method: clip(event.request?.method, 16),
    request_route: event.request?.route ?? null,
    entity_refs: JSON.stringify(event.entityRefs ?? []),
    meta: JSON.stringify(event.meta ?? {}),
    error: event.error ? JSON.stringify(event.error) : null,
  };
}

function fromRow(row: EventRow): AuditEvent {
  const event: AuditEvent = {
    id: row.id,
    time: new Date(
      typeof row.occurred_at === 'string' && /^\d+$/.test(row.occurred_at)
        ? Number(row.occurred_at)
        : row.occurred_at,
    ).toISOString(),
    plugin: row.plugin,
    eventId: row.event_id,
    action: row.action,
    severity: row.severity as AuditEvent['severity'],
    outcome: row.outcome as AuditEvent['outcome'],
    actor: JSON.parse(row.actor),
    entityRefs: JSON.parse(row.entity_refs),
    meta: JSON.parse(row.meta),
  };
  if (row.request_method || row.request_route) {
    event.request = {
      method: row.request_method ?? '',
      route: row.request_route ?? '',
    };
  }
  if (row.error) {
    event.error = JSON.parse(row.error);
  }
  return event;
}

/** Entity refs for the entity filter: lowercase, unique, indexable. */
function entityRowsOf(event: AuditEvent): string[] {
  const refs = new Set<string>();
  for (const ref of event.entityRefs ?? []) {
    // A ref too long for the index stays in entity_refs; it names no
    // entity the catalog can hold anyway.
    if (typeof ref === 'string' && ref && ref.length <= MAX_STRING) {
      refs.add(ref.toLocaleLowerCase('en-US'));
    }
  }
  return [...refs];
}

/**
 * The audit trail's database: written by the sink in batches, read by the
 * routes newest first, pruned by the retention task.
 */
export class AuditStore implements AuditEventWriter {
  /** Runs the migrations (unless the backend skips them) and opens the store. */
  static async create(database: DatabaseService): Promise<AuditStore> {
    const knex = await database.getClient();
    if (!database.migrations?.skip) {
      await knex.migrate.latest({ directory: auditMigrationsDirectory() });
    }
    return new AuditStore(knex);
  }

  constructor(private readonly knex: Knex) {}

  /**
   * Stores a batch in one transaction: all of it or none, so the sink can
   * retry a failed batch; events already stored (same id) are skipped, so
   * the retry of a batch whose commit answer was lost stores nothing twice.
   */
  async write(events: AuditEvent[]): Promise<void> {
    if (events.length === 0) {
      return;
    }
    const byId = new Map<string, AuditEvent>();
    for (const event of events) {
      byId.set(storedId(event.id), event);
    }
    await this.knex.transaction(async tx => {
      const rows = [...byId.values()].map(toRow);
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const inserted: Array<{ seq: number | string; id: string }> = await tx(
          EVENTS,
        )
          .insert(rows.slice(i, i + INSERT_CHUNK))
          .onConflict('id')
          .ignore()
          .returning(['seq', 'id']);
        const entityRows = inserted.flatMap(({ seq, id }) =>
          entityRowsOf(byId.get(id)!).map(entity_ref => ({
            event_seq: Number(seq),
            event_id: id,
            entity_ref,
          })),
        );
        for (let j = 0; j < entityRows.length; j += INSERT_CHUNK * 3) {
          await tx(ENTITIES).insert(entityRows.slice(j, j + INSERT_CHUNK * 3));
        }
      }
    });
  }

  /**
   * One page, newest first. The cursor is the last seq of the previous page:
   * events written meanwhile have higher seqs, so they never shift a page.
   */
  async query(
    filter: AuditEventFilter,
    options: AuditQueryOptions = {},
  ): Promise<AuditEventPage> {
    const limit = options.limit ?? DEFAULT_PAGE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
      throw new InputError(
        `Invalid limit: give a whole number from 1 to ${MAX_PAGE_LIMIT}`,
      );
    }
    const before =
      options.cursor !== undefined ? decodeCursor(options.cursor) : undefined;
    const rows: EventRow[] = await this.filtered(filter, { before })
      .orderBy('seq', 'desc')
      .limit(limit + 1);
    const items = rows.slice(0, limit);
    const page: AuditEventPage = { items: items.map(fromRow) };
    if (rows.length > limit) {
      page.nextCursor = encodeCursor(Number(items[items.length - 1].seq));
    }
    return page;
  }

  /**
   * Every matching event, newest first, read page by page so that an export
   * of a million events holds one page in memory at a time.
   */
  async *iterate(
    filter: AuditEventFilter,
    options: AuditIterateOptions = {},
  ): AsyncGenerator<AuditEvent> {
    let remaining = options.max ?? Infinity;
    let before = options.maxSeq !== undefined ? options.maxSeq + 1 : undefined;
    while (remaining > 0) {
      const rows: EventRow[] = await this.filtered(filter, { before })
        .orderBy('seq', 'desc')
        .limit(Math.min(ITERATE_PAGE, remaining));
      for (const row of rows) {
        yield fromRow(row);
      }
      remaining -= rows.length;
      if (rows.length < ITERATE_PAGE) {
        return;
      }
      before = Number(rows[rows.length - 1].seq);
    }
  }

  /**
   * The seq of the newest matching event and whether more than `max` match,
   * both as of now: an export streams up to that seq, so what is written
   * during the download neither shows up in it nor displaces older events.
   */
  async snapshot(
    filter: AuditEventFilter,
    max: number,
  ): Promise<{ maxSeq?: number; more: boolean }> {
    const newest = await this.filtered(filter, {})
      .orderBy('seq', 'desc')
      .first('seq');
    if (!newest) {
      return { more: false };
    }
    const maxSeq = Number(newest.seq);
    const beyond = await this.filtered(filter, { before: maxSeq + 1 })
      .orderBy('seq', 'desc')
      .offset(max)
      .first('seq');
    return { maxSeq, more: Boolean(beyond) };
  }

  /**
   * Removes events that occurred before `cutoff` with their entity rows, a
   * batch per transaction; answers how many events it removed.
   */
  async deleteOlderThan(cutoff: Date): Promise<number> {
    let removed = 0;
    for (;;) {
      const deleted = await this.knex.transaction(async tx => {
        const seqs = (
          await tx(EVENTS)
            .where('occurred_at', '<', cutoff)
            .orderBy('seq', 'asc')
            .limit(DELETE_BATCH)
            .select('seq')
        ).map(row => Number(row.seq));
        if (seqs.length === 0) {
          return 0;
        }
        await tx(ENTITIES).whereIn('event_seq', seqs).delete();
        await tx(EVENTS).whereIn('seq', seqs).delete();
        return seqs.length;
      });
      removed += deleted;
      if (deleted < DELETE_BATCH) {
        return removed;
      }
    }
  }

  private filtered(filter: AuditEventFilter, options: { before?: number }) {
    const query = this.knex<EventRow>(EVENTS);
    if (filter.person) {
      query.where('actor_ref', lower(filter.person));
    }
    if (filter.action) {
      query.where(
        filter.action.includes('.') ? 'action' : 'event_id',
        filter.action,
      );
    }
    if (filter.outcome) {
      query.where('outcome', filter.outcome);
    }
    if (filter.severity) {
      query.whereIn(
        'severity',
        AUDIT_SEVERITIES.slice(AUDIT_SEVERITIES.indexOf(filter.severity)),
      );
    }
    if (filter.entity) {
      query.whereIn(
        'seq',
        this.knex(ENTITIES)
          .select('event_seq')
          .where('entity_ref', lower(filter.entity)),
      );
    }
    if (filter.from) {
      query.where('occurred_at', '>=', new Date(filter.from));
    }
    if (filter.to) {
      query.where('occurred_at', '<', new Date(filter.to));
    }
    if (options.before !== undefined) {
      query.where('seq', '<', options.before);
    }
    return query;
  }
}
