/*
 * Denials in the audit trail: the portal as it runs (real auth, catalog,
 * permission backend and this policy), with an auditor that records each
 * event's outcome and its request's principal. The permission backend
 * decides conditional decisions by asking the catalog, so these go through
 * the catalog's routes, not the policy alone.
 *
 *   owner     carla.chen  member of payments, owns the disposable components
 *   nonOwner  rosa.ruiz   member of data; owns nothing here
 *   admin     ada.admin   member of platform-admins
 */
import { Entity } from '@backstage/catalog-model';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import {
  RecordedAuditEvent,
  signIn,
  startPortalBackend,
} from './__testUtils__/backend';
import { seededOrgEntities } from '../dev/policyTest/catalogFixture';

type Who = 'owner' | 'nonOwner' | 'admin';

const PEOPLE: Record<Who, string> = {
  owner: 'carla.chen@contoso.example',
  nonOwner: 'rosa.ruiz@contoso.example',
  admin: 'ada.admin@contoso.example',
};
const USER_REF: Record<Who, string> = {
  owner: 'user:default/carla.chen',
  nonOwner: 'user:default/rosa.ruiz',
  admin: 'user:default/ada.admin',
};

const component = (name: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name },
  spec: { type: 'service', lifecycle: 'experimental', owner: 'payments' },
});
const database = (name: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Resource',
  metadata: { name },
  spec: { type: 'database', owner: 'payments' },
});
const STATIC_TOKEN = 'read-only-robot-token-0123456789abcdef';
const COMPONENTS = ['audited-a', 'audited-b', 'audited-c', 'audited-own'];
const refOf = (name: string) => `component:default/${name}`;

const ownershipPolicy = {
  admins: ['group:default/platform-admins'],
  catalog: { restrictReadToOwners: { kinds: ['Resource'] } },
  // Every decision reads the person from the catalog: a removed User is
  // refused at once (the last test).
  identityCacheTtl: '0s',
};

const entityDelete = {
  type: 'resource',
  name: 'catalog.entity.delete',
  attributes: { action: 'delete' },
  resourceType: 'catalog-entity',
};
const locationDelete = {
  type: 'basic',
  name: 'catalog.location.delete',
  attributes: { action: 'delete' },
};
const auditRead = {
  type: 'basic',
  name: 'audit.read',
  attributes: { action: 'read' },
};

/** What the catalog holds: the seeded org and the fixtures, but `removed` Users. */
const entitiesNow = (removed: string[] = []) => [
  ...seededOrgEntities().filter(
    e => !(e.kind === 'User' && removed.includes(e.metadata.name)),
  ),
  ...COMPONENTS.map(component),
  database('audited-db'),
];

describe('permission denials in the audit trail', () => {
  let emulator: EntraEmulator;
  let baseUrl: string;
  let events: RecordedAuditEvent[];
  let stopBackend: () => Promise<void>;
  let applyEntities: (entities: Entity[]) => Promise<void>;
  const headers = {} as Record<Who, Record<string, string>>;

  const api = (who: Who, method: string, path: string, body?: unknown) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...headers[who],
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  const authorize = async (who: Who, items: object[]) => {
    const res = await api(who, 'POST', '/api/permission/authorize', {
      items,
    });
    return { status: res.status, body: await res.json() };
  };
  const uidOf = async (name: string) => {
    const res = await api(
      'admin',
      'GET',
      `/api/catalog/entities/by-name/component/default/${name}`,
    );
    expect(res.status).toBe(200);
    return (await res.json()).metadata.uid as string;
  };
  const denials = () => events.filter(e => e.eventId === 'permission-denied');

  beforeAll(async () => {
    emulator = await startTestEmulator();
    const started = await startPortalBackend({
      emulator,
      entities: entitiesNow(),
      ownershipPolicy,
      staticToken: STATIC_TOKEN,
    });
    baseUrl = started.baseUrl;
    events = started.auditEvents;
    applyEntities = started.applyEntities;
    stopBackend = () => started.backend.stop();

    // The fixed entities are processed and stitched in the background.
    const robot = { authorization: `Bearer ${STATIC_TOKEN}` };
    const deadline = Date.now() + 45_000;
    for (;;) {
      const res = await fetch(`${baseUrl}/api/catalog/entities/by-refs`, {
        method: 'POST',
        headers: { ...robot, 'content-type': 'application/json' },
        body: JSON.stringify({
          entityRefs: [
            ...COMPONENTS.map(refOf),
            ...Object.values(USER_REF),
            'group:default/engineering',
          ],
        }),
      });
      const body = await res.json();
      if (body?.items?.every((e: Entity | null) => e?.relations?.length)) {
        break;
      }
      if (Date.now() > deadline) throw new Error('Catalog never settled');
      await new Promise(r => setTimeout(r, 250));
    }
    for (const [who, upn] of Object.entries(PEOPLE)) {
      const { token } = await signIn(baseUrl, upn);
      headers[who as Who] = { authorization: `Bearer ${token}` };
    }
  });

  afterAll(async () => {
    await stopBackend?.();
    await emulator?.close();
  });

  beforeEach(() => {
    events.length = 0;
  });

  const expectedDenial = (who: Who, meta: object) =>
    expect.objectContaining({
      plugin: 'permission',
      severityLevel: 'medium',
      outcome: 'failed',
      principal: expect.objectContaining({
        type: 'user',
        userEntityRef: USER_REF[who],
      }),
      request: { method: 'POST', path: '/api/permission/authorize' },
      meta,
    });

  it('records a denied delete of someone else’s entity once, as the person, with the condition that denied it', async () => {
    const { body } = await authorize('nonOwner', [
      { id: '1', permission: entityDelete, resourceRef: refOf('audited-a') },
    ]);
    expect(body.items).toEqual([{ id: '1', result: 'DENY' }]);
    expect(denials()).toEqual([
      expectedDenial('nonOwner', {
        permission: 'catalog.entity.delete',
        resourceRef: refOf('audited-a'),
        resourceType: 'catalog-entity',
        rule: 'IS_ENTITY_OWNER',
      }),
    ]);
    const [event] = denials();
    expect(event.error?.name).toBe('NotAllowedError');
    expect(event.error?.message).toBe(
      'catalog.entity.delete denied by IS_ENTITY_OWNER',
    );
  });

  it('records a denial the catalog asked for on the person’s behalf (refresh), with the resource', async () => {
    const res = await api('nonOwner', 'POST', '/api/catalog/refresh', {
      entityRef: refOf('audited-a'),
    });
    expect(res.status).toBe(403);
    // The catalog forwards the person's token: the actor is the person.
    expect(denials()).toEqual([
      expectedDenial('nonOwner', {
        permission: 'catalog.entity.refresh',
        resourceRef: refOf('audited-a'),
        resourceType: 'catalog-entity',
        rule: 'IS_ENTITY_OWNER',
      }),
    ]);
  });

  it('leaves a delete by uid to the catalog’s own event: the catalog asks without the entity and applies the conditions itself', async () => {
    const uid = await uidOf('audited-a');
    events.length = 0;
    const res = await api(
      'nonOwner',
      'DELETE',
      `/api/catalog/entities/by-uid/${uid}`,
    );
    expect(res.status).toBe(403);
    // The permission backend answered CONDITIONAL, not DENY: nothing to
    // record there without guessing.
    expect(denials()).toEqual([]);
    expect(events.filter(e => e.eventId === 'entity-mutate')).toEqual([
      expect.objectContaining({
        plugin: 'catalog',
        outcome: 'failed',
        principal: expect.objectContaining({
          userEntityRef: USER_REF.nonOwner,
        }),
        meta: { actionType: 'delete', uid },
      }),
    ]);
  });

  it('records nothing for an owner’s allowed delete', async () => {
    const uid = await uidOf('audited-own');
    events.length = 0;
    const res = await api(
      'owner',
      'DELETE',
      `/api/catalog/entities/by-uid/${uid}`,
    );
    expect(res.status).toBe(204);
    expect(denials()).toEqual([]);
  });

  it('records an unconditional denial with the rule that made it', async () => {
    const res = await api(
      'nonOwner',
      'DELETE',
      '/api/catalog/locations/00000000-0000-4000-8000-000000000000',
    );
    expect(res.status).toBe(403);
    expect(denials()).toEqual([
      expectedDenial('nonOwner', {
        permission: 'catalog.location.delete',
        rule: 'admins-only',
      }),
    ]);
  });

  it('records nothing for a list the policy answers with conditions', async () => {
    // Resources are read by owners only: a conditional decision, which the
    // catalog turns into a filter (not a denial).
    const res = await api(
      'nonOwner',
      'GET',
      '/api/catalog/entities?filter=kind=resource,metadata.name=audited-db',
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    expect(denials()).toEqual([]);
  });

  it('records one event per denied item of a batch, with the rule of each, and none for the allowed ones', async () => {
    const { status, body } = await authorize('nonOwner', [
      { id: 'b', permission: entityDelete, resourceRef: refOf('audited-b') },
      {
        id: 'read',
        permission: {
          ...entityDelete,
          name: 'catalog.entity.read',
          attributes: { action: 'read' },
        },
        resourceRef: refOf('audited-b'),
      },
      { id: 'loc', permission: locationDelete },
      { id: 'c', permission: entityDelete, resourceRef: refOf('audited-c') },
    ]);
    expect(status).toBe(200);
    expect(body.items).toEqual([
      { id: 'b', result: 'DENY' },
      { id: 'read', result: 'ALLOW' },
      { id: 'loc', result: 'DENY' },
      { id: 'c', result: 'DENY' },
    ]);
    const recorded = denials();
    expect(recorded).toHaveLength(3);
    expect(recorded.map(e => e.meta)).toEqual(
      expect.arrayContaining([
        {
          permission: 'catalog.entity.delete',
          resourceRef: refOf('audited-b'),
          resourceType: 'catalog-entity',
          rule: 'IS_ENTITY_OWNER',
        },
        { permission: 'catalog.location.delete', rule: 'admins-only' },
        {
          permission: 'catalog.entity.delete',
          resourceRef: refOf('audited-c'),
          resourceType: 'catalog-entity',
          rule: 'IS_ENTITY_OWNER',
        },
      ]),
    );
    for (const e of recorded) {
      expect(e.outcome).toBe('failed');
      expect(e.principal).toMatchObject({ userEntityRef: USER_REF.nonOwner });
    }
  });

  it('records one event per denied resource of a batched item (resourceRef as a list)', async () => {
    const { status, body } = await authorize('owner', [
      {
        id: 'batch',
        permission: entityDelete,
        resourceRef: [
          refOf('audited-b'),
          'component:default/no-such-component',
        ],
      },
    ]);
    expect(status).toBe(200);
    // Owned, and not found (the catalog denies a missing entity).
    expect(body.items).toEqual([{ id: 'batch', result: ['ALLOW', 'DENY'] }]);
    expect(denials().map(e => e.meta)).toEqual([
      {
        permission: 'catalog.entity.delete',
        resourceRef: 'component:default/no-such-component',
        resourceType: 'catalog-entity',
        rule: 'IS_ENTITY_OWNER',
      },
    ]);
  });

  it('lets admins only read the audit trail', async () => {
    const admin = await authorize('admin', [
      { id: '1', permission: auditRead },
    ]);
    const owner = await authorize('owner', [
      { id: '1', permission: auditRead },
    ]);
    expect(admin.body.items).toEqual([{ id: '1', result: 'ALLOW' }]);
    expect(owner.body.items).toEqual([{ id: '1', result: 'DENY' }]);
    expect(denials()).toEqual([
      expectedDenial('owner', {
        permission: 'audit.read',
        rule: 'admins-only',
      }),
    ]);
  });

  it('names a permission the policy does not know', async () => {
    const { body } = await authorize('owner', [
      {
        id: '1',
        permission: { type: 'basic', name: 'forged.anything', attributes: {} },
      },
    ]);
    expect(body.items).toEqual([{ id: '1', result: 'DENY' }]);
    expect(denials().map(e => e.meta)).toEqual([
      { permission: 'forged.anything', rule: 'unknown-permission' },
    ]);
  });

  it('records nothing for a forged token or a malformed request', async () => {
    const forged = await fetch(`${baseUrl}/api/permission/authorize`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.forged',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ items: [{ id: '1', permission: auditRead }] }),
    });
    expect(forged.status).toBe(401);
    const malformed = await api('owner', 'POST', '/api/permission/authorize', {
      items: [{ id: '1', permission: { name: 'audit.read' } }],
    });
    expect(malformed.status).toBe(400);
    const notJson = await fetch(`${baseUrl}/api/permission/authorize`, {
      method: 'POST',
      headers: { ...headers.owner, 'content-type': 'application/json' },
      body: '{"items": [',
    });
    expect(notJson.status).toBe(400);
    expect(denials()).toEqual([]);
  });
  // Last: removes a person from the catalog.
  it('records each item of a person the catalog no longer has as refused, with the reason', async () => {
    await applyEntities(entitiesNow(['rosa.ruiz']));
    const items = [
      { id: '1', permission: auditRead },
      { id: '2', permission: entityDelete, resourceRef: refOf('audited-a') },
    ];
    // The catalog removes the User in the background.
    const deadline = Date.now() + 30_000;
    while ((await authorize('nonOwner', items)).status !== 403) {
      if (Date.now() > deadline) throw new Error('The User was never removed');
      await new Promise(r => setTimeout(r, 250));
    }
    events.length = 0;
    const { status, body } = await authorize('nonOwner', items);
    expect(status).toBe(403);
    expect(body.items).toBeUndefined();
    const recorded = denials();
    expect(recorded.map(e => e.meta)).toEqual(
      expect.arrayContaining([
        { permission: 'audit.read', rule: 'signed-out' },
        {
          permission: 'catalog.entity.delete',
          resourceRef: refOf('audited-a'),
          resourceType: 'catalog-entity',
          rule: 'signed-out',
        },
      ]),
    );
    expect(recorded).toHaveLength(2);
    for (const e of recorded) {
      expect(e.principal).toMatchObject({ userEntityRef: USER_REF.nonOwner });
      expect(e.error?.name).toBe('NotAllowedError');
      expect(e.error?.message).toBe(body.error.message);
    }
  });
});
