import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import knexFactory from 'knex';
import { FLOW_LIFETIME_MS, SignInFlowStore } from './signInFlows';

// The shared PostgreSQL of this machine (README: trust auth, user postgres);
// TestDatabases creates a database of its own per test run and drops it.
process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING ??= `postgresql://${
  process.env.POSTGRES_USER ?? 'postgres'
}${process.env.POSTGRES_PASSWORD ? `:${process.env.POSTGRES_PASSWORD}` : ''}@${
  process.env.POSTGRES_HOST ?? '127.0.0.1'
}:${process.env.POSTGRES_PORT ?? '5432'}`;

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });

describe.each(databases.eachSupportedId())('SignInFlowStore on %s', id => {
  it('hands a flow out once, to whichever store asks', async () => {
    const knex = await databases.init(id as TestDatabaseId);
    const a = await SignInFlowStore.create(knex);
    const b = await SignInFlowStore.create(knex);
    const started = await a.begin('state-1');
    expect(started.nonce).toMatch(/^[\w-]{43}$/);
    expect(started.codeVerifier).toMatch(/^[\w-]{43}$/);
    expect(await b.take('state-1')).toEqual(started);
    // Used: a replayed callback finds nothing.
    expect(await a.take('state-1')).toBeUndefined();
    expect(await b.take('never-started')).toBeUndefined();
  });

  it('gives every flow its own random secrets', async () => {
    const store = await SignInFlowStore.create(
      await databases.init(id as TestDatabaseId),
    );
    const one = await store.begin('state-a');
    const two = await store.begin('state-b');
    expect(one.nonce).not.toBe(two.nonce);
    expect(one.codeVerifier).not.toBe(two.codeVerifier);
  });

  it('refuses an expired flow and removes expired ones when the next starts', async () => {
    const knex = await databases.init(id as TestDatabaseId);
    let now = 1_000_000;
    const store = await SignInFlowStore.create(knex, { now: () => now });
    await store.begin('slow');
    await store.begin('slower');
    now += FLOW_LIFETIME_MS + 1;
    expect(await store.take('slow')).toBeUndefined();
    await store.begin('fresh');
    expect(await knex('entra_sign_in_flows').pluck('state_hash')).toHaveLength(
      1,
    );
  });

  it('stores a hash of the state, not the state', async () => {
    const knex = await databases.init(id as TestDatabaseId);
    const store = await SignInFlowStore.create(knex);
    await store.begin('the-state-value');
    const rows = await knex('entra_sign_in_flows').select();
    expect(JSON.stringify(rows)).not.toContain('the-state-value');
  });
});

describe('SignInFlowStore on two replicas of one PostgreSQL', () => {
  it('creates its table once when both start together, and shares flows', async () => {
    const first = await databases.init('POSTGRES_15');
    // A second connection pool to the same database: another replica.
    const second = knexFactory({
      client: 'pg',
      connection: (first.client as any).config.connection,
    });
    try {
      const [a, b] = await Promise.all([
        SignInFlowStore.create(first),
        SignInFlowStore.create(second),
      ]);
      const flow = await a.begin('cross-replica');
      expect(await b.take('cross-replica')).toEqual(flow);
      expect(await a.take('cross-replica')).toBeUndefined();
    } finally {
      await second.destroy();
    }
  });
});
