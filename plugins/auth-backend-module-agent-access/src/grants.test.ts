import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { AgentGrantStore, tokenHash } from './grants';
import { migrateAgentAccess } from './migrations';

// The shared PostgreSQL of this machine (trust auth, user postgres);
// TestDatabases creates a database of its own per test run and drops it.
process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING ??= `postgresql://${
  process.env.POSTGRES_USER ?? 'postgres'
}${process.env.POSTGRES_PASSWORD ? `:${process.env.POSTGRES_PASSWORD}` : ''}@${
  process.env.POSTGRES_HOST ?? '127.0.0.1'
}:${process.env.POSTGRES_PORT ?? '5432'}`;

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });

const CARLA = 'user:default/carla.chen';
const ROSA = 'user:default/rosa.ruiz';
const AGENT = 'https://agents.example.com/client.json';
const OTHER_AGENT = 'https://other.example.com/client.json';
const DAY = 24 * 3600_000;

/** The auth plugin's own schema (upstream's migrations), then this module's. */
async function authDatabase(id: TestDatabaseId): Promise<Knex> {
  const knex = await databases.init(id);
  await knex.migrate.latest({
    directory: resolvePackagePath(
      '@backstage/plugin-auth-backend',
      'migrations',
    ),
  });
  await migrateAgentAccess(knex);
  return knex;
}

const offlineSession = (id: string, user: string, client: string) => ({
  id,
  user_entity_ref: user,
  oidc_client_id: client,
  token_hash: 'salt.hash',
});

describe.each(databases.eachSupportedId())('AgentGrantStore on %s', id => {
  it('keeps one live grant per person and client, renewed on approval', async () => {
    const store = new AgentGrantStore(
      await authDatabase(id as TestDatabaseId),
      7 * DAY,
    );
    const first = await store.approve({
      userEntityRef: CARLA,
      clientId: AGENT,
      clientName: 'Build Assistant',
    });
    const again = await store.approve({
      userEntityRef: CARLA,
      clientId: AGENT,
      clientName: 'Build Assistant 2',
    });
    expect(again.id).toBe(first.id);
    expect(again.clientName).toBe('Build Assistant 2');
    const other = await store.approve({
      userEntityRef: CARLA,
      clientId: OTHER_AGENT,
      clientName: 'Other',
    });
    expect(other.id).not.toBe(first.id);
    expect((await store.listLive(CARLA)).map(g => g.id).sort()).toEqual(
      [first.id, other.id].sort(),
    );
    expect(await store.listLive(ROSA)).toEqual([]);
    expect(Date.parse(first.expiresAt) - Date.parse(first.createdAt)).toBe(
      7 * DAY,
    );
  });

  it('finds a grant by an unexpired token it issued, and only by that', async () => {
    const store = new AgentGrantStore(
      await authDatabase(id as TestDatabaseId),
      DAY,
    );
    const grant = await store.approve({
      userEntityRef: CARLA,
      clientId: AGENT,
      clientName: 'A',
    });
    await store.bindToken(grant.id, 'token-1', new Date(Date.now() + 60_000));
    await store.bindToken(grant.id, 'token-old', new Date(Date.now() - 1000));
    expect((await store.findByToken('token-1'))?.id).toBe(grant.id);
    expect(await store.findByToken('token-old')).toBeUndefined();
    expect(await store.findByToken('token-never-issued')).toBeUndefined();
    expect((await store.get(grant.id))?.lastUsedAt).toEqual(expect.any(String));
  });

  it('stores tokens only as their sha256', async () => {
    const knex = await authDatabase(id as TestDatabaseId);
    const store = new AgentGrantStore(knex, DAY);
    const grant = await store.approve({
      userEntityRef: CARLA,
      clientId: AGENT,
      clientName: 'A',
    });
    await store.bindToken(
      grant.id,
      'secret-token',
      new Date(Date.now() + 60_000),
    );
    const rows = await knex('agent_access_tokens').select();
    expect(rows.map(r => r.token_hash)).toEqual([tokenHash('secret-token')]);
    expect(JSON.stringify(rows)).not.toContain('secret-token');
  });

  it("revokes: tokens dead, that client's refresh sessions for that person gone, nothing else", async () => {
    const knex = await authDatabase(id as TestDatabaseId);
    const store = new AgentGrantStore(knex, DAY);
    const grant = await store.approve({
      userEntityRef: CARLA,
      clientId: AGENT,
      clientName: 'A',
    });
    await store.bindToken(grant.id, 'token-1', new Date(Date.now() + 60_000));
    await knex('offline_sessions').insert([
      offlineSession('s-carla-agent', CARLA, AGENT),
      offlineSession('s-carla-other', CARLA, OTHER_AGENT),
      offlineSession('s-rosa-agent', ROSA, AGENT),
    ]);

    await store.revoke(grant.id, CARLA);

    expect(await store.findByToken('token-1')).toBeUndefined();
    expect(await store.findLive(CARLA, AGENT)).toBeUndefined();
    expect(await store.listLive(CARLA)).toEqual([]);
    expect(await store.get(grant.id)).toEqual(
      expect.objectContaining({
        revokedAt: expect.any(String),
        revokedBy: CARLA,
      }),
    );
    const left = await knex('offline_sessions').orderBy('id').pluck('id');
    expect(left).toEqual(['s-carla-other', 's-rosa-agent']);

    // Approving again starts a new grant; the revoked one stays revoked.
    const renewed = await store.approve({
      userEntityRef: CARLA,
      clientId: AGENT,
      clientName: 'A',
    });
    expect(renewed.id).not.toBe(grant.id);
  });

  it('treats an expired grant as gone', async () => {
    const store = new AgentGrantStore(
      await authDatabase(id as TestDatabaseId),
      -1,
    );
    const grant = await store.approve({
      userEntityRef: CARLA,
      clientId: AGENT,
      clientName: 'A',
    });
    await store.bindToken(grant.id, 'token-1', new Date(Date.now() + 60_000));
    expect(await store.findLive(CARLA, AGENT)).toBeUndefined();
    expect(await store.findByToken('token-1')).toBeUndefined();
    expect(await store.listLive(CARLA)).toEqual([]);
  });

  it('migrates twice without change', async () => {
    const knex = await authDatabase(id as TestDatabaseId);
    await expect(migrateAgentAccess(knex)).resolves.toBeUndefined();
  });
});
