import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  BackstageCredentials,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogLocationsExtensionPoint } from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  PermissionCondition,
} from '@backstage/plugin-permission-common';
import { stringifyEntityRef } from '@backstage/catalog-model';
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
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ledger-db }
spec: { type: database, lifecycle: production, owner: group:default/payments }
`;

/** Where a test re-points the ledger location. */
const ELSEWHERE = `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: elsewhere }
spec: { type: service, lifecycle: production, owner: group:default/data }
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
 * Stands in for the ownership policy: `deletable` lists what the caller owns
 * (catalog.entity.delete), `hidden` the names of entities they may not read,
 * and `admin` gives catalog.location.delete (admins only in the policy).
 * Everything else is allowed.
 */
interface Access {
  deletable: string[];
  hidden?: string[];
  admin?: boolean;
  /** catalog.location.create, read on every request like admin; default true. */
  register?: boolean;
}

const principalType = (credentials?: BackstageCredentials) =>
  (credentials?.principal as { type?: string } | undefined)?.type;
const isUser = (c?: BackstageCredentials) => principalType(c) === 'user';
const isService = (c?: BackstageCredentials) => principalType(c) === 'service';

function permissionsFor(access: Access) {
  const { deletable, hidden = [] } = access;
  // Everything else is allowed; service principals always are, as
  // Backstage's permission client decides them without a policy.
  return mockServices.permissions.mock({
    authorize: async (requests, options) =>
      requests.map(r => {
        if (isService(options?.credentials)) {
          return { result: AuthorizeResult.ALLOW };
        }
        if (r.permission.name === 'catalog.location.create') {
          return {
            result:
              access.register === false
                ? AuthorizeResult.DENY
                : AuthorizeResult.ALLOW,
          };
        }
        if (r.permission.name === 'catalog.location.delete') {
          return {
            result: access.admin ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
          };
        }
        const ref = 'resourceRef' in r ? r.resourceRef : undefined;
        return {
          result:
            !ref || deletable.includes(ref as string)
              ? AuthorizeResult.ALLOW
              : AuthorizeResult.DENY,
        };
      }),
    authorizeConditional: async (requests, options) =>
      requests.map(r =>
        r.permission.name === 'catalog.entity.read' &&
        hidden.length > 0 &&
        isUser(options?.credentials)
          ? {
              result: AuthorizeResult.CONDITIONAL,
              pluginId: 'catalog',
              resourceType: 'catalog-entity',
              conditions: {
                not: {
                  anyOf: hidden.map(
                    (value): PermissionCondition => ({
                      rule: 'HAS_METADATA',
                      resourceType: 'catalog-entity',
                      params: { key: 'name', value },
                    }),
                  ) as [PermissionCondition, ...PermissionCondition[]],
                },
              },
            }
          : { result: AuthorizeResult.ALLOW },
      ),
  }).factory;
}

async function start(access: Access) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'owner-unregister-'));
  const registered = path.join(dir, 'ledger.yaml');
  const configured = path.join(dir, 'portal.yaml');
  const elsewhere = path.join(dir, 'elsewhere.yaml');
  fs.writeFileSync(registered, ENTITIES);
  fs.writeFileSync(configured, CONFIG_ENTITY);
  fs.writeFileSync(elsewhere, ELSEWHERE);
  const { server } = await startTestBackend({
    features: [
      catalogPlugin,
      catalogModuleOwnerUnregister,
      allowFileLocations,
      permissionsFor(access),
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
  // Processed at all, whether or not the caller may read it.
  const exists = async (name: string) =>
    Boolean(
      (
        await request(server)
          .post('/api/catalog/entities/by-refs')
          .set('Authorization', mockCredentials.service.header())
          .send({ entityRefs: [`component:default/${name}`] })
      ).body.items?.[0],
    );
  const visible = async (name: string) =>
    (
      await request(server)
        .get(`/api/catalog/entities/by-name/component/default/${name}`)
        .set('Authorization', auth)
    ).status === 200;
  await waitUntil(
    async () =>
      (await exists('ledger-ui')) &&
      (await exists('ledger-db')) &&
      exists('portal'),
  );
  return {
    server,
    auth,
    visible,
    registered,
    elsewhere,
    locationId: created.body.location.id as string,
  };
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
    const { server, auth, visible, locationId } = await start({
      deletable: [
        'component:default/ledger',
        'component:default/ledger-db',
        'component:default/ledger-ui',
      ],
    });
    const res = await request(server)
      .post('/api/catalog/owner-unregister')
      .set('Authorization', auth)
      .send({ entityRef: 'component:default/ledger' });
    expect([res.status, res.body.error?.message]).toEqual([200, undefined]);
    expect(res.body.entityRefs).toEqual([
      'component:default/ledger',
      'component:default/ledger-db',
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
    const { server, auth, visible, locationId } = await start({
      deletable: ['component:default/ledger'],
    });
    const res = await request(server)
      .post('/api/catalog/owner-unregister')
      .set('Authorization', auth)
      .send({ entityRef: 'component:default/ledger' });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(
      /Only owners of every entity of file:.*ledger\.yaml \(and portal admins\) can unregister it; you may not delete component:default\/ledger-db and component:default\/ledger-ui$/,
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
    const { server, auth } = await start({
      deletable: ['component:default/portal'],
    });
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
    const { server, auth } = await start({ deletable: [] });
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

  it('names only what the caller may read, and counts the rest', async () => {
    const { server, auth } = await start({
      deletable: ['component:default/ledger'],
      hidden: ['ledger-db', 'ledger-ui'],
    });
    const res = await request(server)
      .post('/api/catalog/owner-unregister')
      .set('Authorization', auth)
      .send({ entityRef: 'component:default/ledger' });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(
      /can unregister it; you may not delete 2 entities you cannot see$/,
    );
    expect(res.body.error.message).not.toMatch(/ledger-(db|ui)/);
  });

  it('names the readable ones first, then counts the hidden', async () => {
    const { server, auth } = await start({
      deletable: ['component:default/ledger'],
      hidden: ['ledger-db'],
    });
    const res = await request(server)
      .post('/api/catalog/owner-unregister')
      .set('Authorization', auth)
      .send({ entityRef: 'component:default/ledger' });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(
      /you may not delete component:default\/ledger-ui and 1 entity you cannot see$/,
    );
    expect(res.body.error.message).not.toContain('ledger-db');
  });
});

describe('a location that holds no entities', () => {
  it('is unregistered and re-pointed by admins only', async () => {
    const access: Access = { deletable: [] };
    const { server, auth, elsewhere } = await start(access);
    const empty = path.join(path.dirname(elsewhere), 'empty.yaml');
    fs.writeFileSync(empty, '');
    const created = await request(server)
      .post('/api/catalog/locations')
      .set('Authorization', auth)
      .send({ type: 'file', target: empty });
    expect(created.status).toBe(201);
    // The Location entity the catalog generated for it is all it holds.
    let generated = '';
    await waitUntil(async () => {
      const { body } = await request(server)
        .get(`/api/catalog/entities?filter=kind=location,spec.target=${empty}`)
        .set('Authorization', auth);
      generated = body[0] ? stringifyEntityRef(body[0]) : '';
      return Boolean(generated);
    });
    expect(generated).toMatch(/^location:default\/generated-/);

    const unregister = () =>
      request(server)
        .post('/api/catalog/owner-unregister')
        .set('Authorization', auth)
        .send({ entityRef: generated });
    const repoint = () =>
      request(server)
        .put(`/api/catalog/locations/${created.body.location.id}`)
        .set('Authorization', auth)
        .send({ type: 'file', target: elsewhere });
    const reason = (verb: string) =>
      `Only portal admins can ${verb} file:${empty}: it holds no entities whose owners could`;
    const refusedUnregister = await unregister();
    const refusedRepoint = await repoint();
    expect([
      refusedUnregister.status,
      refusedUnregister.body.error.message,
    ]).toEqual([403, reason('unregister')]);
    expect([refusedRepoint.status, refusedRepoint.body.error.message]).toEqual([
      403,
      reason('change'),
    ]);

    access.admin = true;
    expect((await repoint()).status).toBe(200);
  });
});

describe('PUT /api/catalog/locations/:id', () => {
  const repoint = (server: any, auth: string, id: string, target: string) =>
    request(server)
      .put(`/api/catalog/locations/${id}`)
      .set('Authorization', auth)
      .send({ type: 'file', target });
  const targetOf = async (server: any, auth: string, id: string) =>
    (
      await request(server)
        .get(`/api/catalog/locations/${id}`)
        .set('Authorization', auth)
    ).body.target;

  it('re-points a location for the owners of every entity it holds', async () => {
    const { server, auth, locationId, elsewhere } = await start({
      deletable: [
        'component:default/ledger',
        'component:default/ledger-db',
        'component:default/ledger-ui',
      ],
    });
    const res = await repoint(server, auth, locationId, elsewhere);
    expect([res.status, res.body.target]).toEqual([200, elsewhere]);
    expect(await targetOf(server, auth, locationId)).toBe(elsewhere);
  });

  it('refuses someone who does not own every entity, with the reason, and keeps the target', async () => {
    const { server, auth, locationId, registered, elsewhere } = await start({
      deletable: ['component:default/ledger'],
    });
    const res = await repoint(server, auth, locationId, elsewhere);
    expect(res.status).toBe(403);
    expect(res.body.error.name).toBe('NotAllowedError');
    expect(res.body.error.message).toMatch(
      /^Only owners of every entity of file:.*ledger\.yaml \(and portal admins\) can change it; you may not change component:default\/ledger-db and component:default\/ledger-ui$/,
    );
    expect(await targetOf(server, auth, locationId)).toBe(registered);
  });

  it('names only what the caller may read in a refusal', async () => {
    const { server, auth, locationId, elsewhere } = await start({
      deletable: ['component:default/ledger'],
      hidden: ['ledger-db'],
    });
    const res = await repoint(server, auth, locationId, elsewhere);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(
      /you may not change component:default\/ledger-ui and 1 entity you cannot see$/,
    );
    expect(res.body.error.message).not.toContain('ledger-db');
  });

  it('answers a location the caller can see nothing of as a missing one', async () => {
    const { server, auth, locationId, registered, elsewhere } = await start({
      deletable: [],
      hidden: ['ledger', 'ledger-db', 'ledger-ui'],
    });
    const hidden = await repoint(server, auth, locationId, elsewhere);
    const unknownId = '00000000-0000-4000-8000-000000000000';
    const missing = await repoint(server, auth, unknownId, elsewhere);
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(hidden.body.error.name).toBe(missing.body.error.name);
    expect(hidden.body.error.message).toBe(
      missing.body.error.message.replace(unknownId, locationId),
    );
    expect(JSON.stringify(hidden.body)).not.toMatch(/ledger-|\.yaml/);
    expect(await targetOf(server, auth, locationId)).toBe(registered);
  });

  it('lets admins re-point any location', async () => {
    const { server, auth, locationId, elsewhere } = await start({
      deletable: [],
      admin: true,
    });
    const res = await repoint(server, auth, locationId, elsewhere);
    expect(res.status).toBe(200);
    expect(await targetOf(server, auth, locationId)).toBe(elsewhere);
  });

  it('refuses an owner who may not register, saying why', async () => {
    const access: Access = {
      deletable: [
        'component:default/ledger',
        'component:default/ledger-db',
        'component:default/ledger-ui',
      ],
    };
    const { server, auth, locationId, registered, elsewhere } = await start(
      access,
    );
    access.register = false;
    const res = await repoint(server, auth, locationId, elsewhere);
    expect([res.status, res.body.error.message]).toEqual([
      403,
      `Re-pointing file:${registered} registers its new target, and you may not register locations; ask a portal admin`,
    ]);
    expect(await targetOf(server, auth, locationId)).toBe(registered);
  });

  it('counts what nested locations brought in, for unregistering and re-pointing alike', async () => {
    const { server, auth, elsewhere } = await start({ deletable: [] });
    const dir = path.dirname(elsewhere);
    const root = path.join(dir, 'root.yaml');
    fs.writeFileSync(
      path.join(dir, 'nested.yaml'),
      `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: nested-api }
spec: { type: service, lifecycle: production, owner: group:default/payments }
`,
    );
    // The registered file holds only a Location entity: nothing it manages
    // itself has an owner.
    fs.writeFileSync(
      root,
      `
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: { name: root }
spec: { targets: [./nested.yaml] }
`,
    );
    const created = await request(server)
      .post('/api/catalog/locations')
      .set('Authorization', auth)
      .send({ type: 'file', target: root });
    expect(created.status).toBe(201);
    const id = created.body.location.id;
    await waitUntil(
      async () =>
        (
          await request(server)
            .get('/api/catalog/entities/by-name/component/default/nested-api')
            .set('Authorization', auth)
        ).status === 200,
    );

    const unregister = await request(server)
      .post('/api/catalog/owner-unregister')
      .set('Authorization', auth)
      .send({ entityRef: 'component:default/nested-api' });
    expect([unregister.status, unregister.body.error?.message]).toEqual([
      403,
      `Only owners of every entity of file:${root} (and portal admins) can unregister it; you may not delete component:default/nested-api`,
    ]);
    const repointed = await request(server)
      .put(`/api/catalog/locations/${id}`)
      .set('Authorization', auth)
      .send({ type: 'file', target: elsewhere });
    expect(repointed.status).toBe(403);
    expect(
      (
        await request(server)
          .get(`/api/catalog/locations/${id}`)
          .set('Authorization', auth)
      ).body.target,
    ).toBe(root);
  });
});
