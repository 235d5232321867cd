import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import request from 'supertest';
import { catalogModuleEntraOrg } from './module';

function providerConfig(emulator: EntraEmulator, extra: object = {}) {
  return {
    catalog: {
      providers: {
        microsoftGraphOrg: {
          default: {
            target: emulator.graphBaseUrl,
            authority: emulator.httpsUrl,
            tenantId: emulator.tenantId,
            clientId: emulator.apps.portal.clientId,
            clientSecret: emulator.apps.portal.clientSecret,
            schedule: { frequency: { minutes: 30 }, timeout: { minutes: 5 } },
            ...extra,
          },
        },
      },
    },
  };
}

const ADMIN = mockCredentials.user('user:default/ada.admin');

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

describe('catalogModuleEntraOrg in a backend', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator?.close());

  it('ingests on schedule, makes the people visible in the catalog, and reports the run to admins', async () => {
    const { server } = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleEntraOrg,
        mockServices.rootConfig.factory({ data: providerConfig(emulator) }),
      ],
    });
    const auth = mockCredentials.user.header('user:default/ada.admin');

    const status = await waitFor(async () => {
      const res = await request(server)
        .get('/api/catalog/entra-org/status')
        .set('Authorization', auth);
      expect(res.status).toBe(200);
      return res.body.providers[0].lastRun ?? undefined;
    }, 'the first run');
    expect(status).toMatchObject({
      providerId: 'default',
      outcome: 'applied',
      consecutiveFailures: 0,
    });
    expect(status.read.users).toBeGreaterThan(0);
    expect(status.graph.requests).toBeGreaterThan(0);

    const ada = await waitFor(async () => {
      const res = await request(server)
        .get('/api/catalog/entities/by-name/user/default/ada.admin')
        .set('Authorization', auth);
      return res.status === 200 ? res.body : undefined;
    }, 'ada.admin in the catalog');
    expect(ada.metadata.annotations['graph.microsoft.com/user-id']).toBe(
      emulator.seed.users.find(u => u.displayName === 'Ada Admin')!.id,
    );
    expect(ada.relations).toContainEqual(
      expect.objectContaining({
        type: 'memberOf',
        targetRef: 'group:default/platform-admins',
      }),
    );

    // Unknown provider: the error names the configured ones.
    const unknown = await request(server)
      .post('/api/catalog/entra-org/providers/nope/allow-removal')
      .set('Authorization', auth);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/configured: default/);

    const allowed = await request(server)
      .post('/api/catalog/entra-org/providers/default/allow-removal')
      .set('Authorization', auth);
    expect(allowed.status).toBe(202);
    expect(allowed.body.allowedBy).toBe(ADMIN.principal.userEntityRef);
  });

  it('refuses the status and the override to whom the policy denies them', async () => {
    const { server } = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleEntraOrg,
        mockServices.permissions.factory({ result: AuthorizeResult.DENY }),
        mockServices.rootConfig.factory({
          data: providerConfig(emulator, {
            schedule: {
              frequency: { minutes: 30 },
              timeout: { minutes: 5 },
              initialDelay: { hours: 1 },
            },
          }),
        }),
      ],
    });
    const auth = mockCredentials.user.header('user:default/ben.builder');
    const status = await request(server)
      .get('/api/catalog/entra-org/status')
      .set('Authorization', auth);
    expect(status.status).toBe(403);
    expect(status.body.error.message).toMatch(/Only portal admins/);
    const override = await request(server)
      .post('/api/catalog/entra-org/providers/default/allow-removal')
      .set('Authorization', auth);
    expect(override.status).toBe(403);
  });

  it.each([
    [
      { deletionGuard: { maxDeletionShare: 2 } },
      /catalog\.providers\.microsoftGraphOrg\.default\.deletionGuard\.maxDeletionShare must be a share between 0 and 1/,
    ],
    [
      { guests: 'sometimes' },
      /catalog\.providers\.microsoftGraphOrg\.default\.guests must be 'include' or 'exclude'/,
    ],
  ])(
    'fails startup on a wrong setting, naming the key',
    async (extra, message) => {
      await expect(
        startTestBackend({
          features: [
            catalogPlugin,
            catalogModuleEntraOrg,
            mockServices.rootConfig.factory({
              data: providerConfig(emulator, extra),
            }),
          ],
        }),
      ).rejects.toThrow(message);
    },
  );
});
