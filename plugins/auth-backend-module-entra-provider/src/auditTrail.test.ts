/*
 * Sign-in as the stored audit trail has it: the auth plugin with this module
 * behind real backend auth, the portal's auditor and the audit plugin (as
 * packages/backend runs them), people signing in through the Entra emulator
 * as the browser does, and every event read back through GET
 * /api/audit/events once the sink has flushed, so "exactly one" is what an
 * admin would find.
 */
import { createServiceFactory } from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import type { AuditEvent } from '@internal/plugin-audit-common';
import {
  AUDIT_READER_TOKEN,
  settledAuditEvents,
} from '@internal/portal-test-utils';
import {
  readPopupResponse,
  refreshSession,
  seedEntities,
  signIn,
  startAuthBackend,
} from './__testUtils__/backend';
import { ENTRA_ACCOUNT_ENABLED_ANNOTATION } from './ownership';

jest.setTimeout(60_000);

const ADA = 'ada.admin@contoso.example';
/** Known to Entra, not to the catalog. */
const GRACE = 'grace.green@contoso.example';
/** A User the catalog marks disabled. */
const HIRO = 'hiro.honda@contoso.example';
/** Signs in, then leaves the catalog: the next refresh is refused. */
const BEN = 'ben.builder@contoso.example';
const BEN_UID = 'ben-builder-uid';

/** Anything that looks like a JWT (three base64url parts). */
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]*/;

describe('sign-in in the stored audit trail', () => {
  let emulator: EntraEmulator;
  let baseUrl: string;
  let stopBackend: () => Promise<void>;
  let logLines: string[];
  const catalog = { client: catalogServiceMock() };
  /** Every code, state, token and session value the flows below handed out. */
  const secrets = new Set<string>();

  const person = (upn: string) =>
    emulator.seed.users.find(u => u.userPrincipalName === upn)!;

  /** The values of a sign-in that must never reach the trail. */
  const remember = (result: Awaited<ReturnType<typeof signIn>>) => {
    const values = [
      result.callback?.searchParams.get('code'),
      result.callback?.searchParams.get('state'),
      ...(result.sessionCookie ?? '')
        .split(/;\s*/)
        .filter(c => c.startsWith('microsoft-refresh-token'))
        .map(c => c.split('=').slice(1).join('=')),
    ];
    const { response } = readPopupResponse(result.body);
    values.push(
      response?.backstageIdentity?.token,
      response?.providerInfo?.accessToken,
      response?.providerInfo?.idToken,
    );
    for (const value of values) if (value) secrets.add(value);
  };

  const expectNothingSecret = (events: AuditEvent[] | string) => {
    const text = typeof events === 'string' ? events : JSON.stringify(events);
    for (const secret of [
      ...secrets,
      AUDIT_READER_TOKEN,
      emulator.apps.portal.clientSecret,
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(JWT);
    expect(text).not.toMatch(/bearer/i);
    // The query of a callback is the code and state: never stored.
    for (const event of typeof events === 'string' ? [] : events) {
      expect(event.request?.route ?? '').not.toContain('?');
    }
  };

  /**
   * The events of `action` that began at or after `from`, once stored;
   * `atLeast: 0` for "none", read once the trail has settled.
   */
  const storedSince = (action: string, from: string, atLeast = 1) =>
    settledAuditEvents(baseUrl, { action, from }, { atLeast });

  beforeAll(async () => {
    emulator = await startTestEmulator();
    const entities = seedEntities(emulator, { omitUpns: [GRACE] });
    const user = (name: string) =>
      entities.find(e => e.kind === 'User' && e.metadata.name === name)!;
    user('hiro.honda').metadata.annotations![ENTRA_ACCOUNT_ENABLED_ANNOTATION] =
      'false';
    user('ben.builder').metadata.uid = BEN_UID;
    // Held here, so a test can remove Ben as org ingestion would.
    catalog.client = catalogServiceMock({ entities });
    const started = await startAuthBackend(emulator, {
      auditTrail: true,
      catalog: createServiceFactory({
        service: catalogServiceRef,
        deps: {},
        factory: () => catalog.client,
      }),
    });
    baseUrl = started.baseUrl;
    logLines = started.logLines;
    stopBackend = () => started.backend.stop();
  });

  afterAll(async () => {
    await stopBackend?.();
    await emulator?.close();
  });

  it('stores one succeeded sign-in as the person of the verified ID token', async () => {
    const from = new Date().toISOString();
    const result = await signIn(baseUrl, ADA);
    remember(result);
    expect(readPopupResponse(result.body).response).toBeDefined();

    const events = await storedSince('auth.sign-in', from);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      plugin: 'auth',
      eventId: 'sign-in',
      outcome: 'succeeded',
      actor: {
        kind: 'person',
        entityRef: 'user:default/ada.admin',
        oid: person(ADA).id,
        tid: emulator.tenantId,
      },
      request: { method: 'GET', route: '/api/auth/microsoft/handler/frame' },
    });
    // The explicit actor became the event's actor; meta does not repeat it.
    expect(events[0].meta.actor).toBeUndefined();
    // Sign-in's own values were there to be looked for.
    expect(secrets.size).toBeGreaterThanOrEqual(5);
    expectNothingSecret(events);
  });

  it('stores one failed sign-in for a person Entra knows but the catalog does not, with the verified oid and tid', async () => {
    const from = new Date().toISOString();
    const result = await signIn(baseUrl, GRACE);
    remember(result);
    const { error } = readPopupResponse(result.body);
    expect(error.message).toEqual(expect.any(String));

    const events = await storedSince('auth.sign-in', from);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      outcome: 'failed',
      actor: { kind: 'person', oid: person(GRACE).id, tid: emulator.tenantId },
      meta: { reason: 'not-in-catalog' },
      error: { name: 'NotFoundError', message: error.message },
    });
    // Verified, but no User: nobody to link to.
    expect(events[0].actor.entityRef).toBeUndefined();
    expectNothingSecret(events);
  });

  it('stores one failed sign-in for a disabled account, naming the User', async () => {
    const from = new Date().toISOString();
    const result = await signIn(baseUrl, HIRO);
    remember(result);
    const { error } = readPopupResponse(result.body);

    const events = await storedSince('auth.sign-in', from);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      outcome: 'failed',
      actor: {
        kind: 'person',
        entityRef: 'user:default/hiro.honda',
        oid: person(HIRO).id,
        tid: emulator.tenantId,
      },
      meta: { reason: 'account-disabled' },
      error: { name: 'NotAllowedError', message: error.message },
    });
    // The person filter finds it by the User, as the Audit page does.
    const byPerson = await settledAuditEvents(baseUrl, {
      person: 'user:default/hiro.honda',
      action: 'auth.sign-in',
    });
    expect(byPerson.map(e => e.id)).toEqual([events[0].id]);
    expectNothingSecret(events);
  });

  it('stores one session-refused when a signed-in person left the catalog, and no sign-in for it', async () => {
    const signedIn = await signIn(baseUrl, BEN);
    remember(signedIn);
    expect(readPopupResponse(signedIn.body).response).toBeDefined();
    await catalog.client.removeEntityByUid(BEN_UID);

    const from = new Date().toISOString();
    const res = await refreshSession(baseUrl, signedIn.sessionCookie!);
    expect(res.status).toBe(401);
    const { error } = await res.json();

    const events = await storedSince('auth.session-refused', from);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      plugin: 'auth',
      eventId: 'session-refused',
      outcome: 'failed',
      actor: { kind: 'person', oid: person(BEN).id, tid: emulator.tenantId },
      meta: { reason: 'not-in-catalog' },
      error: { name: 'AuthenticationError', message: error.message },
      request: { method: 'GET', route: '/api/auth/microsoft/refresh' },
    });
    // Read after the refusal was stored: the trail had flushed by then.
    expect(await storedSince('auth.sign-in', from, 0)).toEqual([]);
    expectNothingSecret(events);
  });

  it('holds no token, code, state or secret anywhere in the stored trail or the backend log', async () => {
    const everything = await settledAuditEvents(baseUrl, {});
    // Exactly what the tests above did, once each: four sign-in attempts
    // and a refused refresh.
    const ofAuth = everything.filter(e => e.plugin === 'auth');
    expect(ofAuth.filter(e => e.eventId === 'sign-in')).toHaveLength(4);
    expect(ofAuth.filter(e => e.eventId === 'session-refused')).toHaveLength(1);
    expectNothingSecret(everything);
    // The auditor logs each of them too (initiated and the outcome): the log
    // searched is the one that has them.
    const logged = logLines
      .map(l => JSON.parse(l))
      .filter(l => l.isAuditEvent && l.plugin === 'auth');
    expect(logged.filter(l => l.status === 'initiated')).toHaveLength(5);
    expect(logged.filter(l => l.status !== 'initiated')).toHaveLength(5);
    expectNothingSecret(logLines.join('\n'));
  });
});
