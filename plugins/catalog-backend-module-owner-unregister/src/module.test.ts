import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { catalogLocationsExtensionPoint } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import { catalogModuleOwnerUnregister } from './module';

const ENTITIES = `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ledger }
spec: { type: service, lifecycle: production, owner: group:default/payments }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ledger-ui }
spec: { type: website, lifecycle: production, owner: group:default/payments }
`;

const CONFIG_ENTITY = `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: portal }
spec: { type: website, lifecycle: production, owner: group:default/platform-admins }
`;

/** Lets the test register local files, as a url location would be in use. */
const allowFileLocations = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'test-file-locations',
  register(reg) {
    reg.registerInit({
      deps: { locations: catalogLocationsExtensionPoint },
      async init({ locations }) {
        locations.setAllowedLocationTypes(['url', 'file']);
      },
    });
  },
});

/**
 * The policy's answer for catalog.entity.delete, standing in for the
 * ownership policy: `deletable` lists what the caller owns.
 */
function permissionsAllowingDeleteOf(deletable: string[]) {
  return mockServices.permissions.mock({
    authorize: async requests =>
      requests.map(r => ({
        result:
          !('resourceRef' in r) ||
          !r.resourceRef ||
          deletable.includes(r.resourceRef as string)
            ? AuthorizeResult.ALLOW
            : AuthorizeResult.DENY,
      })),
    authorizeConditional: async requests =>
      requests.map(() => ({ result: AuthorizeResult.ALLOW })),
  }).factory;
}

async function start(deletable: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'owner-unregister-'));
  const registered = path.join(dir, 'ledger.yaml');
  const configured = path.join(dir, 'portal.yaml');
  fs.writeFileSync(registered, ENTITIES);
  fs.writeFileSync(configured, CONFIG_ENTITY);
  const { server } = await startTestBackend({
    features: [
      catalogPlugin,
      catalogModuleOwnerUnregister,
      allowFileLocations,
      permissionsAllowingDeleteOf(deletable),
      mockServices.rootConfig.factory({
        data: {
          catalog: {
            locations: [{ type: 'file', target: configured }],
            processingInterval: { seconds: 1 },
          },
        },
      }),
    ],
  });
  const auth = mockCredentials.user.header('user:default/eve.ellis');
  const created = await request(server)
    .post('/api/catalog/locations')
    .set('Authorization', auth)
    .send({ type: 'file', target: registered });
  expect(created.status).toBe(201);
  const visible = async (name: string) =>
    (
      await request(server)
        .get(`/api/catalog/entities/by-name/component/default/${name}`)
        .set('Authorization', auth)
    ).status === 200;
  await waitUntil(
    async () => (await visible('ledger-ui')) && visible('portal'),
  );
  return { server, auth, visible, locationId: created.body.location.id };
}

async function waitUntil(probe: () => Promise<boolean>) {
  const deadline = Date.now() + 45_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise(r => setTimeout(r, 250));
  }
}

describe('POST /api/catalog/owner-unregister', () => {
  it('removes the location when the caller may delete every entity of it', async () => {
    const { server, auth, visible, locationId } = await start([
      'component:default/ledger',
      'component:default/ledger-ui',
    ]);
    const res = await request(server)
      .post('/api/catalog/owner-unregister')
      .set('Authorization', auth)
      .send({ entityRef: 'component:default/ledger' });
    expect(res.status).toBe(200);
    expect(res.body.entityRefs.sort()).toEqual([
      'component:default/ledger',
      'component:default/ledger-ui',
    ]);
    expect(
      (
        await request(server)
          .get(`/api/catalog/locations/${locationId}`)
          .set('Authorization', auth)
      ).status,
    ).toBe(404);
    await waitUntil(async () => !(await visible('ledger')));
    expect(await visible('ledger-ui')).toBe(false);
  });

  it('refuses, naming what the caller may not delete, and keeps the location', async () => {
    const { server, auth, visible, locationId } = await start([
      'component:default/ledger',
    ]);
    const res = await request(server)
      .post('/api/catalog/owner-unregister')
      .set('Authorization', auth)
      .send({ entityRef: 'component:default/ledger' });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(
      /Only owners of every entity of file:.*ledger\.yaml \(and portal admins\) can unregister it; you may not delete component:default\/ledger-ui/,
    );
    expect(
      (
        await request(server)
          .get(`/api/catalog/locations/${locationId}`)
          .set('Authorization', auth)
      ).status,
    ).toBe(200);
    expect(await visible('ledger')).toBe(true);
  });

  it('explains that entities from app-config locations are removed there', async () => {
    const { server, auth } = await start(['component:default/portal']);
    const res = await request(server)
      .post('/api/catalog/owner-unregister')
      .set('Authorization', auth)
      .send({ entityRef: 'component:default/portal' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(
      /not from a registered location .* app-config catalog\.locations/,
    );
  });

  it('answers 404 for an entity the caller cannot see, and 400 without a ref', async () => {
    const { server, auth } = await start([]);
    const missing = await request(server)
      .post('/api/catalog/owner-unregister')
      .set('Authorization', auth)
      .send({ entityRef: 'component:default/nope' });
    expect(missing.status).toBe(404);
    const bad = await request(server)
      .post('/api/catalog/owner-unregister')
      .set('Authorization', auth)
      .send({});
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/entityRef/);
  });
});
