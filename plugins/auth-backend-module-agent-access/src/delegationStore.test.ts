import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { DelegationCipher, DelegationStore } from './delegationStore';
import { AgentGrantStore } from './grants';
import { migrateAgentAccess } from './migrations';

process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING ??= `postgresql://${
  process.env.POSTGRES_USER ?? 'postgres'
}${process.env.POSTGRES_PASSWORD ? `:${process.env.POSTGRES_PASSWORD}` : ''}@${
  process.env.POSTGRES_HOST ?? '127.0.0.1'
}:${process.env.POSTGRES_PORT ?? '5432'}`;

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });

const CARLA = 'user:default/carla.chen';
const ROSA = 'user:default/rosa.ruiz';
const AGENT = 'https://agents.example.com/client.json';
const K1 = { id: 'k1', secret: 'first-key-0123456789abcdef-0123456789' };
const K2 = { id: 'k2', secret: 'second-key-0123456789abcdef-012345678' };
const MSAL_CACHE = JSON.stringify({ RefreshToken: { x: { secret: 'rt-1' } } });

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

describe('DelegationCipher', () => {
  const cipher = new DelegationCipher([K1]);

  it('decrypts only with the same additional data', () => {
    const sealed = cipher.encrypt(MSAL_CACHE, 'd1|carla|agent');
    expect(sealed.ciphertext).not.toContain('rt-1');
    expect(cipher.decrypt(sealed, 'd1|carla|agent')).toBe(MSAL_CACHE);
    expect(() => cipher.decrypt(sealed, 'd1|rosa|agent')).toThrow();
  });

  it('refuses a changed ciphertext or iv', () => {
    const sealed = cipher.encrypt(MSAL_CACHE, 'aad');
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[3] ^= 0x40;
    expect(() =>
      cipher.decrypt(
        { ...sealed, ciphertext: bytes.toString('base64') },
        'aad',
      ),
    ).toThrow();
    const iv = Buffer.from(sealed.iv, 'base64');
    iv[0] ^= 1;
    expect(() =>
      cipher.decrypt({ ...sealed, iv: iv.toString('base64') }, 'aad'),
    ).toThrow();
  });

  it('decrypts with an older key after rotation, and refuses an unknown key', () => {
    const old = new DelegationCipher([K1]).encrypt(MSAL_CACHE, 'aad');
    const rotated = new DelegationCipher([K2, K1]);
    expect(rotated.decrypt(old, 'aad')).toBe(MSAL_CACHE);
    expect(rotated.encrypt('x', 'aad').keyId).toBe('k2');
    expect(() => new DelegationCipher([K2]).decrypt(old, 'aad')).toThrow(
      'encryption key k1 is no longer configured',
    );
  });

  it('verifies only what it signed', () => {
    const signed = cipher.sign({ g: 'grant', u: CARLA });
    expect(cipher.verify(signed)).toEqual({ g: 'grant', u: CARLA });
    const [body, mac] = signed.split('.');
    const forged = Buffer.from(
      JSON.stringify({ g: 'grant', u: ROSA }),
    ).toString('base64url');
    expect(cipher.verify(`${forged}.${mac}`)).toBeUndefined();
    expect(cipher.verify(`${body}.${mac}x`)).toBeUndefined();
    expect(new DelegationCipher([K2]).verify(signed)).toBeUndefined();
    expect(cipher.verify(undefined)).toBeUndefined();
  });
});

describe.each(databases.eachSupportedId())('DelegationStore on %s', id => {
  async function setup() {
    const db = await authDatabase(id as TestDatabaseId);
    const store = new DelegationStore(db, new DelegationCipher([K1]));
    const activate = async (user: string) => {
      const d = await store.createPending({
        userEntityRef: user,
        clientId: AGENT,
        sessionId: `session-${user}`,
        pkceVerifier: 'verifier',
      });
      await store.activate(
        d,
        `${MSAL_CACHE}-${user}`,
        { oid: 'oid', tid: 'tid' },
        new Date(Date.now() + 3600_000),
      );
      return d;
    };
    return { db, store, activate };
  }

  it("refuses to open one person's ciphertext moved into another person's row", async () => {
    const { db, store, activate } = await setup();
    const carla = await activate(CARLA);
    const rosa = await activate(ROSA);
    expect(await store.open(carla.id)).toBe(`${MSAL_CACHE}-${CARLA}`);
    const stolen = await db('agent_delegations')
      .where({ id: carla.id })
      .select('ciphertext', 'iv', 'key_id')
      .first();
    await db('agent_delegations').where({ id: rosa.id }).update(stolen);
    await expect(store.open(rosa.id)).rejects.toThrow();
  });

  it('keeps the PKCE verifier encrypted while pending', async () => {
    const { db, store } = await setup();
    const d = await store.createPending({
      userEntityRef: CARLA,
      clientId: AGENT,
      sessionId: 's',
      pkceVerifier: 'the-verifier',
    });
    const row = await db('agent_delegations').where({ id: d.id }).first();
    expect(JSON.stringify(row)).not.toContain('the-verifier');
    expect(await store.open(d.id)).toBe('the-verifier');
  });

  it('wipes the ciphertext when the grant is revoked', async () => {
    const { db, store, activate } = await setup();
    const grants = new AgentGrantStore(db, 3600_000);
    const grant = await grants.approve({
      userEntityRef: CARLA,
      clientId: AGENT,
      clientName: 'Agent',
    });
    const d = await activate(CARLA);
    await store.attachToGrant(d.sessionId, grant.id);
    expect((await store.activeForGrant(grant.id))?.id).toBe(d.id);
    await grants.revoke(grant.id, CARLA);
    expect(await store.activeForGrant(grant.id)).toBeUndefined();
    expect(
      await db('agent_delegations').where({ id: d.id }).first(),
    ).toMatchObject({ state: 'revoked', ciphertext: null, iv: null });
    await expect(store.open(d.id)).rejects.toThrow('holds nothing');
  });

  it('drops pending delegations past their hour when a new one starts', async () => {
    const { db, store } = await setup();
    const stale = await store.createPending({
      userEntityRef: CARLA,
      clientId: AGENT,
      sessionId: 'old',
      pkceVerifier: 'v',
    });
    await db('agent_delegations')
      .where({ id: stale.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const fresh = await store.createPending({
      userEntityRef: ROSA,
      clientId: AGENT,
      sessionId: 'new',
      pkceVerifier: 'v',
    });
    expect(await store.get(stale.id)).toBeUndefined();
    expect((await store.get(fresh.id))?.state).toBe('pending');
  });
});
