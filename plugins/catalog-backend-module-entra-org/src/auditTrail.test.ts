/*
 * The org ingestion's events as the audit trail stores them: the module in a
 * real catalog with the portal's auditor and audit plugin (as packages/backend
 * runs them), each event read back through GET /api/audit/events once the
 * sink has flushed. Auth and permissions are the test backend's mocks, so the
 * trail is read with a mock service token.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  AuthorizeResult,
  isPermission,
} from '@backstage/plugin-permission-common';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import type { AuditEvent } from '@internal/plugin-audit-common';
import { auditReadPermission } from '@internal/plugin-audit-common';
import { auditTrail, settledAuditEvents } from '@internal/portal-test-utils';
import request from 'supertest';
import { catalogModuleEntraOrg } from './module';

const ADMIN_REF = 'user:default/ada.admin';
const NON_ADMIN_REF = 'user:default/ben.builder';
const reader = { authorization: mockCredentials.service.header() };

async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 250));
  }
}

/** The module, the catalog and the trail, with the emulator as Graph. */
async function startBackend(
  emulator: EntraEmulator,
  extraFeatures: Parameters<typeof startTestBackend>[0]['features'] = [],
) {
  const trail = auditTrail();
  const { server } = await startTestBackend({
    features: [
      catalogPlugin,
      catalogModuleEntraOrg,
      ...trail.features,
      // Its own: the test backend's default scheduler is one for every
      // backend of the file, and would run another backend's ingestion.
      mockServices.scheduler.factory(),
      ...(extraFeatures ?? []),
      mockServices.rootConfig.factory({
        data: {
          audit: trail.config.audit,
          catalog: {
            providers: {
              microsoftGraphOrg: {
                default: {
                  target: emulator.graphBaseUrl,
                  authority: emulator.httpsUrl,
                  tenantId: emulator.tenantId,
                  clientId: emulator.apps.portal.clientId,
                  clientSecret: emulator.apps.portal.clientSecret,
                  schedule: {
                    frequency: { minutes: 30 },
                    timeout: { minutes: 5 },
                  },
                },
              },
            },
          },
        },
      }),
    ],
  });
  const port = (server.address() as { port: number }).port;
  return { server, baseUrl: `http://localhost:${port}` };
}

const expectNoSecret = (emulator: EntraEmulator, events: AuditEvent[]) => {
  const text = JSON.stringify(events);
  expect(text).not.toContain(emulator.apps.portal.clientSecret);
  expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
};

describe('Entra org events in the stored audit trail', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator?.close());
  afterEach(() => emulator.clearFaults());

  it('stores an admin’s override once as the admin, the run it started once as the admin, and a run the guard refused once', async () => {
    const { server, baseUrl } = await startBackend(emulator);
    const admin = mockCredentials.user.header(ADMIN_REF);
    // The test scheduler runs the ingestion once at startup; the admin's
    // Entra ids come from the User entity that run puts in the catalog.
    // Read as a service: the trail completes a person from the catalog and
    // remembers a miss for minutes, so the admin acts once their User is in.
    const ada = await waitFor(async () => {
      const res = await request(server)
        .get('/api/catalog/entities/by-name/user/default/ada.admin')
        .set('Authorization', reader.authorization);
      return res.status === 200 ? res.body : undefined;
    }, 'ada.admin in the catalog');
    const oid = ada.metadata.annotations['graph.microsoft.com/user-id'];
    expect(oid).toBe(
      emulator.seed.users.find(u => u.displayName === 'Ada Admin')!.id,
    );
    // The provider names the tenant on the root group only; the trail
    // takes a person's from the provider that ingested them.
    expect(ada.metadata.annotations).not.toHaveProperty(
      'graph.microsoft.com/tenant-id',
    );
    const adminActor = expect.objectContaining({
      kind: 'person',
      entityRef: ADMIN_REF,
      oid,
      tid: emulator.tenantId,
    });
    const scheduled = await settledAuditEvents(
      baseUrl,
      { action: 'catalog.entra-org-run' },
      { authorization: reader.authorization },
    );
    expect(scheduled).toEqual([
      expect.objectContaining({
        outcome: 'succeeded',
        actor: { kind: 'plugin', plugin: 'catalog' },
        meta: expect.objectContaining({ trigger: 'schedule', mode: 'full' }),
      }),
    ]);

    const allowed = await request(server)
      .post('/api/catalog/entra-org/providers/default/allow-removal')
      .set('Authorization', admin);
    expect(allowed.status).toBe(202);
    const overrides = await settledAuditEvents(
      baseUrl,
      { action: 'catalog.entra-org-removal-allow' },
      { authorization: reader.authorization },
    );
    expect(overrides).toEqual([
      expect.objectContaining({
        plugin: 'catalog',
        severity: 'high',
        outcome: 'succeeded',
        actor: adminActor,
        request: {
          method: 'POST',
          route: '/api/catalog/entra-org/providers/default/allow-removal',
        },
        meta: {
          providerId: 'default',
          allowedBy: ADMIN_REF,
          run: 'started',
        },
      }),
    ]);
    // The run the override started: recorded by the run, not by the route,
    // with the admin as the actor although it has no request.
    const runs = await settledAuditEvents(
      baseUrl,
      { action: 'catalog.entra-org-run' },
      { atLeast: 2, authorization: reader.authorization },
    );
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({
      outcome: 'succeeded',
      actor: adminActor,
      meta: { trigger: 'manual', requestedBy: ADMIN_REF },
    });
    expect(runs[0].request).toBeUndefined();
    expect(runs[0].meta).not.toHaveProperty('actor');

    // A Graph that suddenly answers with nobody: the guard refuses the run.
    emulator.setFaults([{ route: '/v1.0/*', type: 'emptyDirectory' }]);
    const started = await request(server)
      .post('/api/catalog/entra-org/providers/default/run')
      .set('Authorization', admin);
    expect(started.status).toBe(202);
    const refused = await settledAuditEvents(
      baseUrl,
      { action: 'catalog.entra-org-guard-refused' },
      { authorization: reader.authorization },
    );
    expect(refused).toEqual([
      expect.objectContaining({
        severity: 'high',
        outcome: 'failed',
        actor: adminActor,
        meta: expect.objectContaining({
          providerId: 'default',
          trigger: 'manual',
          outcome: 'refused',
          guard: 'deletion-guard',
          guardKind: 'users',
          requestedBy: ADMIN_REF,
        }),
        error: expect.objectContaining({ name: 'NotAllowedError' }),
      }),
    ]);
    expect(refused[0].error?.message).toMatch(/allow-removal/);
    // A refused run is recorded as the refusal only, not as a run too.
    expect(
      await settledAuditEvents(
        baseUrl,
        { action: 'catalog.entra-org-run' },
        { atLeast: 0, authorization: reader.authorization },
      ),
    ).toEqual(runs);
    // The person the run would have removed is still in the catalog.
    const still = await request(server)
      .get('/api/catalog/entities/by-name/user/default/ada.admin')
      .set('Authorization', admin);
    expect(still.status).toBe(200);

    expectNoSecret(
      emulator,
      await settledAuditEvents(
        baseUrl,
        {},
        { authorization: reader.authorization },
      ),
    );
  });

  it('stores a non-admin’s refused override once, as failed, as that person, and starts no run', async () => {
    // Entra org permissions denied, the trail readable (by the test).
    const permissions = mockServices.permissions.mock({
      authorize: async requests =>
        requests.map(r => ({
          result: isPermission(r.permission, auditReadPermission)
            ? AuthorizeResult.ALLOW
            : AuthorizeResult.DENY,
        })),
      // The catalog's reads (none here but the trail's actor lookups).
      authorizeConditional: async requests =>
        requests.map(() => ({ result: AuthorizeResult.ALLOW })),
    });
    const { server, baseUrl } = await startBackend(emulator, [
      permissions.factory,
    ]);
    await settledAuditEvents(
      baseUrl,
      { action: 'catalog.entra-org-run' },
      { authorization: reader.authorization },
    );

    const res = await request(server)
      .post('/api/catalog/entra-org/providers/default/allow-removal')
      .set('Authorization', mockCredentials.user.header(NON_ADMIN_REF));
    expect(res.status).toBe(403);
    const overrides = await settledAuditEvents(
      baseUrl,
      { action: 'catalog.entra-org-removal-allow' },
      { authorization: reader.authorization },
    );
    expect(overrides).toEqual([
      expect.objectContaining({
        severity: 'high',
        outcome: 'failed',
        actor: expect.objectContaining({
          kind: 'person',
          entityRef: NON_ADMIN_REF,
        }),
        meta: { providerId: 'default' },
        error: expect.objectContaining({ name: 'NotAllowedError' }),
      }),
    ]);
    // Only the startup run: the refused override started none.
    expect(
      await settledAuditEvents(
        baseUrl,
        { action: 'catalog.entra-org-run' },
        { atLeast: 0, authorization: reader.authorization },
      ),
    ).toHaveLength(1);
  });
});
