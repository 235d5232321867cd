/*
 * The sink in front of the real store when the audit database goes away:
 * PostgreSQL refuses the store's connections (its database stops accepting
 * them and the open ones are terminated), events keep being accepted up to
 * the bound, the rest are counted, and once the database is back everything
 * kept is written, followed by one event saying how many were lost.
 */
import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { AuditEvent } from '@internal/plugin-audit-common';
import knexFactory, { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { AuditStore, auditMigrationsDirectory } from '../database/AuditStore';
import { BufferedAuditSink } from './BufferedAuditSink';

const pg = {
  host: process.env.POSTGRES_HOST ?? '127.0.0.1',
  port: Number(process.env.POSTGRES_PORT ?? 5432),
  user: process.env.POSTGRES_USER ?? 'postgres',
  password: process.env.POSTGRES_PASSWORD ?? '',
};
process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING ??= `postgresql://${
  pg.user
}${pg.password ? `:${pg.password}` : ''}@${pg.host}:${pg.port}`;

const databases = TestDatabases.create({ ids: ['POSTGRES_15'] });

function event(n: number): AuditEvent {
  return {
    id: randomUUID(),
    time: new Date(Date.UTC(2026, 11, 4, 10, 0, n)).toISOString(),
    plugin: 'catalog',
    eventId: 'entity-mutate',
    action: 'catalog.entity-mutate',
    severity: 'medium',
    outcome: 'succeeded',
    actor: { kind: 'person', entityRef: 'user:default/carla.chen' },
    entityRefs: [`component:default/c-${n}`],
    meta: { n },
  };
}

async function eventually(probe: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + 20_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise(r => setTimeout(r, 50));
  }
}

describe('the audit sink during a database outage', () => {
  let admin: Knex;
  let database: string;

  beforeAll(async () => {
    admin = knexFactory({
      client: 'pg',
      connection: { ...pg, database: 'postgres' },
    });
  });
  afterAll(async () => {
    if (database) {
      await admin.raw('ALTER DATABASE ?? WITH ALLOW_CONNECTIONS true', [
        database,
      ]);
    }
    await admin.destroy();
  });

  it('keeps up to maxEvents, counts the rest, and writes what it kept once the database answers', async () => {
    const knex = await databases.init('POSTGRES_15');
    await knex.migrate.latest({ directory: auditMigrationsDirectory() });
    database = (knex.client.config.connection as { database: string }).database;
    const store = new AuditStore(knex);
    const logger = mockServices.logger.mock();
    const sink = new BufferedAuditSink({
      logger,
      maxEvents: 20,
      flushIntervalMs: 20,
      maxBackoffMs: 100,
    });
    sink.attach(store);

    sink.enqueue(event(0));
    await eventually(() => sink.stats().written === 1);

    // The outage: no new connections, the open ones cut.
    await admin.raw('ALTER DATABASE ?? WITH ALLOW_CONNECTIONS false', [
      database,
    ]);
    await admin.raw(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()',
      [database],
    );
    for (let n = 1; n <= 30; n++) sink.enqueue(event(n));
    await eventually(() => sink.stats().lastError !== undefined);
    expect(sink.stats()).toMatchObject({
      buffered: 20,
      dropped: 10,
      written: 1,
    });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('audit.buffer.maxEvents'),
    );

    await admin.raw('ALTER DATABASE ?? WITH ALLOW_CONNECTIONS true', [
      database,
    ]);
    await eventually(
      () => sink.stats().buffered === 0 && sink.stats().written === 22,
    );
    expect(sink.stats().lastError).toBeUndefined();

    const stored = await store.query({}, { limit: 100 });
    const kept = stored.items.filter(e => e.eventId === 'entity-mutate');
    expect(
      kept.map(e => e.meta.n).sort((a, b) => Number(a) - Number(b)),
    ).toEqual(Array.from({ length: 21 }, (_, n) => n));
    const dropped = stored.items.filter(e => e.eventId === 'events-dropped');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({
      plugin: 'audit',
      action: 'audit.events-dropped',
      outcome: 'failed',
      severity: 'high',
      meta: { dropped: 10 },
    });
    await sink.shutdown();
  });
});
