/*
 * The production configuration, started for real against the local
 * PostgreSQL: a fresh set of databases per run (unique prefix), dropped after.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import {
  BackendProcess,
  runBackendUntilExit,
  startBackendProcess,
} from './testUtils/backendProcess';

const pgEnv = {
  POSTGRES_HOST: process.env.POSTGRES_HOST ?? '127.0.0.1',
  POSTGRES_PORT: process.env.POSTGRES_PORT ?? '5432',
  POSTGRES_USER: process.env.POSTGRES_USER ?? 'postgres',
  POSTGRES_PASSWORD: process.env.POSTGRES_PASSWORD ?? '',
};

async function withAdminClient<T>(fn: (c: Client) => Promise<T>) {
  const client = new Client({
    host: pgEnv.POSTGRES_HOST,
    port: Number(pgEnv.POSTGRES_PORT),
    user: pgEnv.POSTGRES_USER,
    password: pgEnv.POSTGRES_PASSWORD,
    database: 'postgres',
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// A tenant's settings, shaped like real ones. Sign-in discovers the authority
// lazily, so startup makes no call to Entra.
const fakeTenant = {
  AZURE_TENANT_ID: '11111111-2222-4333-8444-555555555555',
  AZURE_CLIENT_ID: '66666666-7777-4888-9999-000000000000',
  AZURE_CLIENT_SECRET: randomBytes(16).toString('hex'),
};

async function dropDatabases(prefix: string) {
  await withAdminClient(async c => {
    const { rows } = await c.query(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`${prefix}%`],
    );
    for (const { datname } of rows) {
      await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  });
}

describe('app-config.production.yaml on PostgreSQL', () => {
  const prefix = `it_${randomBytes(4).toString('hex')}_`;
  const staticToken = randomBytes(24).toString('base64url');
  let backend: BackendProcess;

  beforeAll(async () => {
    backend = await startBackendProcess({
      configFiles: ['app-config.yaml', 'app-config.production.yaml'],
      env: {
        ...pgEnv,
        NODE_ENV: 'production',
        POSTGRES_DB_PREFIX: prefix,
        ...fakeTenant,
      },
      // What a deployment adds on top: its own port, and an automation token.
      // Org ingestion (tested on its own) waits, so nothing calls Microsoft.
      extraConfig: port => ({
        catalog: {
          providers: {
            microsoftGraphOrg: {
              default: { schedule: { initialDelay: { hours: 1 } } },
            },
          },
        },
        app: { baseUrl: `http://localhost:${port}` },
        backend: {
          baseUrl: `http://localhost:${port}`,
          listen: { port, host: '127.0.0.1' },
          auth: {
            externalAccess: [
              {
                type: 'static',
                options: { token: staticToken, subject: 'integration-test' },
              },
            ],
          },
        },
      }),
    });
  }, 120_000);

  afterAll(async () => {
    await backend?.stop();
    await dropDatabases(prefix);
  }, 60_000);

  it('answers liveness and readiness', async () => {
    const live = await fetch(
      `${backend.baseUrl}/.backstage/health/v1/liveness`,
    );
    expect(live.status).toBe(200);
    const ready = await fetch(
      `${backend.baseUrl}/.backstage/health/v1/readiness`,
    );
    expect(await ready.json()).toEqual({ status: 'ok' });
  });

  it('keeps each plugin in its own PostgreSQL database', async () => {
    const names = await withAdminClient(async c => {
      const { rows } = await c.query(
        'SELECT datname FROM pg_database WHERE datname LIKE $1',
        [`${prefix}%`],
      );
      return rows.map(r => r.datname);
    });
    expect(names).toEqual(
      expect.arrayContaining([`${prefix}catalog`, `${prefix}auth`]),
    );
  });

  it('refuses the catalog API without credentials', async () => {
    const res = await fetch(`${backend.baseUrl}/api/catalog/entities`);
    expect(res.status).toBe(401);
  });

  it('has no publish:local, so nothing is served without sign-in', async () => {
    // app-config.yaml's publish:local is for `yarn dev` only.
    const res = await fetch(
      `${backend.baseUrl}/api/scaffolder/local-publish/repos/anything/catalog-info.yaml`,
    );
    expect(res.status).toBe(401);
  });

  it('serves the portal component from the catalog', async () => {
    const url = `${backend.baseUrl}/api/catalog/entities/by-name/component/default/backstage-entra-starter`;
    const deadline = Date.now() + 60_000;
    let res: Response;
    do {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${staticToken}` },
      });
      if (res.status === 200) break;
      await new Promise(r => setTimeout(r, 500));
    } while (Date.now() < deadline);
    expect(res.status).toBe(200);
    const entity = await res.json();
    expect(entity.spec.owner).toBe('group:default/platform-admins');
    expect(entity.relations).toEqual(
      expect.arrayContaining([
        { type: 'ownedBy', targetRef: 'group:default/platform-admins' },
      ]),
    );
  }, 90_000);

  it('offers Microsoft Entra sign-in against the configured tenant', async () => {
    const res = await fetch(
      `${backend.baseUrl}/api/auth/microsoft/start?env=production`,
      { redirect: 'manual' },
    );
    // Discovery is lazy and Entra is unreachable from this test: the start
    // fails with a message naming the authority instead of crashing.
    expect(res.status).toBe(503);
    expect(await res.text()).toContain(
      'https://login.microsoftonline.com/11111111-2222-4333-8444-555555555555/v2.0/.well-known/openid-configuration',
    );
  });

  it('does not offer guest sign-in', async () => {
    const res = await fetch(`${backend.baseUrl}/api/auth/guest/refresh`, {
      headers: { 'x-requested-with': 'XMLHttpRequest' },
    });
    // Refused (the guest module only works in development), never a session.
    expect([403, 404]).toContain(res.status);
    expect(await res.text()).not.toContain('backstageIdentity');
  });
});

describe('app-config.production.yaml with development-only settings', () => {
  const prefix = `it_refused_${randomBytes(4).toString('hex')}_`;
  afterAll(() => dropDatabases(prefix), 60_000);

  it('exits non-zero naming the key, without ever listening', async () => {
    const run = await runBackendUntilExit({
      configFiles: ['app-config.yaml', 'app-config.production.yaml'],
      env: {
        ...pgEnv,
        ...fakeTenant,
        NODE_ENV: 'production',
        POSTGRES_DB_PREFIX: prefix,
        ENTRA_AUTHORITY:
          'https://localhost:8401/11111111-2222-4333-8444-555555555555',
      },
      extraConfig: port => ({
        backend: { listen: { port, host: '127.0.0.1' } },
      }),
    });
    expect(run.exitCode).not.toBe(null);
    expect(run.exitCode).not.toBe(0);
    expect(run.output).toMatch(
      /Refusing to start in production[\s\S]*auth\.providers\.microsoft\.(development|production)\.authority/,
    );
    // Sign-in never redirected anyone to the emulator: nothing answered.
    expect(run.acceptedConnections).toBe(0);
  }, 120_000);
});

describe('app-config.production.yaml with a plugin that fails at startup', () => {
  const prefix = `it_pluginfail_${randomBytes(4).toString('hex')}_`;
  afterAll(() => dropDatabases(prefix), 60_000);

  // What Kubernetes needs to show a crash loop with the reason: the process
  // exits non-zero once a plugin's init fails, instead of staying up with
  // readiness 503 (a failed plugin otherwise only marks itself failed).
  it('exits non-zero naming the plugin and the key', async () => {
    const run = await runBackendUntilExit({
      configFiles: ['app-config.yaml', 'app-config.production.yaml'],
      env: {
        ...pgEnv,
        ...fakeTenant,
        NODE_ENV: 'production',
        POSTGRES_DB_PREFIX: prefix,
      },
      // The org module refuses this in its init, after the server listens.
      extraConfig: port => ({
        backend: { listen: { port, host: '127.0.0.1' } },
        catalog: {
          providers: {
            microsoftGraphOrg: {
              default: {
                schedule: { initialDelay: { hours: 1 } },
                deletionGuard: { maxDeletionShare: 5 },
              },
            },
          },
        },
      }),
    });
    expect(run.exitCode).toBe(1);
    expect(run.output).toMatch(
      /Backend failed to start[\s\S]*'catalog' startup failed[\s\S]*maxDeletionShare must be a share between 0 and 1/,
    );
  }, 150_000);
});
