import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import {
  readPopupResponse,
  recordingAuditor,
  refreshSession,
  seedEntities,
  signIn,
  startAuthBackend,
} from './__testUtils__/backend';
import { startTokenRewritingProxy } from './__testUtils__/tokenRewritingProxy';
import { ENTRA_ACCOUNT_ENABLED_ANNOTATION } from './ownership';

jest.setTimeout(60_000);

const OTHER_TENANT = '00000000-0000-0000-0000-000000000bad';
const FRAME_ROUTE = '/api/auth/microsoft/handler/frame';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('audit events of Entra sign-in', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'entra-audit-test-'));
  const auditor = recordingAuditor();
  let emulator: EntraEmulator;
  let proxy: Awaited<ReturnType<typeof startTokenRewritingProxy>>;
  let baseUrl: string;
  let viaProxyUrl: string;
  let unreachableUrl: string;
  let emailResolverUrl: string;
  const stops: Array<() => Promise<void>> = [];

  const person = (upn: string) =>
    emulator.seed.users.find(u => u.userPrincipalName === upn)!;

  /** Everything handed to the auditor, as one text to search for secrets. */
  const everything = () => JSON.stringify(auditor.events);

  /**
   * No token, code, state or session anywhere in what the auditor got:
   * nothing JWT-like, nor any of the flow's values.
   */
  const expectNoSecrets = (...values: Array<string | null | undefined>) => {
    const text = everything();
    expect(text.match(/eyJ[\w-]{6,}/g) ?? []).toEqual([]);
    for (const value of values) {
      if (value) expect(text).not.toContain(value);
    }
    // The query of a callback is the code and state: never passed on.
    for (const event of auditor.events) {
      expect(event.request?.originalUrl).not.toContain('?');
      expect(event.request?.url).not.toContain('?');
      expect(event.request?.query).toEqual({});
    }
  };

  /** The refresh tokens of a Cookie header. */
  const refreshTokensOf = (cookie?: string) =>
    (cookie ?? '')
      .split(/;\s*/)
      .filter(c => c.startsWith('microsoft-refresh-token'))
      .map(c => c.split('=').slice(1).join('='));

  /** The code, state and refresh token of a sign-in, to look for in events. */
  const secretsOf = (result: Awaited<ReturnType<typeof signIn>>) => [
    result.callback?.searchParams.get('code'),
    result.callback?.searchParams.get('state'),
    ...refreshTokensOf(result.sessionCookie),
  ];

  beforeAll(async () => {
    emulator = await startTestEmulator({ dataDir });
    proxy = await startTokenRewritingProxy(emulator, dataDir);
    const entities = seedEntities(emulator, {
      omitUpns: ['grace.green@contoso.example'],
    });
    entities.find(
      e => e.kind === 'User' && e.metadata.name === 'hiro.honda',
    )!.metadata.annotations![ENTRA_ACCOUNT_ENABLED_ANNOTATION] = 'false';
    const direct = await startAuthBackend(emulator, {
      entities,
      auditor: auditor.factory,
    });
    baseUrl = direct.baseUrl;
    const viaProxy = await startAuthBackend(emulator, {
      provider: { authority: proxy.authority },
      auditor: auditor.factory,
    });
    viaProxyUrl = viaProxy.baseUrl;
    const unreachable = await startAuthBackend(emulator, {
      provider: { authority: `https://localhost:${await closedPort()}/t` },
      auditor: auditor.factory,
    });
    unreachableUrl = unreachable.baseUrl;
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
      auditor: auditor.factory,
    });
    emailResolverUrl = byEmail.baseUrl;
    stops.push(
      () => direct.backend.stop(),
      () => viaProxy.backend.stop(),
      () => unreachable.backend.stop(),
      () => byEmail.backend.stop(),
    );
  });

  afterAll(async () => {
    for (const stop of stops) await stop();
    await proxy?.close();
    await emulator?.close();
  });

  beforeEach(() => {
    auditor.events.length = 0;
  });
  afterEach(() => proxy.set(undefined));

  it('records a sign-in once, as the person of the verified ID token', async () => {
    const result = await signIn(baseUrl, 'ada.admin@contoso.example');
    expect(readPopupResponse(result.body).response).toBeDefined();
    const ada = person('ada.admin@contoso.example');
    expect(auditor.events).toEqual([
      {
        plugin: 'auth',
        eventId: 'sign-in',
        severityLevel: 'low',
        request: {
          method: 'GET',
          originalUrl: FRAME_ROUTE,
          url: expect.stringMatching(/handler\/frame$/),
          query: {},
        },
        meta: {
          actor: {
            kind: 'person',
            entityRef: 'user:default/ada.admin',
            oid: ada.id,
            tid: emulator.tenantId,
          },
        },
        outcome: 'succeeded',
        outcomeMeta: undefined,
      },
    ]);
    const secrets = secretsOf(result);
    // The values searched for are there to be found (code, state, session).
    expect(secrets.filter(Boolean).length).toBeGreaterThanOrEqual(3);
    expectNoSecrets(...secrets);
  });

  it('records a person Entra knows but the catalog does not as refused, once, with the message they see', async () => {
    const result = await signIn(baseUrl, 'grace.green@contoso.example');
    const { error } = readPopupResponse(result.body);
    const grace = person('grace.green@contoso.example');
    expect(auditor.events).toHaveLength(1);
    expect(auditor.events[0]).toMatchObject({
      eventId: 'sign-in',
      severityLevel: 'medium',
      outcome: 'failed',
      // Verified, but no User: the object id and tenant, no entity ref.
      meta: {
        actor: { kind: 'person', oid: grace.id, tid: emulator.tenantId },
        reason: 'not-in-catalog',
      },
      outcomeMeta: { reason: 'not-in-catalog' },
      error: { name: 'NotFoundError', message: error.message },
    });
    expect((auditor.events[0].meta as any).actor.entityRef).toBeUndefined();
    expectNoSecrets(...secretsOf(result));
  });

  it('records a person whose User is disabled as refused, naming the User', async () => {
    const result = await signIn(baseUrl, 'hiro.honda@contoso.example');
    const { error } = readPopupResponse(result.body);
    expect(auditor.events).toHaveLength(1);
    expect(auditor.events[0]).toMatchObject({
      outcome: 'failed',
      meta: {
        actor: {
          kind: 'person',
          entityRef: 'user:default/hiro.honda',
          oid: person('hiro.honda@contoso.example').id,
        },
        reason: 'account-disabled',
      },
      error: { name: 'NotAllowedError', message: error.message },
    });
  });

  it('records a verified token of a tenant the portal does not admit', async () => {
    proxy.set(proxy.resign(c => ({ ...c, tid: OTHER_TENANT })));
    const result = await signIn(viaProxyUrl, 'ben.builder@contoso.example');
    const { error } = readPopupResponse(result.body);
    expect(error.message).toMatch(/does not admit/);
    expect(auditor.events).toHaveLength(1);
    expect(auditor.events[0]).toMatchObject({
      outcome: 'failed',
      meta: {
        actor: {
          kind: 'person',
          oid: person('ben.builder@contoso.example').id,
          tid: OTHER_TENANT,
        },
        reason: 'tenant-not-admitted',
      },
      error: { message: error.message },
    });
    expectNoSecrets(...secretsOf(result));
  });

  it('gives the configured resolvers’ reason when upstream answers for all of them', async () => {
    proxy.set(
      proxy.resign(c => ({
        ...c,
        xms_edov: true,
        email: 'nobody@contoso.example',
      })),
    );
    const result = await signIn(
      emailResolverUrl,
      'ben.builder@contoso.example',
    );
    const { error } = readPopupResponse(result.body);
    // Upstream's own error when every configured resolver found no User.
    expect(error.message).toMatch(/unable to resolve user identity/);
    expect(auditor.events).toHaveLength(1);
    expect(auditor.events[0]).toMatchObject({
      outcome: 'failed',
      meta: { reason: 'not-in-catalog' },
      error: { message: error.message },
    });
  });

  it('records a refusal of the email resolver with its own reason', async () => {
    const result = await signIn(
      emailResolverUrl,
      'ben.builder@contoso.example',
    );
    const { error } = readPopupResponse(result.body);
    expect(auditor.events).toHaveLength(1);
    expect(auditor.events[0]).toMatchObject({
      outcome: 'failed',
      meta: {
        actor: {
          kind: 'person',
          oid: person('ben.builder@contoso.example').id,
        },
        reason: 'email-unverified',
      },
      error: { message: error.message },
    });
  });

  it('names nobody when the ID token fails verification', async () => {
    proxy.set(proxy.unsigned);
    const result = await signIn(viaProxyUrl, 'ben.builder@contoso.example');
    const { error } = readPopupResponse(result.body);
    expect(auditor.events).toHaveLength(1);
    expect(auditor.events[0]).toMatchObject({
      outcome: 'failed',
      meta: { actor: { kind: 'anonymous' }, reason: 'token-invalid' },
      error: { message: error.message },
    });
    // The claims of a token nobody vouched for are not facts.
    expect(everything()).not.toContain(
      person('ben.builder@contoso.example').id,
    );
    expectNoSecrets(...secretsOf(result));
  });

  it('records a callback whose state is not this browser’s, before Entra’s answer is read', async () => {
    const result = await signIn(baseUrl, 'ben.builder@contoso.example', {
      state: s => `${s.slice(0, -4)}AAAA`,
    });
    const { error } = readPopupResponse(result.body);
    expect(auditor.events).toHaveLength(1);
    expect(auditor.events[0]).toMatchObject({
      outcome: 'failed',
      meta: { actor: { kind: 'anonymous' } },
      error: { message: error.message },
    });
    expect(['state-mismatch', 'flow-unknown']).toContain(
      (auditor.events[0].meta as any).reason,
    );
    expectNoSecrets(...secretsOf(result));
  });

  it('records a callback without the browser’s nonce cookie as a state mismatch', async () => {
    const result = await signIn(baseUrl, 'ben.builder@contoso.example');
    auditor.events.length = 0;
    // The same callback from a browser that never started this sign-in.
    const res = await fetch(
      `${baseUrl}${FRAME_ROUTE}${result.callback!.search}`,
    );
    const { error } = readPopupResponse(await res.text());
    expect(error.message).toBe('Auth response is missing cookie nonce');
    expect(auditor.events).toHaveLength(1);
    expect(auditor.events[0]).toMatchObject({
      outcome: 'failed',
      meta: { actor: { kind: 'anonymous' }, reason: 'state-mismatch' },
      error: { name: 'NotAllowedError', message: error.message },
    });
    expectNoSecrets(...secretsOf(result));
  });

  it('records a replayed callback as a sign-in this portal did not start', async () => {
    const first = await signIn(baseUrl, 'ben.builder@contoso.example');
    auditor.events.length = 0;
    const replay = await fetch(
      `${baseUrl}${FRAME_ROUTE}${first.callback!.search}`,
      { headers: { cookie: first.cookie! } },
    );
    const { error } = readPopupResponse(await replay.text());
    expect(auditor.events).toHaveLength(1);
    expect(auditor.events[0]).toMatchObject({
      outcome: 'failed',
      meta: { actor: { kind: 'anonymous' }, reason: 'flow-unknown' },
      error: { message: error.message },
    });
    expectNoSecrets(...secretsOf(first));
  });

  it('records a callback whose state cannot be read, which upstream answers itself', async () => {
    const res = await fetch(
      `${baseUrl}${FRAME_ROUTE}?code=the-code-value&state=not-a-state`,
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(auditor.events).toHaveLength(1);
    expect(auditor.events[0]).toMatchObject({
      eventId: 'sign-in',
      outcome: 'failed',
      meta: { actor: { kind: 'anonymous' }, reason: 'callback-invalid' },
    });
    expectNoSecrets('the-code-value', 'not-a-state');
  });

  describe('refreshes', () => {
    it('records a refresh refused because the person left the catalog', async () => {
      const { sessionCookie } = await signIn(
        viaProxyUrl,
        'grace.green@contoso.example',
      );
      auditor.events.length = 0;
      const res = await refreshSession(baseUrl, sessionCookie!);
      expect(res.status).toBe(401);
      const { error } = await res.json();
      expect(auditor.events).toHaveLength(1);
      expect(auditor.events[0]).toMatchObject({
        plugin: 'auth',
        eventId: 'session-refused',
        severityLevel: 'medium',
        request: { method: 'GET', query: {} },
        outcome: 'failed',
        meta: {
          actor: {
            kind: 'person',
            oid: person('grace.green@contoso.example').id,
            tid: emulator.tenantId,
          },
          reason: 'not-in-catalog',
        },
        error: { name: 'AuthenticationError', message: error.message },
      });
      const tokens = refreshTokensOf(sessionCookie);
      expect(tokens.length).toBeGreaterThan(0);
      expectNoSecrets(...tokens);
    });

    it('records a refresh refused for a User the catalog marks disabled, naming the User', async () => {
      const { sessionCookie } = await signIn(
        viaProxyUrl,
        'hiro.honda@contoso.example',
      );
      auditor.events.length = 0;
      const res = await refreshSession(baseUrl, sessionCookie!);
      expect(res.status).toBe(401);
      expect(auditor.events).toEqual([
        expect.objectContaining({
          eventId: 'session-refused',
          meta: {
            actor: {
              kind: 'person',
              entityRef: 'user:default/hiro.honda',
              oid: person('hiro.honda@contoso.example').id,
              tid: emulator.tenantId,
            },
            reason: 'account-disabled',
          },
        }),
      ]);
    });

    it('records a refresh Entra refuses for a disabled account', async () => {
      const { sessionCookie } = await signIn(
        baseUrl,
        'frank.fisher@contoso.example',
      );
      const frank = person('frank.fisher@contoso.example');
      auditor.events.length = 0;
      emulator.directory.setAccountEnabled(frank.id, false);
      try {
        const res = await refreshSession(baseUrl, sessionCookie!);
        expect(res.status).toBe(401);
      } finally {
        emulator.directory.setAccountEnabled(frank.id, true);
      }
      // Entra said no before any ID token: nobody verified.
      expect(auditor.events).toEqual([
        expect.objectContaining({
          eventId: 'session-refused',
          meta: { actor: { kind: 'anonymous' }, reason: 'account-disabled' },
          error: expect.objectContaining({
            message: expect.stringMatching(/AADSTS50057/),
          }),
        }),
      ]);
      expectNoSecrets(...refreshTokensOf(sessionCookie));
    });

    it('records a refresh token Entra refuses, naming nobody', async () => {
      const res = await refreshSession(
        baseUrl,
        'microsoft-refresh-token=revoked-or-expired',
      );
      expect(res.status).toBe(401);
      expect(auditor.events).toHaveLength(1);
      expect(auditor.events[0]).toMatchObject({
        eventId: 'session-refused',
        meta: { actor: { kind: 'anonymous' }, reason: 'refresh-token-refused' },
      });
      expectNoSecrets('revoked-or-expired');
    });

    it('records nothing for a visitor without a session, a working refresh or an outage', async () => {
      const { sessionCookie } = await signIn(
        baseUrl,
        'ben.builder@contoso.example',
      );
      auditor.events.length = 0;
      // The app asks on every page load whether someone is signed in.
      const anonymous = await fetch(
        `${baseUrl}/api/auth/microsoft/refresh?env=development`,
        { headers: { 'x-requested-with': 'XMLHttpRequest' } },
      );
      expect(anonymous.status).toBe(401);
      expect((await refreshSession(baseUrl, sessionCookie!)).status).toBe(200);
      // Entra down: not a refusal of the person.
      expect(
        (await refreshSession(unreachableUrl, sessionCookie!)).status,
      ).toBe(401);
      expect(auditor.events).toEqual([]);
    });
  });
});
