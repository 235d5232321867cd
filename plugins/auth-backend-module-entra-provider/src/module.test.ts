import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import { Entity } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { decodeJwt } from 'jose';
import {
  cookieHeader,
  readPopupResponse,
  refreshSession,
  seedEntities,
  signIn,
  startAuthBackend,
} from './__testUtils__/backend';
import { startTokenRewritingProxy } from './__testUtils__/tokenRewritingProxy';
import { ENTRA_ACCOUNT_ENABLED_ANNOTATION } from './ownership';
import {
  ENTRA_TENANT_ID_ANNOTATION,
  ENTRA_USER_ID_ANNOTATION,
} from './resolvers';

jest.setTimeout(60_000);

const OTHER_TENANT = '00000000-0000-0000-0000-000000000bad';

function emailEdgeEntities(emulator: EntraEmulator): Entity[] {
  const entities = seedEntities(emulator);
  const user = (name: string) =>
    entities.find(e => e.kind === 'User' && e.metadata.name === name)!;
  // Ingested or typed by an admin: another account with Ben's address.
  entities.push({
    ...user('ben.builder'),
    metadata: {
      name: 'ben-builder-test',
      annotations: {
        [ENTRA_USER_ID_ANNOTATION]: '7a1f0c5e-0000-4000-8000-00000000b0b0',
      },
    },
  });
  user('carla.chen').metadata.annotations![ENTRA_TENANT_ID_ANNOTATION] =
    OTHER_TENANT;
  user('dev.patel').metadata.annotations![ENTRA_TENANT_ID_ANNOTATION] =
    emulator.tenantId;
  return entities;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** The Set-Cookie lines of a response about the refresh-token cookie. */
function refreshCookies(res: Response) {
  return res.headers
    .getSetCookie()
    .filter(c => c.startsWith('microsoft-refresh-token'));
}

describe('Entra sign-in (provider id microsoft) against the emulator', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'entra-auth-test-'));
  let emulator: EntraEmulator;
  let proxy: Awaited<ReturnType<typeof startTokenRewritingProxy>>;
  let baseUrl: string;
  let viaProxyUrl: string;
  let emailResolverUrl: string;
  // The email resolver over a catalog with the cases ingestion can produce
  // or an admin can type: a second User with someone's address, and users
  // annotated with their tenant.
  let emailEdgeUrl: string;
  let unreachableUrl: string;
  let catalogDownUrl: string;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ dataDir });
    proxy = await startTokenRewritingProxy(emulator, dataDir);
    const directEntities = seedEntities(emulator, {
      // Omitted from the catalog: someone Entra knows but the portal does not.
      omitUpns: ['grace.green@contoso.example'],
    });
    // Kept by an ingestion that marks disabled accounts instead of dropping them.
    directEntities.find(
      e => e.kind === 'User' && e.metadata.name === 'hiro.honda',
    )!.metadata.annotations![ENTRA_ACCOUNT_ENABLED_ANNOTATION] = 'false';
    const direct = await startAuthBackend(emulator, {
      entities: directEntities,
    });
    baseUrl = direct.baseUrl;
    const viaProxy = await startAuthBackend(emulator, {
      provider: { authority: proxy.authority },
    });
    viaProxyUrl = viaProxy.baseUrl;
    // The opt-in email resolver, instead of the default oid resolver.
    const byEmail = await startAuthBackend(emulator, {
      provider: {
        authority: proxy.authority,
        signIn: {
          resolvers: [
            {
              resolver: 'verifiedEmailMatchingUserEntityProfileEmail',
              allowedDomains: ['contoso.example'],
            },
          ],
        },
      },
    });
    emailResolverUrl = byEmail.baseUrl;
    const edge = await startAuthBackend(emulator, {
      entities: emailEdgeEntities(emulator),
      provider: {
        authority: proxy.authority,
        signIn: {
          resolvers: [
            {
              resolver: 'verifiedEmailMatchingUserEntityProfileEmail',
              allowedDomains: ['contoso.example'],
            },
          ],
        },
      },
    });
    emailEdgeUrl = edge.baseUrl;
    // Entra down: nothing listens on this authority.
    const unreachable = await startAuthBackend(emulator, {
      provider: { authority: `https://localhost:${await closedPort()}/t` },
    });
    unreachableUrl = unreachable.baseUrl;
    // The catalog answering 503, as while it restarts or its database fails.
    const catalogDown = await startAuthBackend(emulator, {
      catalog: catalogServiceMock.mock({
        getEntities: async () => {
          throw await ResponseError.fromResponse(
            new Response('{}', { status: 503, statusText: 'Unavailable' }),
          );
        },
      }).factory,
    });
    catalogDownUrl = catalogDown.baseUrl;
    stops.push(
      () => direct.backend.stop(),
      () => viaProxy.backend.stop(),
      () => byEmail.backend.stop(),
      () => edge.backend.stop(),
      () => unreachable.backend.stop(),
      () => catalogDown.backend.stop(),
    );
  });

  afterAll(async () => {
    for (const stop of stops) await stop();
    await proxy?.close();
    await emulator?.close();
  });

  afterEach(() => proxy.set(undefined));

  it('signs a seeded person in, keyed on oid, with nested group ownership', async () => {
    const result = await signIn(baseUrl, 'ada.admin@contoso.example');
    const { response } = readPopupResponse(result.body);
    expect(response.profile.displayName).toBe('Ada Admin');
    // Ada has a photo in Entra: it is read from Graph with her own token.
    expect(response.profile.picture).toMatch(/^data:image\/png;base64,/);
    const { identity } = response.backstageIdentity;
    expect(identity.userEntityRef).toBe('user:default/ada.admin');
    expect(identity.ownershipEntityRefs).toEqual(
      expect.arrayContaining([
        'user:default/ada.admin',
        'group:default/platform-admins',
        // platform-admins is nested in production-deployers
        'group:default/production-deployers',
        // platform-team is nested in engineering
        'group:default/platform-team',
        'group:default/engineering',
      ]),
    );
    // Tokens for the app; never Entra's own tokens in the identity.
    expect(response.backstageIdentity.token).toEqual(expect.any(String));
  });

  it('signs in a person whose mail equals another person’s UPN as themself', async () => {
    // Quinn's mail is ADA.ADMIN@contoso.example: the nOAuth case.
    const result = await signIn(baseUrl, 'quinn.quist@contoso.example');
    const { response } = readPopupResponse(result.body);
    expect(response.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/quinn.quist',
    );
    // Quinn has no photo in Entra: no picture, and the sign-in still works.
    expect(response.profile.picture).toBeUndefined();
    expect(
      response.backstageIdentity.identity.ownershipEntityRefs,
    ).not.toContain('user:default/ada.admin');
  });

  it('gets the signed-in person an access token for the portal’s own API scope', async () => {
    const { sessionCookie } = await signIn(
      baseUrl,
      'ada.admin@contoso.example',
    );
    const res = await refreshSession(
      baseUrl,
      sessionCookie!,
      emulator.apps.portal.apiScope,
    );
    expect(res.status).toBe(200);
    const { providerInfo, backstageIdentity } = await res.json();
    const claims = decodeJwt(providerInfo.accessToken);
    const ada = emulator.seed.users.find(u => u.displayName === 'Ada Admin')!;
    // A delegated token for the portal's API, carrying the same person:
    // what the deploy flow exchanges on-behalf-of.
    expect(claims.oid).toBe(ada.id);
    expect(claims.tid).toBe(emulator.tenantId);
    expect(String(claims.aud)).toContain(emulator.apps.portal.clientId);
    expect(claims.scp).toContain('access_as_user');
    expect(backstageIdentity.identity.userEntityRef).toBe(
      'user:default/ada.admin',
    );
  });

  it('keeps a session across a backend restart', async () => {
    const { sessionCookie } = await signIn(
      baseUrl,
      'ben.builder@contoso.example',
    );
    // A second backend with the same configuration stands for the restarted
    // (or another replica of the) portal: it holds no state of the first.
    const restarted = await startAuthBackend(emulator);
    stops.push(() => restarted.backend.stop());
    const res = await refreshSession(restarted.baseUrl, sessionCookie!);
    expect(res.status).toBe(200);
    const { backstageIdentity } = await res.json();
    expect(backstageIdentity.identity.userEntityRef).toBe(
      'user:default/ben.builder',
    );
  });

  it('refuses a person who is not in the catalog, saying so', async () => {
    const result = await signIn(baseUrl, 'grace.green@contoso.example');
    const { error } = readPopupResponse(result.body);
    expect(error.name).toBe('NotFoundError');
    expect(error.message).toMatch(
      /catalog has no User with annotation graph\.microsoft\.com\/user-id=/,
    );
  });

  it('refuses a person whose User the catalog marks disabled, saying so', async () => {
    const result = await signIn(baseUrl, 'hiro.honda@contoso.example');
    const { response, error } = readPopupResponse(result.body);
    expect(response).toBeUndefined();
    expect(error.name).toBe('NotAllowedError');
    expect(error.message).toMatch(
      /user:default\/hiro\.honda is marked disabled in the portal's catalog/,
    );
  });

  it('refuses a replayed authorization code', async () => {
    const first = await signIn(baseUrl, 'ben.builder@contoso.example');
    expect(readPopupResponse(first.body).response).toBeDefined();
    const replay = await fetch(
      `${baseUrl}/api/auth/microsoft/handler/frame${first.callback!.search}`,
      { headers: { cookie: first.cookie! } },
    );
    const { error } = readPopupResponse(await replay.text());
    expect(error.message).toMatch(
      /invalid_grant|AADSTS54005|already|redeemed/i,
    );
  });

  it('refuses a tampered state', async () => {
    const result = await signIn(baseUrl, 'ben.builder@contoso.example', {
      state: s => `${s.slice(0, -4)}AAAA`,
    });
    const { response, error } = readPopupResponse(result.body);
    expect(response).toBeUndefined();
    // Either Backstage's CSRF check or the sign-in flow store (no flow was
    // started with that state) catches it; both refuse the sign-in.
    expect(error.message).toMatch(/nonce|was not started here/i);
  });

  it('refuses a code bound to another sign-in flow (nonce and PKCE differ)', async () => {
    // A second flow started by the same browser: its own state and cookie.
    const other = await fetch(
      `${baseUrl}/api/auth/microsoft/start?env=development`,
      { redirect: 'manual' },
    );
    const otherState = new URL(other.headers.get('location')!).searchParams.get(
      'state',
    )!;
    const otherCookie = cookieHeader(other);
    const result = await signIn(baseUrl, 'ben.builder@contoso.example', {
      state: () => otherState,
    });
    // Presented with the other flow's cookie, Backstage's CSRF check passes;
    // the code itself must still be refused.
    const frame = await fetch(
      `${baseUrl}/api/auth/microsoft/handler/frame${result.callback!.search}`,
      { headers: { cookie: otherCookie } },
    );
    const { error } = readPopupResponse(await frame.text());
    expect(error).toBeDefined();
    expect(error.message).toMatch(
      /PKCE|code_verifier|nonce|AADSTS50148|invalid_grant/i,
    );
  });

  describe('the opt-in email resolver', () => {
    it('refuses an email Entra does not mark as verified', async () => {
      // Entra sends no xms_edov unless the optional claim is configured.
      const result = await signIn(
        emailResolverUrl,
        'ben.builder@contoso.example',
      );
      const { error } = readPopupResponse(result.body);
      expect(error.message).toMatch(/email claim is not verified/);
    });

    it('signs in by a verified email in an allowed domain', async () => {
      proxy.set(proxy.resign(c => ({ ...c, xms_edov: true })));
      const result = await signIn(
        emailResolverUrl,
        'ben.builder@contoso.example',
      );
      const { response } = readPopupResponse(result.body);
      expect(response.backstageIdentity.identity.userEntityRef).toBe(
        'user:default/ben.builder',
      );
    });

    it('refuses a verified email outside the allowed domains', async () => {
      proxy.set(
        proxy.resign(c => ({
          ...c,
          xms_edov: true,
          email: 'ben@fabrikam.example',
        })),
      );
      const result = await signIn(
        emailResolverUrl,
        'ben.builder@contoso.example',
      );
      const { error } = readPopupResponse(result.body);
      expect(error.message).toMatch(
        /'fabrikam\.example' is not in allowedDomains/,
      );
    });

    it('refuses a B2B guest whose verified email is an employee’s address', async () => {
      // Olga is a guest: Entra names her home tenant in `idp`.
      proxy.set(
        proxy.resign(c => ({
          ...c,
          xms_edov: true,
          email: 'ben.builder@contoso.example',
        })),
      );
      const result = await signIn(
        emailResolverUrl,
        'olga_partner.example#EXT#@contoso.example',
      );
      const { response, error } = readPopupResponse(result.body);
      expect(response).toBeUndefined();
      expect(error.name).toBe('NotAllowedError');
      expect(error.message).toMatch(/is a guest \(B2B\) account/);
    });

    it('refuses a guest marked by the acct claim', async () => {
      proxy.set(proxy.resign(c => ({ ...c, xms_edov: true, acct: 1 })));
      const result = await signIn(
        emailResolverUrl,
        'ben.builder@contoso.example',
      );
      const { response, error } = readPopupResponse(result.body);
      expect(response).toBeUndefined();
      expect(error.message).toMatch(/is a guest \(B2B\) account/);
    });

    /** What the email resolver answers for an email no User carries. */
    async function answerForUnknownEmail(url: string) {
      proxy.set(
        proxy.resign(c => ({
          ...c,
          xms_edov: true,
          email: 'nobody@contoso.example',
        })),
      );
      const result = await signIn(url, 'ben.builder@contoso.example');
      const { error } = readPopupResponse(result.body);
      // The resolver's "not found", which lets a resolver listed next try.
      expect(error.message).toMatch(/unable to resolve user identity/);
      return error;
    }

    it('answers a member whose verified email is another person’s as if no User had it', async () => {
      proxy.set(
        proxy.resign(c => ({
          ...c,
          xms_edov: true,
          email: 'carla.chen@contoso.example',
        })),
      );
      const result = await signIn(
        emailResolverUrl,
        'ben.builder@contoso.example',
      );
      const { response, error } = readPopupResponse(result.body);
      expect(response).toBeUndefined();
      expect(error).toEqual(await answerForUnknownEmail(emailResolverUrl));
      expect(error.message).not.toMatch(/carla/i);
    });

    it('refuses an email two catalog Users carry, naming neither address', async () => {
      proxy.set(proxy.resign(c => ({ ...c, xms_edov: true })));
      const result = await signIn(emailEdgeUrl, 'ben.builder@contoso.example');
      const { response, error } = readPopupResponse(result.body);
      expect(response).toBeUndefined();
      expect(error.name).toBe('ConflictError');
      expect(error.message).toMatch(
        /more than one catalog User carries this person's email/,
      );
      expect(error.message).not.toMatch(/@|ben-builder-test|ben\.builder/);
    });

    it('answers for a User annotated with another tenant as if there were none', async () => {
      proxy.set(proxy.resign(c => ({ ...c, xms_edov: true })));
      const result = await signIn(emailEdgeUrl, 'carla.chen@contoso.example');
      const { response, error } = readPopupResponse(result.body);
      expect(response).toBeUndefined();
      expect(error).toEqual(await answerForUnknownEmail(emailEdgeUrl));
    });

    it('signs in a User annotated with the token’s own tenant', async () => {
      proxy.set(proxy.resign(c => ({ ...c, xms_edov: true })));
      const result = await signIn(emailEdgeUrl, 'dev.patel@contoso.example');
      const { response } = readPopupResponse(result.body);
      expect(response.backstageIdentity.identity.userEntityRef).toBe(
        'user:default/dev.patel',
      );
    });
  });

  describe('a refused refresh', () => {
    it('clears the session cookie when the person left the catalog', async () => {
      // Signed in while in the catalog; the restarted portal no longer has
      // Grace (removed from the directory, ingestion caught up).
      const { sessionCookie } = await signIn(
        viaProxyUrl,
        'grace.green@contoso.example',
      );
      expect(sessionCookie).toMatch(/microsoft-refresh-token=/);
      const res = await refreshSession(baseUrl, sessionCookie!);
      expect(res.status).toBe(401);
      // One line, deleting the cookie with the name, path and (host-only)
      // domain the sign-in set it with; no rotated token handed out.
      expect(refreshCookies(res)).toEqual([
        expect.stringMatching(
          /^microsoft-refresh-token=; Max-Age=0; Path=\/api\/auth\/microsoft; Expires=[^;]+; HttpOnly; SameSite=Lax$/,
        ),
      ]);
    });

    it('clears the session cookie when the catalog marks the User disabled', async () => {
      const { sessionCookie } = await signIn(
        viaProxyUrl,
        'hiro.honda@contoso.example',
      );
      const res = await refreshSession(baseUrl, sessionCookie!);
      expect(res.status).toBe(401);
      expect((await res.json()).error).toMatchObject({
        message: expect.stringMatching(
          /user:default\/hiro\.honda is marked disabled in the portal's catalog \(graph\.microsoft\.com\/account-enabled: false/,
        ),
      });
      expect(refreshCookies(res)).toEqual([
        expect.stringMatching(
          /^microsoft-refresh-token=; Max-Age=0; Path=\/api\/auth\/microsoft;/,
        ),
      ]);
    });

    it('clears the session cookie when Entra refuses the refresh token', async () => {
      const res = await refreshSession(
        baseUrl,
        'microsoft-refresh-token=revoked-or-expired',
      );
      expect(res.status).toBe(401);
      expect(await res.text()).toMatch(/invalid_grant/);
      expect(refreshCookies(res)).toEqual([
        expect.stringMatching(
          /^microsoft-refresh-token=; Max-Age=0; Path=\/api\/auth\/microsoft;/,
        ),
      ]);
    });

    it('clears the session cookie when Entra refuses a disabled account', async () => {
      const { sessionCookie } = await signIn(
        baseUrl,
        'frank.fisher@contoso.example',
      );
      const frank = emulator.seed.users.find(
        u => u.userPrincipalName === 'frank.fisher@contoso.example',
      )!;
      emulator.directory.setAccountEnabled(frank.id, false);
      try {
        const res = await refreshSession(baseUrl, sessionCookie!);
        expect(res.status).toBe(401);
        expect(await res.text()).toMatch(/AADSTS50057/);
        expect(refreshCookies(res)).toEqual([
          expect.stringMatching(
            /^microsoft-refresh-token=; Max-Age=0; Path=\/api\/auth\/microsoft;/,
          ),
        ]);
      } finally {
        emulator.directory.setAccountEnabled(frank.id, true);
      }
    });

    it('keeps the session cookie while Entra cannot be reached', async () => {
      const { sessionCookie } = await signIn(
        baseUrl,
        'ben.builder@contoso.example',
      );
      const res = await refreshSession(unreachableUrl, sessionCookie!);
      expect(res.status).toBe(401);
      expect(await res.text()).toMatch(/cannot be reached/);
      expect(refreshCookies(res)).toEqual([]);
      // And the session still works once Entra answers.
      const later = await refreshSession(baseUrl, sessionCookie!);
      expect(later.status).toBe(200);
    });

    it('keeps the session while Entra answers that it is unavailable', async () => {
      const { sessionCookie } = await signIn(
        baseUrl,
        'ben.builder@contoso.example',
      );
      emulator.setFaults([
        { type: 'unavailable', route: '*/oauth2/v2.0/token', times: 1 },
      ]);
      try {
        const res = await refreshSession(baseUrl, sessionCookie!);
        expect(res.status).toBe(401);
        expect(await res.text()).toMatch(/cannot be reached/);
        expect(refreshCookies(res)).toEqual([]);
      } finally {
        emulator.setFaults([]);
      }
      // The same session refreshes once Entra answers again.
      const later = await refreshSession(baseUrl, sessionCookie!);
      expect(later.status).toBe(200);
    });

    it('keeps the session while the catalog cannot answer', async () => {
      const { sessionCookie } = await signIn(
        baseUrl,
        'ben.builder@contoso.example',
      );
      const res = await refreshSession(catalogDownUrl, sessionCookie!);
      expect(res.status).toBe(401);
      // Entra rotated the refresh token before the catalog failed: the
      // browser gets the new one, and nothing deletes it.
      const set = refreshCookies(res).filter(c => !/Domain=/.test(c));
      expect(set).toEqual([
        expect.stringMatching(/^microsoft-refresh-token=[^;]+; Max-Age=[1-9]/),
      ]);
      const later = await refreshSession(baseUrl, cookieHeader(res));
      expect(later.status).toBe(200);
    });
  });

  describe('verifies the ID token', () => {
    const refused = async () => {
      const result = await signIn(viaProxyUrl, 'ben.builder@contoso.example');
      const popup = readPopupResponse(result.body);
      expect(popup.response).toBeUndefined();
      return popup.error.message as string;
    };

    it('accepts the unmodified token through the same path', async () => {
      const result = await signIn(viaProxyUrl, 'ben.builder@contoso.example');
      expect(
        readPopupResponse(result.body).response.backstageIdentity.identity
          .userEntityRef,
      ).toBe('user:default/ben.builder');
    });

    it('refuses a token of another tenant signed by a valid key', async () => {
      proxy.set(
        proxy.resign(c => ({
          ...c,
          tid: '00000000-0000-0000-0000-000000000bad',
          iss: c.iss.replace(
            emulator.tenantId,
            '00000000-0000-0000-0000-000000000bad',
          ),
        })),
      );
      expect(await refused()).toMatch(/unexpected iss|tenant/i);
    });

    it('refuses a tid outside the configured tenant even with the right issuer', async () => {
      proxy.set(
        proxy.resign(c => ({
          ...c,
          tid: '00000000-0000-0000-0000-000000000bad',
        })),
      );
      expect(await refused()).toMatch(/tenant .* does not admit/);
    });

    it('refuses a wrong audience', async () => {
      proxy.set(
        proxy.resign(c => ({ ...c, aud: emulator.apps.deployApi.clientId })),
      );
      expect(await refused()).toMatch(/aud/i);
    });

    it('refuses an expired token', async () => {
      const past = Math.floor(Date.now() / 1000) - 3600;
      proxy.set(
        proxy.resign(c => ({
          ...c,
          iat: past - 3600,
          nbf: past - 3600,
          exp: past,
        })),
      );
      expect(await refused()).toMatch(/expired|exp/i);
    });

    it('refuses alg none', async () => {
      proxy.set(proxy.unsigned);
      expect(await refused()).toMatch(/alg|signature|none/i);
    });

    it('refuses a token signed by an unknown key', async () => {
      proxy.set(await proxy.resignWithUnknownKey());
      expect(await refused()).toMatch(/key|kid|signature|JWKS/i);
    });

    it('refuses a nonce mismatch', async () => {
      proxy.set(proxy.resign(c => ({ ...c, nonce: 'someone-elses-nonce' })));
      expect(await refused()).toMatch(/nonce/i);
    });
  });
});
