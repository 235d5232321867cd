/*
 * Entities a person may not read, through every catalog route that can name
 * them besides lists: dry-run registrations, relations in entity bodies
 * (and the catalog query action the MCP query tool calls), relation filters
 * and facets, locations by entity. Seeded people signed in through the Entra
 * emulator; the portal backend with the read-guard module, with
 * `restrictReadToOwners: [Resource]`.
 *
 *   owner     carla.chen  member of payments, which owns every Resource here
 *   nonOwner  rosa.ruiz   member of data; owns nothing here
 *   admin     ada.admin   member of platform-admins
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Entity } from '@backstage/catalog-model';
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

const HIDDEN = 'resource:default/payments-db'; // from the fixture
const LEDGER_DB = 'resource:default/ledger-db';
const VAULT_DB = 'resource:default/vault-db'; // from a registered location
const MISSING = 'resource:default/no-such-database';
const GROUP = 'group:default/payments';

const ownershipPolicy = {
  admins: ['group:default/platform-admins'],
  catalog: {
    restrictReadToOwners: { kinds: ['Resource'] },
    // Both may register and dry-run locations.
    registerGroups: [GROUP, 'group:default/data'],
  },
};

const doc = (kind: string, name: string, spec: object) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind,
  metadata: { name },
  spec,
});
const LEDGER: Entity[] = [
  doc('System', 'ledger-system', { owner: GROUP }),
  doc('Resource', 'ledger-db', {
    type: 'database',
    owner: GROUP,
    system: 'ledger-system',
  }),
  doc('Component', 'ledger-service', {
    type: 'service',
    lifecycle: 'production',
    owner: GROUP,
    system: 'ledger-system',
    dependsOn: [LEDGER_DB, MISSING],
  }),
];
/** Catalog files a repository would hold, served over HTTP. */
const FILES: Record<string, object[]> = {
  '/vault/catalog-info.yaml': [
    doc('Resource', 'vault-db', { type: 'database', owner: GROUP }),
  ],
  '/draft/catalog-info.yaml': [
    doc('Resource', 'draft-db', { type: 'database', owner: GROUP }),
    doc('Component', 'draft-service', {
      type: 'service',
      lifecycle: 'experimental',
      owner: 'group:default/data',
    }),
  ],
};

describe('entities a person may not read do not leak through catalog answers', () => {
  let emulator: EntraEmulator;
  let files: http.Server;
  let filesUrl: string;
  let baseUrl: string;
  let stopBackend: () => Promise<void>;
  const headers = {} as Record<Who, Record<string, string>>;

  const call = async (who: Who, method: string, path: string, body?: any) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...headers[who],
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  /** A tools/call of the MCP server (`@backstage/plugin-mcp-actions-backend`). */
  const mcpTool = async (who: Who, name: string, args: object) => {
    const { status, message } = await callMcpTool(
      baseUrl,
      headers[who],
      name,
      args,
    );
    const { result, error } = message;
    if (status !== 200 || error || result?.isError) {
      throw new Error(
        `MCP ${name} answered ${status}: ${JSON.stringify(message)}`,
      );
    }
    return JSON.parse(result.content[0].text);
  };
  const refOf = (e: Entity) =>
    `${e.kind.toLowerCase()}:${e.metadata.namespace}/${e.metadata.name}`;
  const targets = (e: Entity, type: string) =>
    (e.relations ?? [])
      .filter(r => r.type === type)
      .map(r => r.targetRef)
      .sort();

  beforeAll(async () => {
    files = http.createServer((req, res) => {
      const entities = FILES[req.url ?? ''];
      res.writeHead(entities ? 200 : 404, { 'content-type': 'text/yaml' });
      res.end(entities?.map(e => JSON.stringify(e)).join('\n---\n'));
    });
    await new Promise<void>(r => files.listen(0, '127.0.0.1', r));
    const { port } = files.address() as AddressInfo;
    filesUrl = `http://localhost:${port}`;

    emulator = await startTestEmulator();
    const started = await startPortalBackend({
      emulator,
      entities: [
        ...seededOrgEntities(),
        ...readEntityFile(CATALOG_FIXTURE),
        ...LEDGER,
      ],
      ownershipPolicy,
      staticToken: STATIC_TOKEN,
      readableHosts: [`localhost:${port}`],
    });
    baseUrl = started.baseUrl;
    stopBackend = () => started.backend.stop();
    headers.service = { authorization: `Bearer ${STATIC_TOKEN}` };
    // Processed and stitched in the background; sign-in needs the users.
    const settled = async (refs: string[], done: (items: any[]) => boolean) => {
      const deadline = Date.now() + 45_000;
      for (;;) {
        const { body } = await call(
          'service',
          'POST',
          '/api/catalog/entities/by-refs',
          { entityRefs: refs },
        );
        if (body?.items?.every(Boolean) && done(body.items)) return;
        if (Date.now() > deadline) throw new Error('Catalog never settled');
        await new Promise(r => setTimeout(r, 250));
      }
    };
    await settled(
      [
        GROUP,
        'system:default/ledger-system',
        ...Object.values(PEOPLE).map(
          upn => `user:default/${upn.split('@')[0]}`,
        ),
      ],
      ([group, system, ...users]) =>
        targets(group, 'ownerOf').includes(LEDGER_DB) &&
        system.relations?.length >= 3 &&
        users.every(u => u.relations?.length),
    );
    for (const [who, upn] of Object.entries(PEOPLE)) {
      const { token } = await signIn(baseUrl, upn);
      headers[who as Who] = { authorization: `Bearer ${token}` };
    }
    const registered = await call('owner', 'POST', '/api/catalog/locations', {
      type: 'url',
      target: `${filesUrl}/vault/catalog-info.yaml`,
    });
    if (registered.status !== 201) {
      throw new Error(
        `Registering the vault location answered ${registered.status}`,
      );
    }

    await settled(
      [GROUP, VAULT_DB],
      ([group, vault]) =>
        targets(group, 'ownerOf').includes(VAULT_DB) && vault.relations?.length,
    );
  });

  afterAll(async () => {
    await stopBackend?.();
    await emulator?.close();
    await new Promise(r => files?.close(r));
  });

  it('POST /locations?dryRun=true lists only the entities the caller may read', async () => {
    const dryRun = async (who: Who) => {
      const { status, body } = await call(
        who,
        'POST',
        '/api/catalog/locations?dryRun=true',
        { type: 'url', target: `${filesUrl}/draft/catalog-info.yaml` },
      );
      expect(status).toBe(201);
      return (body.entities as Entity[])
        .map(refOf)
        .filter(r => !r.startsWith('location:'))
        .sort();
    };
    const all = [
      'component:default/draft-service',
      'resource:default/draft-db',
    ];
    expect(await dryRun('nonOwner')).toEqual([
      'component:default/draft-service',
    ]);
    expect(await dryRun('owner')).toEqual(all);
    expect(await dryRun('admin')).toEqual(all);
  });

  describe("a group's ownerOf names only what the caller may read", () => {
    const routes: [string, (who: Who) => Promise<Entity>][] = [
      [
        'GET /entities/by-name',
        async who =>
          (
            await call(
              who,
              'GET',
              '/api/catalog/entities/by-name/group/default/payments',
            )
          ).body,
      ],
      [
        'GET /entities',
        async who =>
          (
            await call(
              who,
              'GET',
              '/api/catalog/entities?filter=kind=group,metadata.name=payments',
            )
          ).body[0],
      ],
      [
        'GET /entities/by-query',
        async who =>
          (
            await call(
              who,
              'GET',
              '/api/catalog/entities/by-query?filter=kind=group,metadata.name=payments',
            )
          ).body.items[0],
      ],
      [
        'POST /entities/by-refs',
        async who =>
          (
            await call(who, 'POST', '/api/catalog/entities/by-refs', {
              entityRefs: [GROUP],
            })
          ).body.items[0],
      ],
      [
        'the catalog query action the MCP query tool calls',
        async who =>
          (
            await call(
              who,
              'POST',
              '/api/catalog/.backstage/actions/v1/actions/catalog:query-catalog-entities/invoke',
              { query: { kind: 'group', 'metadata.name': 'payments' } },
            )
          ).body.output.items[0],
      ],
      [
        'the MCP query tool',
        async who =>
          (
            await mcpTool(who, 'catalog.query-catalog-entities', {
              query: { kind: 'group', 'metadata.name': 'payments' },
            })
          ).items[0],
      ],
    ];

    it.each(routes)('%s', async (route, fetchGroup) => {
      const hidden = [HIDDEN, LEDGER_DB, VAULT_DB];
      const seen = targets(await fetchGroup('nonOwner'), 'ownerOf');
      expect(seen).toContain('component:default/payments-service');
      expect(seen.filter(t => hidden.includes(t))).toEqual([]);
      // Owners, admins and services (a read-only static token, which may
      // read the catalog but not invoke actions) see them.
      const viewers: Who[] = /action|MCP/.test(route)
        ? ['owner', 'admin']
        : ['owner', 'admin', 'service'];
      for (const who of viewers) {
        expect(targets(await fetchGroup(who), 'ownerOf')).toEqual(
          expect.arrayContaining(hidden),
        );
      }
    });
  });

  it("a system's hasPart and a component's dependsOn leave hidden and missing targets out alike", async () => {
    const system = '/api/catalog/entities/by-name/system/default/ledger-system';
    const component =
      '/api/catalog/entities/by-name/component/default/ledger-service';
    expect(
      targets((await call('nonOwner', 'GET', system)).body, 'hasPart'),
    ).toEqual(['component:default/ledger-service']);
    expect(
      targets((await call('owner', 'GET', system)).body, 'hasPart'),
    ).toEqual(['component:default/ledger-service', LEDGER_DB]);
    expect(
      targets((await call('nonOwner', 'GET', component)).body, 'dependsOn'),
    ).toEqual([]);
    expect(
      targets((await call('admin', 'GET', component)).body, 'dependsOn'),
    ).toEqual([LEDGER_DB, MISSING]);
  });

  it('GET /entity-facets?facet=relations.ownerOf does not count hidden targets', async () => {
    const values = async (who: Who) =>
      (
        await call(
          who,
          'GET',
          '/api/catalog/entity-facets?facet=relations.ownerOf',
        )
      ).body.facets['relations.ownerOf'].map((f: { value: string }) =>
        f.value.toLowerCase(),
      );
    const hidden = [HIDDEN, LEDGER_DB, VAULT_DB];
    expect(
      (await values('nonOwner')).filter((v: string) => hidden.includes(v)),
    ).toEqual([]);
    expect(await values('owner')).toEqual(expect.arrayContaining(hidden));
    expect(await values('admin')).toEqual(expect.arrayContaining(hidden));
  });

  describe('a relations.ownerOf filter on a hidden entity answers as on a missing one', () => {
    const answers: [string, (who: Who, ref: string) => Promise<unknown>][] = [
      [
        'GET /entities',
        async (who, ref) =>
          (
            await call(
              who,
              'GET',
              `/api/catalog/entities?filter=relations.ownerOf=${ref}`,
            )
          ).body,
      ],
      [
        'GET /entities/by-query',
        async (who, ref) =>
          (
            await call(
              who,
              'GET',
              `/api/catalog/entities/by-query?filter=relations.ownerOf=${ref}&fields=kind,metadata.name`,
            )
          ).body,
      ],
      [
        'GET /entity-facets',
        async (who, ref) =>
          (
            await call(
              who,
              'GET',
              `/api/catalog/entity-facets?facet=kind&filter=relations.ownerOf=${ref}`,
            )
          ).body,
      ],
      [
        'the catalog query action the MCP query tool calls',
        async (who, ref) =>
          (
            await call(
              who,
              'POST',
              '/api/catalog/.backstage/actions/v1/actions/catalog:query-catalog-entities/invoke',
              {
                query: { 'relations.ownerOf': ref },
                fields: ['metadata.name'],
              },
            )
          ).body,
      ],
      [
        'the MCP query tool',
        async (who, ref) =>
          mcpTool(who, 'catalog.query-catalog-entities', {
            query: { 'relations.ownerOf': ref },
            fields: ['metadata.name'],
          }),
      ],
    ];

    it.each(answers)('%s', async (_, answer) => {
      const missing = await answer('nonOwner', MISSING);
      expect(await answer('nonOwner', HIDDEN)).toEqual(missing);
      expect(await answer('nonOwner', VAULT_DB)).toEqual(missing);
      expect(await answer('owner', HIDDEN)).not.toEqual(missing);
    });
  });

  describe('GET /locations/by-entity', () => {
    const byEntity = (who: Who, ref: string) => {
      const [kind, rest] = ref.split(':');
      return call(
        who,
        'GET',
        `/api/catalog/locations/by-entity/${kind}/${rest}`,
      );
    };
    const withoutRequest = (body: any) => ({ ...body, request: undefined });

    it('answers a hidden entity of a registered location as a missing one', async () => {
      const hidden = await byEntity('nonOwner', VAULT_DB);
      const missing = await byEntity('nonOwner', MISSING);
      expect(hidden.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(
        JSON.stringify(withoutRequest(hidden.body)).replace(/vault-db/g, 'x'),
      ).toBe(
        JSON.stringify(withoutRequest(missing.body)).replace(
          /no-such-database/g,
          'x',
        ),
      );
      for (const who of ['owner', 'admin'] as const) {
        const found = await byEntity(who, VAULT_DB);
        expect(found.status).toBe(200);
        expect(found.body.target).toBe(`${filesUrl}/vault/catalog-info.yaml`);
      }
    });

    it('names no location source for entities outside registered locations', async () => {
      const { status, body } = await byEntity(
        'admin',
        'component:default/payments-service',
      );
      expect(status).toBe(404);
      expect(body.error.message).toBe(
        'No registered location holds component:default/payments-service',
      );
      expect(JSON.stringify(body)).not.toContain('policy-test');
    });
  });
});
