/*
 * The stored audit trail of catalog changes and policy decisions: the portal
 * as packages/backend runs it (real auth, catalog with the delete-naming
 * module, permission backend with this policy, the portal's auditor and the
 * audit plugin), each event read back through GET /api/audit/events once the
 * sink has flushed, so "exactly one" is what an admin would find.
 *
 *   owner     carla.chen  member of payments, owns the components here
 *   nonOwner  rosa.ruiz   member of data; owns nothing here
 *   admin     ada.admin   member of platform-admins
 */
import { Entity } from '@backstage/catalog-model';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import type { AuditEvent } from '@internal/plugin-audit-common';
import {
  AUDIT_READER_TOKEN,
  settledAuditEvents,
} from '@internal/portal-test-utils';
import { signIn, startPortalBackend } from './__testUtils__/backend';
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
const TENANT_ID_ANNOTATION = 'graph.microsoft.com/tenant-id';
const USER_ID_ANNOTATION = 'graph.microsoft.com/user-id';

const STATIC_TOKEN = 'read-only-robot-token-trail-0123456789';
const COMPONENTS = ['trail-own', 'trail-other', 'trail-refresh'];
const refOf = (name: string) => `component:default/${name}`;
const component = (name: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name },
  spec: { type: 'service', lifecycle: 'experimental', owner: 'payments' },
});

const ownershipPolicy = {
  admins: ['group:default/platform-admins'],
  catalog: { restrictReadToOwners: { kinds: ['Resource'] } },
};

/** Anything that looks like a JWT (three base64url parts). */
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]*/;

describe('the stored audit trail of catalog deletes and policy decisions', () => {
  let emulator: EntraEmulator;
  let baseUrl: string;
  let stopBackend: () => Promise<void>;
  const headers = {} as Record<Who, Record<string, string>>;
  const tokens: string[] = [];
  /** The Entra ids the catalog's User entities carry. */
  const identity = {} as Record<Who, { oid: string; tid: string }>;

  const api = (who: Who, method: string, path: string, body?: unknown) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...headers[who],
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  const robot = () => ({ authorization: `Bearer ${STATIC_TOKEN}` });
  const uidOf = async (name: string) => {
    const res = await fetch(
      `${baseUrl}/api/catalog/entities/by-name/component/default/${name}`,
      { headers: robot() },
    );
    expect(res.status).toBe(200);
    return (await res.json()).metadata.uid as string;
  };
  /** The person actor as the trail completes it from the catalog User. */
  const personActor = (who: Who) => {
    // What the User entity carries, so the trail has something to complete.
    expect(identity[who]).toEqual({
      oid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      tid: emulator.tenantId,
    });
    return expect.objectContaining({
      kind: 'person',
      entityRef: USER_REF[who],
      oid: identity[who].oid,
      tid: identity[who].tid,
    });
  };
  const expectNothingSecret = (events: AuditEvent[]) => {
    const text = JSON.stringify(events);
    for (const secret of [
      ...tokens,
      STATIC_TOKEN,
      AUDIT_READER_TOKEN,
      emulator.apps.portal.clientSecret,
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(JWT);
    expect(text).not.toMatch(/bearer /i);
  };

  beforeAll(async () => {
    emulator = await startTestEmulator();
    // The trail takes a person's tid from their User, else from the org
    // ingestion provider that brought them in; these come from a fixed
    // provider, so they carry the tenant annotation themselves.
    const people = seededOrgEntities().map(e =>
      e.kind === 'User'
        ? {
            ...e,
            metadata: {
              ...e.metadata,
              annotations: {
                ...e.metadata.annotations,
                [TENANT_ID_ANNOTATION]: emulator.tenantId,
              },
            },
          }
        : e,
    );
    const started = await startPortalBackend({
      emulator,
      entities: [...people, ...COMPONENTS.map(component)],
      ownershipPolicy,
      staticToken: STATIC_TOKEN,
      auditTrail: true,
    });
    baseUrl = started.baseUrl;
    stopBackend = () => started.backend.stop();

    // The fixed entities are processed and stitched in the background.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const res = await fetch(`${baseUrl}/api/catalog/entities/by-refs`, {
        method: 'POST',
        headers: { ...robot(), 'content-type': 'application/json' },
        body: JSON.stringify({
          entityRefs: [...COMPONENTS.map(refOf), ...Object.values(USER_REF)],
        }),
      });
      const body = await res.json();
      if (body?.items?.every((e: Entity | null) => e?.relations?.length)) {
        for (const [i, who] of (Object.keys(USER_REF) as Who[]).entries()) {
          const user: Entity = body.items[COMPONENTS.length + i];
          identity[who] = {
            oid: user.metadata.annotations![USER_ID_ANNOTATION],
            tid: user.metadata.annotations![TENANT_ID_ANNOTATION],
          };
        }
        break;
      }
      if (Date.now() > deadline) throw new Error('Catalog never settled');
      await new Promise(r => setTimeout(r, 250));
    }
    for (const [who, upn] of Object.entries(PEOPLE)) {
      const { token, sessionCookie } = await signIn(baseUrl, upn);
      // The refresh cookie's value (name=value; ...).
      tokens.push(token, sessionCookie.split(';')[0].split('=')[1]);
      headers[who as Who] = { authorization: `Bearer ${token}` };
    }
  });

  afterAll(async () => {
    await stopBackend?.();
    await emulator?.close();
  });

  it('stores an owner’s delete once, as the owner with their Entra ids, naming the deleted entity', async () => {
    const ref = refOf('trail-own');
    const uid = await uidOf('trail-own');
    // Reads name the entity too (catalog.entity-fetch); from here on only
    // the delete does.
    const from = new Date().toISOString();
    const res = await api(
      'owner',
      'DELETE',
      `/api/catalog/entities/by-uid/${uid}`,
    );
    expect(res.status).toBe(204);

    const events = await settledAuditEvents(baseUrl, { entity: ref, from });
    // Nothing else names the entity: the catalog decided the delete itself.
    expect(events).toEqual([
      expect.objectContaining({
        plugin: 'catalog',
        eventId: 'entity-mutate',
        action: 'catalog.entity-mutate',
        outcome: 'succeeded',
        actor: personActor('owner'),
        request: {
          method: 'DELETE',
          route: `/api/catalog/entities/by-uid/${uid}`,
        },
        entityRefs: [ref],
        meta: { actionType: 'delete', uid },
      }),
    ]);
    expect(events[0].error).toBeUndefined();
    expectNothingSecret(events);
  });

  it('stores a non-owner’s refused delete once, as failed, as the non-owner, and no permission denial for it', async () => {
    const ref = refOf('trail-other');
    const uid = await uidOf('trail-other');
    const from = new Date().toISOString();
    const res = await api(
      'nonOwner',
      'DELETE',
      `/api/catalog/entities/by-uid/${uid}`,
    );
    expect(res.status).toBe(403);

    const mutations = await settledAuditEvents(baseUrl, {
      action: 'catalog.entity-mutate',
      entity: ref,
    });
    expect(mutations).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        actor: personActor('nonOwner'),
        request: {
          method: 'DELETE',
          route: `/api/catalog/entities/by-uid/${uid}`,
        },
        entityRefs: [ref],
        meta: { actionType: 'delete', uid },
        error: expect.objectContaining({ name: 'NotAllowedError' }),
      }),
    ]);
    // The catalog asks for catalog.entity.delete without the entity and
    // applies the conditions itself, so the permission backend saw no
    // denial to record. Any it had recorded was queued before the delete's
    // own event, which is stored by now.
    const denials = await settledAuditEvents(
      baseUrl,
      {
        action: 'permission.permission-denied',
        person: USER_REF.nonOwner,
        from,
      },
      { atLeast: 0 },
    );
    expect(denials).toEqual([]);
    expect(
      await settledAuditEvents(baseUrl, { entity: ref, from }, { atLeast: 0 }),
    ).toEqual(mutations);
    expectNothingSecret(mutations);
    // Still there.
    expect(await uidOf('trail-other')).toBe(uid);
  });

  it('stores a non-owner’s refused refresh once, as the policy’s denial naming the permission, entity and rule', async () => {
    const ref = refOf('trail-refresh');
    const res = await api('nonOwner', 'POST', '/api/catalog/refresh', {
      entityRef: ref,
    });
    expect(res.status).toBe(403);

    const denials = await settledAuditEvents(baseUrl, {
      action: 'permission.permission-denied',
      entity: ref,
    });
    // The catalog asks with the person's token: the actor is the person.
    expect(denials).toEqual([
      expect.objectContaining({
        plugin: 'permission',
        severity: 'medium',
        outcome: 'failed',
        actor: personActor('nonOwner'),
        request: { method: 'POST', route: '/api/permission/authorize' },
        entityRefs: [ref],
        meta: {
          permission: 'catalog.entity.refresh',
          resourceRef: ref,
          resourceType: 'catalog-entity',
          rule: 'IS_ENTITY_OWNER',
        },
        error: {
          name: 'NotAllowedError',
          message: 'catalog.entity.refresh denied by IS_ENTITY_OWNER',
        },
      }),
    ]);
    expectNothingSecret(denials);
  });

  it('stores the policy’s config once, by the permission plugin, with the admins and no request', async () => {
    const events = await settledAuditEvents(baseUrl, {
      action: 'permission.policy-config',
    });
    expect(events).toEqual([
      expect.objectContaining({
        plugin: 'permission',
        outcome: 'succeeded',
        actor: { kind: 'plugin', plugin: 'permission' },
        entityRefs: [],
        meta: {
          hash: expect.stringMatching(/^[0-9a-f]{64}$/),
          admins: ['group:default/platform-admins'],
        },
      }),
    ]);
    expect(events[0].request).toBeUndefined();
  });

  it('lets admins only read the trail, and stores a refused read as the person’s denial', async () => {
    const path = '/api/audit/events?action=permission.policy-config';
    const admin = await api('admin', 'GET', path);
    expect(admin.status).toBe(200);
    expect((await admin.json()).items).toHaveLength(1);

    const from = new Date().toISOString();
    const owner = await api('owner', 'GET', path);
    expect(owner.status).toBe(403);
    const forged = await fetch(`${baseUrl}${path}`, {
      headers: {
        authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.forged',
      },
    });
    expect(forged.status).toBe(401);
    const none = await fetch(`${baseUrl}${path}`);
    expect(none.status).toBe(401);

    const denials = await settledAuditEvents(baseUrl, {
      action: 'permission.permission-denied',
      person: USER_REF.owner,
      from,
    });
    expect(denials).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        actor: personActor('owner'),
        meta: { permission: 'audit.read', rule: 'admins-only' },
      }),
    ]);
  });

  // Last: reads everything the trail stored while the tests ran.
  it('stores no token, secret or cookie from any plugin', async () => {
    const events = await settledAuditEvents(baseUrl, {});
    // Sign-ins (their callbacks carry the code and state), the catalog's
    // and the policy's events at least.
    expect([...new Set(events.map(e => e.action))]).toEqual(
      expect.arrayContaining([
        'auth.sign-in',
        'catalog.entity-fetch',
        'catalog.entity-mutate',
        'permission.permission-denied',
        'permission.policy-config',
      ]),
    );
    expectNothingSecret(events);
  });
});
