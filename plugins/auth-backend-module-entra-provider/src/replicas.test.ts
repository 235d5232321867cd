/*
 * Sign-in across replicas: a flow started on one backend finishes on
 * another that shares its PostgreSQL database (as behind a load balancer
 * without sticky sessions), and on a backend started after the first one
 * stopped (a rolling restart in the middle of someone's sign-in).
 */
import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import type { EntraEmulator } from '@internal/entra-emulator';
import {
  signInThroughBrowser,
  startTestEmulator,
} from '@internal/entra-emulator/testUtils';
import knexFactory, { Knex } from 'knex';
import {
  cookieHeader,
  readPopupResponse,
  startAuthBackend,
} from './__testUtils__/backend';

process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING ??= `postgresql://${
  process.env.POSTGRES_USER ?? 'postgres'
}${process.env.POSTGRES_PASSWORD ? `:${process.env.POSTGRES_PASSWORD}` : ''}@${
  process.env.POSTGRES_HOST ?? '127.0.0.1'
}:${process.env.POSTGRES_PORT ?? '5432'}`;

const databases = TestDatabases.create({ ids: ['POSTGRES_15'] });
const PERSON = 'ben.builder@contoso.example';

describe('Entra sign-in across replicas on one PostgreSQL', () => {
  let emulator: EntraEmulator;
  let shared: Knex;
  const pools: Knex[] = [];
  const stops: Array<() => Promise<void>> = [];

  /** A backend with its own connection pool to the shared database. */
  async function replica() {
    const knex = knexFactory({
      client: 'pg',
      connection: (shared.client as any).config.connection,
    });
    pools.push(knex);
    const started = await startAuthBackend(emulator, {
      provider: { loadPhoto: false },
      database: mockServices.database.factory({ knex }),
    });
    stops.push(() => started.backend.stop());
    return started;
  }

  /** `/start` on `from`; the browser's login at Entra; the callback sent to `to`. */
  async function signInAcross(fromUrl: string, to: () => Promise<string>) {
    const start = await fetch(
      `${fromUrl}/api/auth/microsoft/start?env=development`,
      { redirect: 'manual' },
    );
    expect(start.status).toBe(302);
    const cookie = cookieHeader(start);
    const login = await signInThroughBrowser(
      start.headers.get('location')!,
      PERSON,
    );
    const callback = new URL(login.headers.get('location')!);
    const frame = async (baseUrl: string) =>
      readPopupResponse(
        await (
          await fetch(
            `${baseUrl}/api/auth/microsoft/handler/frame${callback.search}`,
            { headers: { cookie }, redirect: 'manual' },
          )
        ).text(),
      );
    return { frame, toUrl: await to() };
  }

  beforeAll(async () => {
    emulator = await startTestEmulator();
    shared = await databases.init('POSTGRES_15');
  });

  afterAll(async () => {
    for (const stop of stops) await stop().catch(() => {});
    for (const pool of pools) await pool.destroy();
    await emulator?.close();
  });

  it('finishes on replica B a sign-in started on replica A, once', async () => {
    // One after the other: the auth plugin's own migrations race on a fresh
    // database when two replicas create it at the same instant.
    const a = await replica();
    const b = await replica();
    const { frame, toUrl } = await signInAcross(
      a.baseUrl,
      async () => b.baseUrl,
    );
    const { response, error } = await frame(toUrl);
    expect(error).toBeUndefined();
    expect(response.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/ben.builder',
    );
    // The same callback again, on either replica: the flow is used up.
    const replayed = await frame(a.baseUrl);
    expect(replayed.response).toBeUndefined();
    expect(replayed.error.message).toMatch(
      /was not started here, was already completed/,
    );
  });

  it('finishes a sign-in started on a replica that stopped before the person came back', async () => {
    const first = await replica();
    const { frame, toUrl } = await signInAcross(first.baseUrl, async () => {
      await stops.pop()!();
      return (await replica()).baseUrl;
    });
    const { response, error } = await frame(toUrl);
    expect(error).toBeUndefined();
    expect(response.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/ben.builder',
    );
  });
});
