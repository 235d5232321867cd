import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { AuditEvent } from '@internal/plugin-audit-common';
import { Knex } from 'knex';
import { randomUUID as uuid } from 'node:crypto';
import {
  AuditStore,
  auditMigrationsDirectory,
  decodeCursor,
  encodeCursor,
} from './AuditStore';

process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING ??= `postgresql://${
  process.env.POSTGRES_USER ?? 'postgres'
}${process.env.POSTGRES_PASSWORD ? `:${process.env.POSTGRES_PASSWORD}` : ''}@${
  process.env.POSTGRES_HOST ?? '127.0.0.1'
}:${process.env.POSTGRES_PORT ?? '5432'}`;

// TestDatabases creates a database of its own per test run and drops it.
const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });

const CARLA = 'user:default/carla.chen';
const ROSA = 'user:default/rosa.ruiz';
const SHOP = 'component:default/shop';

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: uuid(),
    time: '2026-12-01T10:00:00.000Z',
    plugin: 'catalog',
    eventId: 'entity-mutate',
    action: 'catalog.entity-mutate',
    severity: 'medium',
    outcome: 'succeeded',
    actor: { kind: 'person', entityRef: CARLA, oid: 'oid-c', tid: 'tid-1' },
    request: { method: 'DELETE', route: '/api/catalog/entities/by-uid/1' },
    entityRefs: [],
    meta: {},
    ...overrides,
  };
}

async function storeFor(id: TestDatabaseId): Promise<{
  knex: Knex;
  store: AuditStore;
}> {
  const knex = await databases.init(id);
  await knex.migrate.latest({ directory: auditMigrationsDirectory() });
  return { knex, store: new AuditStore(knex) };
}

describe('cursor', () => {
  it('round-trips a seq and refuses anything else', () => {
    expect(decodeCursor(encodeCursor(12345))).toBe(12345);
    for (const bad of [
      '',
      'not base64!',
      Buffer.from('-1').toString('base64url'),
      Buffer.from('0').toString('base64url'),
      Buffer.from('1e3').toString('base64url'),
      Buffer.from('99999999999999999').toString('base64url'),
      'x'.repeat(100),
    ]) {
      expect(() => decodeCursor(bad)).toThrow(/Invalid cursor/);
    }
  });
});

describe.each(databases.eachSupportedId())('AuditStore on %p', databaseId => {
  it('stores an event as given and reads it back', async () => {
    const { store } = await storeFor(databaseId);
    const stored = event({
      actor: {
        kind: 'agent',
        entityRef: 'user:default/Carla.Chen',
        oid: 'oid-c',
        tid: 'tid-1',
        clientId: 'https://agents.example.com/client.json',
      },
      entityRefs: [SHOP],
      meta: { environment: 'production', nested: { a: [1, 'two'] } },
      outcome: 'failed',
      error: { name: 'NotAllowedError', message: 'no' },
    });
    await store.write([stored]);
    const page = await store.query({});
    expect(page).toEqual({ items: [stored] });
    // The person filter is case-insensitive: refs are stored lowercase.
    expect(
      (await store.query({ person: 'user:default/carla.chen' })).items,
    ).toHaveLength(1);
  });

  it('filters by person, action, event id, outcome, entity and time', async () => {
    const { store } = await storeFor(databaseId);
    const deploy = event({
      plugin: 'scaffolder',
      eventId: 'deploy',
      action: 'scaffolder.deploy',
      actor: { kind: 'person', entityRef: ROSA },
      entityRefs: [SHOP, 'Template:default/Deploy'],
      time: '2026-12-02T08:00:00.000Z',
    });
    const denied = event({
      plugin: 'permission',
      eventId: 'permission-denied',
      action: 'permission.permission-denied',
      outcome: 'failed',
      severity: 'high',
      entityRefs: [SHOP],
      time: '2026-12-03T08:00:00.000Z',
    });
    const mutate = event({ time: '2026-12-01T08:00:00.000Z' });
    const pluginDeploy = event({
      plugin: 'other',
      eventId: 'deploy',
      action: 'other.deploy',
      actor: { kind: 'plugin', plugin: 'other' },
      severity: 'low',
      time: '2026-12-04T08:00:00.000Z',
    });
    await store.write([mutate, deploy, denied, pluginDeploy]);

    const ids = async (filter: Parameters<AuditStore['query']>[0]) =>
      (await store.query(filter)).items.map(e => e.id);

    expect(await ids({})).toEqual([
      pluginDeploy.id,
      denied.id,
      deploy.id,
      mutate.id,
    ]);
    expect(await ids({ person: ROSA })).toEqual([deploy.id]);
    expect(await ids({ person: CARLA })).toEqual([denied.id, mutate.id]);
    expect(await ids({ person: 'user:default/nobody' })).toEqual([]);
    expect(await ids({ action: 'scaffolder.deploy' })).toEqual([deploy.id]);
    expect(await ids({ action: 'deploy' })).toEqual([
      pluginDeploy.id,
      deploy.id,
    ]);
    expect(await ids({ outcome: 'failed' })).toEqual([denied.id]);
    // at least that severity: the low plugin event is left out
    expect(await ids({ severity: 'medium' })).toEqual([
      denied.id,
      deploy.id,
      mutate.id,
    ]);
    expect(await ids({ severity: 'high' })).toEqual([denied.id]);
    expect(await ids({ severity: 'critical' })).toEqual([]);
    expect(await ids({ entity: SHOP })).toEqual([denied.id, deploy.id]);
    expect(await ids({ entity: 'template:default/deploy' })).toEqual([
      deploy.id,
    ]);
    expect(await ids({ entity: SHOP, outcome: 'failed' })).toEqual([denied.id]);
    expect(
      await ids({
        from: '2026-12-02T08:00:00.000Z',
        to: '2026-12-04T08:00:00.000Z',
      }),
    ).toEqual([denied.id, deploy.id]);
    expect(await ids({ from: '2026-12-05T00:00:00.000Z' })).toEqual([]);
  });

  it('stores a retried batch once, and duplicates inside a batch once', async () => {
    const { knex, store } = await storeFor(databaseId);
    const a = event({ entityRefs: [SHOP] });
    const b = event({ entityRefs: [SHOP, 'group:default/team'] });
    await store.write([a, b]);
    // The sink retries when it did not hear the commit: nothing doubles.
    await store.write([a, b, a]);
    const c = event();
    await store.write([b, c, c]);
    expect((await store.query({})).items.map(e => e.id)).toEqual([
      c.id,
      b.id,
      a.id,
    ]);
    const [{ n }] = await knex('audit_event_entities').count({ n: '*' });
    expect(Number(n)).toBe(3);
  });

  it('keeps a batch writable when an event carries hostile sizes', async () => {
    const { store } = await storeFor(databaseId);
    const longRef = `component:default/${'x'.repeat(5000)}`;
    const hostile = event({
      id: 'not-a-uuid',
      actor: {
        kind: 'agent',
        entityRef: `user:default/${'y'.repeat(400)}`,
        clientId: `https://agents.example.com/${'z'.repeat(3000)}`,
      },
      entityRefs: [longRef, SHOP],
      request: { method: 'GET', route: `/api/x/${'r'.repeat(5000)}` },
      time: 'not a time',
    });
    await store.write([hostile]);
    await store.write([hostile]);
    const { items } = await store.query({});
    expect(items).toHaveLength(1);
    expect(items[0].entityRefs).toEqual([longRef, SHOP]);
    expect(items[0].request?.route).toHaveLength(5007);
    expect((await store.query({ entity: SHOP })).items).toHaveLength(1);
  });

  it('pages newest first and keeps pages stable while events are written', async () => {
    const { store } = await storeFor(databaseId);
    const first: AuditEvent[] = [];
    for (let i = 0; i < 300; i++) {
      first.push(event({ meta: { i } }));
    }
    for (let i = 0; i < 300; i += 30) {
      await store.write(first.slice(i, i + 30));
    }

    const seen: string[] = [];
    let page = await store.query({}, { limit: 50 });
    seen.push(...page.items.map(e => e.id));

    // Another writer adds 300 more while the reader follows its cursors.
    const writer = (async () => {
      for (let i = 0; i < 30; i++) {
        await store.write(
          Array.from({ length: 10 }, () => event({ meta: { late: true } })),
        );
      }
    })();
    while (page.nextCursor) {
      page = await store.query({}, { limit: 50, cursor: page.nextCursor });
      seen.push(...page.items.map(e => e.id));
    }
    await writer;

    expect(seen).toHaveLength(300);
    expect(new Set(seen).size).toBe(300);
    expect(seen).toEqual(first.map(e => e.id).reverse());
    expect((await store.query({}, { limit: 500 })).items).toHaveLength(500);
  });

  it('refuses a bad limit or cursor', async () => {
    const { store } = await storeFor(databaseId);
    await expect(store.query({}, { limit: 0 })).rejects.toThrow(
      /Invalid limit/,
    );
    await expect(store.query({}, { limit: 501 })).rejects.toThrow(
      /Invalid limit/,
    );
    await expect(store.query({}, { cursor: 'abc!' })).rejects.toThrow(
      /Invalid cursor/,
    );
  });

  it('iterates every match page by page, up to a snapshot and a maximum', async () => {
    const { store } = await storeFor(databaseId);
    const events = Array.from({ length: 1203 }, (_, i) =>
      event({ outcome: i % 3 === 0 ? 'failed' : 'succeeded' }),
    );
    await store.write(events);
    const all: string[] = [];
    for await (const e of store.iterate({})) {
      all.push(e.id);
    }
    expect(all).toEqual(events.map(e => e.id).reverse());

    const failed: string[] = [];
    for await (const e of store.iterate({ outcome: 'failed' })) {
      failed.push(e.id);
    }
    expect(failed).toHaveLength(401);

    const snap = await store.snapshot({}, 1000);
    expect(snap.more).toBe(true);
    expect(await store.snapshot({}, 1203)).toEqual({
      maxSeq: snap.maxSeq,
      more: false,
    });
    await store.write([event()]);
    const capped: string[] = [];
    for await (const e of store.iterate(
      {},
      { max: 1000, maxSeq: snap.maxSeq },
    )) {
      capped.push(e.id);
    }
    expect(capped).toEqual(all.slice(0, 1000));
    expect(await store.snapshot({ person: 'user:default/none' }, 10)).toEqual({
      more: false,
    });
  });

  it('retention removes only events older than the cut-off, with their entity rows', async () => {
    const { knex, store } = await storeFor(databaseId);
    const old = Array.from({ length: 2345 }, (_, i) =>
      event({
        time: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
        entityRefs: [SHOP],
      }),
    );
    const boundary = event({
      time: '2026-01-01T00:00:00.000Z',
      entityRefs: [SHOP],
    });
    const recent = event({
      time: '2026-06-01T00:00:00.000Z',
      entityRefs: [SHOP, 'group:default/team'],
    });
    await store.write([...old, boundary, recent]);

    expect(await store.deleteOlderThan(new Date('2026-01-01T00:00:00Z'))).toBe(
      2345,
    );
    expect((await store.query({})).items.map(e => e.id)).toEqual([
      recent.id,
      boundary.id,
    ]);
    const entities = await knex('audit_event_entities').select(
      'event_id',
      'entity_ref',
    );
    expect(entities).toHaveLength(3);
    expect(entities).toEqual(
      expect.arrayContaining([
        { event_id: recent.id, entity_ref: 'component:default/shop' },
        { event_id: boundary.id, entity_ref: 'component:default/shop' },
        { event_id: recent.id, entity_ref: 'group:default/team' },
      ]),
    );
    expect(await store.deleteOlderThan(new Date('2026-01-01T00:00:00Z'))).toBe(
      0,
    );
  });
});
