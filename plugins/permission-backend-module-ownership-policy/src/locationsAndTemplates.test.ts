/*
 * Changing locations and running templates, where the catalog and the
 * scaffolder do not tell the policy which location or template: seeded
 * people signed in through the Entra emulator, the portal backend with the
 * owner-unregister and template-run-guard modules and the MCP actions
 * plugin, `restrictReadToOwners: [Resource]`, and `registerGroups` as
 * shipped (left out) unless a block says otherwise.
 *
 *   owner     carla.chen  member of payments, which owns everything registered here
 *   nonOwner  rosa.ruiz   member of data; owns nothing here
 *   admin     ada.admin   member of platform-admins
 *   service   a read-only external token
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import { callMcpTool } from '@internal/portal-test-utils';
import { signIn, startPortalBackend } from './__testUtils__/backend';
import { CATALOG_FIXTURE } from './__testUtils__/paths';
import {
  readEntityFile,
  seededOrgEntities,
} from '../dev/policyTest/catalogFixture';

type Who = 'owner' | 'nonOwner' | 'admin' | 'service';
const STATIC_TOKEN = 'read-only-robot-token-0123456789abcdef';
const PEOPLE: Record<Exclude<Who, 'service'>, string> = {
  owner: 'carla.chen@contoso.example',
  nonOwner: 'rosa.ruiz@contoso.example',
  admin: 'ada.admin@contoso.example',
};
const PAYMENTS = 'group:default/payments';
const RESTRICTED_TEMPLATE = 'template:default/create-database'; // from the fixture
const HIDDEN = 'resource:default/ledger-store'; // a Resource: owners read it
const MISSING = 'resource:default/no-such-store';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

const doc = (kind: string, name: string, spec: object) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind,
  metadata: { name },
  spec,
});
/** Catalog files repositories would hold, served over HTTP. */
const FILES: Record<string, object[]> = {
  '/ledger/catalog-info.yaml': [
    doc('Component', 'ledger-api', {
      type: 'service',
      lifecycle: 'production',
      owner: PAYMENTS,
    }),
    doc('Component', 'ledger-web', {
      type: 'website',
      lifecycle: 'production',
      owner: PAYMENTS,
    }),
    doc('Resource', 'ledger-store', { type: 'database', owner: PAYMENTS }),
  ],
  '/vault/catalog-info.yaml': [
    doc('Resource', 'vault-store', { type: 'database', owner: PAYMENTS }),
  ],
  '/elsewhere/catalog-info.yaml': [
    doc('Component', 'elsewhere', {
      type: 'service',
      lifecycle: 'production',
      owner: 'group:default/data',
    }),
  ],
};
const PROCESSED = [
  'component:default/ledger-api',
  'component:default/ledger-web',
  HIDDEN,
  'resource:default/vault-store',
];

let emulator: EntraEmulator;
let files: http.Server;
let filesUrl: string;

beforeAll(async () => {
  files = http.createServer((req, res) => {
    const entities = FILES[req.url ?? ''];
    res.writeHead(entities ? 200 : 404, { 'content-type': 'text/yaml' });
    res.end(entities?.map(e => JSON.stringify(e)).join('\n---\n'));
  });
  await new Promise<void>(r => files.listen(0, '127.0.0.1', r));
  filesUrl = `http://localhost:${(files.address() as AddressInfo).port}`;
  emulator = await startTestEmulator();
});

afterAll(async () => {
  await emulator?.close();
  await new Promise(r => files?.close(r));
});

/**
 * Starts the portal backend with `catalog` policy settings, registers the
 * ledger and vault locations as an admin and signs everyone in.
 */
function portal(catalog: object) {
  const ctx = {
    baseUrl: '',
    headers: {} as Record<Who, Record<string, string>>,
    ids: {} as Record<'ledger' | 'vault', string>,
    stop: async () => {},
  };
  const call = async (who: Who, method: string, path: string, body?: any) => {
    const res = await fetch(`${ctx.baseUrl}${path}`, {
      method,
      headers: {
        ...ctx.headers[who],
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const target = (path: string) => `${filesUrl}/${path}/catalog-info.yaml`;

  beforeAll(async () => {
    const started = await startPortalBackend({
      emulator,
      entities: [...seededOrgEntities(), ...readEntityFile(CATALOG_FIXTURE)],
      ownershipPolicy: {
        admins: ['group:default/platform-admins'],
        catalog: { restrictReadToOwners: { kinds: ['Resource'] }, ...catalog },
        scaffolder: {
          templates: [{ template: RESTRICTED_TEMPLATE, groups: [PAYMENTS] }],
        },
      },
      staticToken: STATIC_TOKEN,
      readableHosts: [new URL(filesUrl).host],
    });
    ctx.baseUrl = started.baseUrl;
    ctx.stop = () => started.backend.stop();
    ctx.headers.service = { authorization: `Bearer ${STATIC_TOKEN}` };
    // Sign-in needs the org in the catalog; the registrations need an admin.
    await settled([
      'user:default/carla.chen',
      'user:default/rosa.ruiz',
      'user:default/ada.admin',
    ]);
    for (const [who, upn] of Object.entries(PEOPLE)) {
      const { token } = await signIn(ctx.baseUrl, upn);
      ctx.headers[who as Who] = { authorization: `Bearer ${token}` };
    }
    for (const path of ['ledger', 'vault'] as const) {
      const { status, body } = await call(
        'admin',
        'POST',
        '/api/catalog/locations',
        { type: 'url', target: target(path) },
      );
      expect(status).toBe(201);
      ctx.ids[path] = body.location.id;
    }
    await settled(PROCESSED);
  });

  /** Waits until the catalog has processed and stitched `refs`. */
  async function settled(refs: string[]) {
    const deadline = Date.now() + 45_000;
    for (;;) {
      const { body } = await call(
        'service',
        'POST',
        '/api/catalog/entities/by-refs',
        { entityRefs: refs },
      );
      if (body?.items?.every((e: any) => e?.relations?.length)) return;
      if (Date.now() > deadline) throw new Error('Catalog never settled');
      await new Promise(r => setTimeout(r, 250));
    }
  }

  afterAll(() => ctx.stop());

  const targetOf = async (id: string) =>
    (await call('admin', 'GET', `/api/catalog/locations/${id}`)).body.target;
  const repoint = (who: Who, id: string, path = 'elsewhere') =>
    call(who, 'PUT', `/api/catalog/locations/${id}`, {
      type: 'url',
      target: target(path),
    });

  return { ctx, call, target, targetOf, repoint };
}

describe('with registerGroups left out, as shipped', () => {
  const { ctx, call, target, targetOf, repoint } = portal({});

  it.each<[Who, number]>([
    ['owner', 403],
    ['nonOwner', 403],
    ['admin', 201],
    ['service', 403],
  ])('POST /locations as %s: %i (admins only)', async (who, expected) => {
    const { status } = await call(who, 'POST', '/api/catalog/locations', {
      type: 'url',
      target: target(`new-${who}`),
    });
    expect(status).toBe(expected);
  });

  it('PUT /locations/:id as a non-owner: 403 naming what they may read, counting the rest', async () => {
    const { status, body } = await repoint('nonOwner', ctx.ids.ledger);
    expect([status, body.error.name, body.error.message]).toEqual([
      403,
      'NotAllowedError',
      `Only owners of every entity of url:${target(
        'ledger',
      )} (and portal admins) can change it; ` +
        'you may not change component:default/ledger-api, component:default/ledger-web and 1 entity you cannot see',
    ]);
    expect(await targetOf(ctx.ids.ledger)).toBe(target('ledger'));
  });

  it('PUT /locations/:id as a non-owner of a location whose entities are all hidden: as a missing id', async () => {
    const hidden = await repoint('nonOwner', ctx.ids.vault);
    const missing = await repoint('nonOwner', UNKNOWN_ID);
    expect([hidden.status, missing.status]).toEqual([404, 404]);
    expect(hidden.body.error).toEqual({
      ...missing.body.error,
      message: missing.body.error.message.replace(UNKNOWN_ID, ctx.ids.vault),
    });
    expect(JSON.stringify(hidden.body)).not.toContain('vault-store');
    expect(await targetOf(ctx.ids.vault)).toBe(target('vault'));
  });

  it('PUT /locations/:id as the owner of every entity, who may not register: 403 saying so', async () => {
    const { status, body } = await repoint('owner', ctx.ids.ledger);
    expect([status, body.error.message]).toEqual([
      403,
      `Re-pointing url:${target(
        'ledger',
      )} registers its new target, and you may not register locations; ask a portal admin`,
    ]);
    expect(await targetOf(ctx.ids.ledger)).toBe(target('ledger'));
  });

  it('PUT /locations/:id as a read-only token: 403', async () => {
    expect((await repoint('service', ctx.ids.ledger)).status).toBe(403);
  });

  it('POST /owner-unregister as a non-owner: 403 naming only what they may read', async () => {
    const { status, body } = await call(
      'nonOwner',
      'POST',
      '/api/catalog/owner-unregister',
      { entityRef: 'component:default/ledger-api' },
    );
    expect([status, body.error.message]).toEqual([
      403,
      `Only owners of every entity of url:${target(
        'ledger',
      )} (and portal admins) can unregister it; ` +
        'you may not delete component:default/ledger-api, component:default/ledger-web and 1 entity you cannot see',
    ]);
  });

  it('POST /permission/authorize scaffolder.template.run: a hidden entity answers as a missing one', async () => {
    const authorize = (who: Who, resourceRef: string) =>
      call(who, 'POST', '/api/permission/authorize', {
        items: [
          {
            id: 'run',
            permission: {
              type: 'resource',
              name: 'scaffolder.template.run',
              attributes: { action: 'create' },
              resourceType: 'catalog-entity',
            },
            resourceRef,
          },
        ],
      });
    const hidden = await authorize('nonOwner', HIDDEN);
    const missing = await authorize('nonOwner', MISSING);
    expect(hidden).toEqual({
      status: 200,
      body: { items: [{ id: 'run', result: 'DENY' }] },
    });
    expect(missing).toEqual(hidden);
    // The same entity, for someone who may read it.
    expect((await authorize('owner', HIDDEN)).body.items[0].result).toBe(
      'ALLOW',
    );
  });

  describe('the MCP execute-template tool', () => {
    const execute = async (who: Who, templateRef: string) => {
      const { status, message } = await callMcpTool(
        ctx.baseUrl,
        ctx.headers[who],
        'scaffolder.execute-template',
        { templateRef, values: { name: 'orders' } },
      );
      // A refusal is the tool's result, not a protocol error (a bare 500).
      expect([status, message.error]).toEqual([200, undefined]);
      return message.result;
    };

    it('gives a non-member the reason the HTTP route gives', async () => {
      const viaHttp = await call(
        'nonOwner',
        'POST',
        '/api/scaffolder/v2/tasks',
        {
          templateRef: RESTRICTED_TEMPLATE,
          values: { name: 'orders' },
        },
      );
      const result = await execute('nonOwner', RESTRICTED_TEMPLATE);
      expect(result).toEqual({
        isError: true,
        content: [
          {
            type: 'text',
            text: `NotAllowedError: ${viaHttp.body.error.message}`,
          },
        ],
      });
      expect(viaHttp.body.error.message).toBe(
        `You may not run ${RESTRICTED_TEMPLATE}: only members of ${PAYMENTS} (and portal admins) can run it`,
      );
    });

    it('answers what the caller may not read as what does not exist', async () => {
      const hidden = await execute('nonOwner', HIDDEN);
      const missing = await execute('nonOwner', MISSING);
      expect(hidden).toEqual({
        isError: true,
        content: [
          { type: 'text', text: `NotFoundError: Template ${HIDDEN} not found` },
        ],
      });
      expect(missing).toEqual({
        isError: true,
        content: [
          {
            type: 'text',
            text: `NotFoundError: Template ${MISSING} not found`,
          },
        ],
      });
    });

    it('runs the template for a member', async () => {
      const result = await execute('owner', RESTRICTED_TEMPLATE);
      expect(result.isError).toBeFalsy();
      expect(typeof result.structuredContent.taskId).toBe('string');
    });
  });

  it('PUT /locations/:id as an admin: 200, re-pointed', async () => {
    const { status } = await repoint('admin', ctx.ids.ledger);
    expect(status).toBe(200);
    expect(await targetOf(ctx.ids.ledger)).toBe(target('elsewhere'));
  });
});

describe('with registerGroups naming payments', () => {
  const { ctx, target, targetOf, repoint } = portal({
    registerGroups: [PAYMENTS],
  });

  it('PUT /locations/:id as a non-owner: still 403 with the reason', async () => {
    const { status, body } = await repoint('nonOwner', ctx.ids.ledger);
    expect([status, body.error.message]).toEqual([
      403,
      expect.stringMatching(
        /^Only owners of every entity of .* can change it;/,
      ),
    ]);
  });

  it('PUT /locations/:id as the owner of every entity: 200, re-pointed', async () => {
    const { status } = await repoint('owner', ctx.ids.ledger);
    expect(status).toBe(200);
    expect(await targetOf(ctx.ids.ledger)).toBe(target('elsewhere'));
  });
});
