/*
 * Acceptance: pipelines call the portal with their Entra app token and the
 * ownership policy decides for their service principal's catalog entity.
 * Real backend (root router with the entra-app middleware, auth, catalog,
 * permission backend, ownership policy) against the Entra emulator.
 */
import { once } from 'node:events';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Entity } from '@backstage/catalog-model';
import type { EntraEmulator } from '@internal/entra-emulator';
import {
  decodeJwt,
  delegatedToken,
  pipelineApp,
  pipelineAppToken,
  PipelineKey,
  startTestEmulator,
} from '@internal/entra-emulator/testUtils';
import { settledAuditEvents } from '@internal/portal-test-utils';
import { generateKeyPair, SignJWT } from 'jose';
import { LogRecord } from './__testUtils__/recordingLogger';
import { startPipelineBackend } from './__testUtils__/pipelineBackend';
import { component, group, REGISTRAR_ROLE } from './__testUtils__/pipelineApps';

let emulator: EntraEmulator;
let baseUrl: string;
let stopBackend: () => Promise<void>;
let logs: LogRecord[];
let catalogYamlServer: Server;
const tokens: Record<string, string> = {};
let payments: ReturnType<typeof pipelineApp>;

async function eventually<T>(probe: () => Promise<T>, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise(r => setTimeout(r, 250));
    }
  }
}

const refresh = (token: string, entityRef: string) =>
  fetch(`${baseUrl}/api/catalog/refresh`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ entityRef }),
  });

const exchange = (token: string) =>
  fetch(`${baseUrl}/api/auth/entra-app/refresh`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });

beforeAll(async () => {
  emulator = await startTestEmulator();
  const keys: PipelineKey[] = [
    'payments-pipeline',
    'search-pipeline',
    'stray-pipeline',
    'fabrikam-pipeline',
  ];
  for (const key of keys) tokens[key] = await pipelineAppToken(emulator, key);
  payments = pipelineApp(emulator, 'payments-pipeline');
  // Users, groups and service principals come from org ingestion of the
  // emulator's Graph: the stray pipeline's service principal is in no group
  // and Fabrikam's in another tenant, so ingestion brings in neither.
  const entities: Entity[] = [
    group('catalog-registrars'),
    component('payments-service', 'payments'),
    component('search-service', 'search'),
  ];

  catalogYamlServer = createServer((_req, res) => {
    res.setHeader('content-type', 'text/yaml');
    res.end(
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: registered-by-pipeline }\n' +
        'spec: { type: service, lifecycle: experimental, owner: group:default/data }\n',
    );
  }).listen(0, '127.0.0.1');
  await once(catalogYamlServer, 'listening');
  const yamlPort = (catalogYamlServer.address() as AddressInfo).port;

  let backend;
  ({ baseUrl, logs, backend } = await startPipelineBackend({
    emulator,
    entities,
    readableHosts: [`127.0.0.1:${yamlPort}`],
    entraApp: {
      roleGroups: { [REGISTRAR_ROLE]: 'group:default/catalog-registrars' },
    },
    ownershipPolicy: {
      admins: ['group:default/platform-admins'],
      catalog: { registerGroups: ['group:default/catalog-registrars'] },
    },
  }));
  stopBackend = () => backend.stop();
  // Until the catalog has stitched the entities, the exchange or the
  // decision fails; a pipeline would see the same right after ingestion.
  await eventually(async () => {
    const res = await refresh(
      tokens['payments-pipeline'],
      'component:default/payments-service',
    );
    if (res.status !== 200) throw new Error(`refresh answered ${res.status}`);
  });
});

afterAll(async () => {
  await stopBackend?.();
  catalogYamlServer?.close();
  await emulator?.close();
});

/** Every log line, rendered with its meta, as an operator's log store would hold it. */
const logText = () =>
  logs.map(r => `${r.message} ${JSON.stringify(r.meta)}`).join('\n');

describe('a pipeline calling the portal with its Entra app token', () => {
  it("refreshes a component its group owns (200) and is refused on another group's (403)", async () => {
    expect(
      (
        await refresh(
          tokens['payments-pipeline'],
          'component:default/payments-service',
        )
      ).status,
    ).toBe(200);
    const refused = await refresh(
      tokens['payments-pipeline'],
      'component:default/search-service',
    );
    expect(refused.status).toBe(403);

    // The other way round for the search team's pipeline.
    expect(
      (
        await refresh(
          tokens['search-pipeline'],
          'component:default/search-service',
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await refresh(
          tokens['search-pipeline'],
          'component:default/payments-service',
        )
      ).status,
    ).toBe(403);
  });

  it("is its service principal's catalog entity, with its groups, via the refresh endpoint", async () => {
    const res = await exchange(tokens['payments-pipeline']);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.backstageIdentity.identity).toEqual({
      type: 'user',
      userEntityRef: 'user:default/app-payments-pipeline',
      ownershipEntityRefs: expect.arrayContaining([
        'user:default/app-payments-pipeline',
        'group:default/payments',
      ]),
    });
    expect(body.providerInfo).toEqual({
      appId: payments.appId,
      objectId: payments.servicePrincipalId,
      tenantId: emulator.tenantId,
      expiresAt: decodeJwt(tokens['payments-pipeline']).exp,
    });
    // The Backstage token works on its own, and the middleware leaves it alone.
    const backstageToken = body.backstageIdentity.token;
    expect(decodeJwt(backstageToken).sub).toBe(
      'user:default/app-payments-pipeline',
    );
    expect(
      (await refresh(backstageToken, 'component:default/payments-service'))
        .status,
    ).toBe(200);
    expect(
      (await refresh(backstageToken, 'component:default/search-service'))
        .status,
    ).toBe(403);
  });

  it('audits each call with the verified identity and never the token', async () => {
    const before = logs.length;
    await refresh(
      tokens['payments-pipeline'],
      'component:default/search-service',
    );
    const call = logs.slice(before).find(r => r.meta.type === 'pipeline-call');
    expect(call?.meta).toMatchObject({
      entityRef: 'user:default/app-payments-pipeline',
      appid: payments.appId,
      oid: payments.servicePrincipalId,
      tid: emulator.tenantId,
      method: 'POST',
      path: '/api/catalog/refresh',
      status: 403,
    });
  });

  it('is stored in the audit trail as the pipeline: its service principal, app id and tenant', async () => {
    const from = new Date().toISOString();
    const person = 'user:default/app-payments-pipeline';
    expect(
      (
        await refresh(
          tokens['payments-pipeline'],
          'component:default/payments-service',
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await refresh(
          tokens['payments-pipeline'],
          'component:default/search-service',
        )
      ).status,
    ).toBe(403);
    const actor = {
      kind: 'pipeline',
      entityRef: person,
      appId: payments.appId,
      oid: payments.servicePrincipalId,
      tid: emulator.tenantId,
    };

    const refreshed = await settledAuditEvents(baseUrl, {
      action: 'catalog.entity-mutate',
      person,
      from,
    });
    expect(refreshed).toHaveLength(2);
    expect(refreshed.map(e => [e.outcome, e.entityRefs, e.actor])).toEqual([
      [
        'failed',
        ['component:default/search-service'],
        expect.objectContaining(actor),
      ],
      [
        'succeeded',
        ['component:default/payments-service'],
        expect.objectContaining(actor),
      ],
    ]);
    const denied = await settledAuditEvents(baseUrl, {
      action: 'permission.permission-denied',
      person,
      from,
    });
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({
      actor,
      meta: {
        permission: 'catalog.entity.refresh',
        resourceRef: 'component:default/search-service',
        rule: 'IS_ENTITY_OWNER',
      },
    });
    // the app token is in none of it
    const stored = JSON.stringify([...refreshed, ...denied]);
    expect(stored).not.toContain(tokens['payments-pipeline']);
    expect(stored).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });

  it('exchanges a token once and reuses the result while it is valid', async () => {
    const fresh = await pipelineAppToken(emulator, 'search-pipeline');
    const issued = () =>
      logs.filter(
        r =>
          r.meta.type === 'entra-app-sign-in' &&
          r.meta.appid === pipelineApp(emulator, 'search-pipeline').appId,
      ).length;
    const before = issued();
    for (let i = 0; i < 3; i++) {
      expect(
        (await refresh(fresh, 'component:default/search-service')).status,
      ).toBe(200);
    }
    expect(issued() - before).toBe(1);
  });

  it('gets the group an app role maps to, only while its token carries the role', async () => {
    const { port } = catalogYamlServer.address() as AddressInfo;
    const location = `http://127.0.0.1:${port}/catalog-info.yaml`;
    const register = (token: string) =>
      fetch(`${baseUrl}/api/catalog/locations?dryRun=true`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ type: 'url', target: location }),
      });
    // The seed assigns the portal's Catalog.Registrar role to payments-pipeline.
    expect(decodeJwt(tokens['payments-pipeline']).roles).toEqual([
      REGISTRAR_ROLE,
    ]);
    const allowed = await register(tokens['payments-pipeline']);
    expect(allowed.status).toBe(201);
    expect((await allowed.json()).entities).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          metadata: expect.objectContaining({ name: 'registered-by-pipeline' }),
        }),
      ]),
    );
    // A pipeline without the role may not register.
    expect(decodeJwt(tokens['search-pipeline']).roles ?? []).toEqual([]);
    expect((await register(tokens['search-pipeline'])).status).toBe(403);

    // The same app once its role is removed: its next token has no roles.
    const withoutRole = emulator.signToken({
      ...decodeJwt(tokens['payments-pipeline']),
      roles: [],
      uti: 'role-removed',
    });
    expect((await register(withoutRole)).status).toBe(403);
  });
});

describe('tokens the portal refuses with 401', () => {
  const claimsOf = (token: string) => decodeJwt(token);

  const cases: Array<[string, () => Promise<string>, string]> = [
    [
      'an unknown app (its service principal is in no ingested group)',
      async () => tokens['stray-pipeline'],
      'claims',
    ],
    [
      "another tenant (Fabrikam's pipeline), signed with Entra's shared keys",
      async () => tokens['fabrikam-pipeline'],
      'iss',
    ],
    [
      'another tenant named only in tid',
      async () =>
        emulator.signToken({
          ...claimsOf(tokens['payments-pipeline']),
          tid: pipelineApp(emulator, 'fabrikam-pipeline').tenantId,
        }),
      'tid',
    ],
    [
      'another audience (a Graph token of a known pipeline)',
      () =>
        pipelineAppToken(emulator, 'payments-pipeline', {
          scope: 'https://graph.microsoft.com/.default',
        }),
      'aud',
    ],
    [
      "a delegated token (a person's token for the portal's API, with scp)",
      () => delegatedToken(emulator, 'carla.chen@contoso.example'),
      'app-only',
    ],
    [
      'idtyp user without scp',
      async () =>
        emulator.signToken({
          ...claimsOf(tokens['payments-pipeline']),
          idtyp: 'user',
        }),
      'app-only',
    ],
    [
      'an expired token',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        return emulator.signToken({
          ...claimsOf(tokens['payments-pipeline']),
          iat: now - 7200,
          nbf: now - 7200,
          exp: now - 3600,
        });
      },
      'exp',
    ],
    [
      'alg: none',
      async () => {
        const enc = (o: object) =>
          Buffer.from(JSON.stringify(o)).toString('base64url');
        return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(
          claimsOf(tokens['payments-pipeline']),
        )}.`;
      },
      'alg',
    ],
    [
      "a forged signature (another key, the emulator's key id)",
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        const { kid } = JSON.parse(
          Buffer.from(
            tokens['payments-pipeline'].split('.')[0],
            'base64url',
          ).toString(),
        );
        return new SignJWT(claimsOf(tokens['payments-pipeline']))
          .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
          .sign(privateKey);
      },
      'signature',
    ],
  ];

  it.each(cases)('%s', async (_name, makeToken, check) => {
    const token = await makeToken();
    const before = logs.length;

    const res = await refresh(token, 'component:default/payments-service');
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body.error.name).toBe('AuthenticationError');
    expect(body.error.message).toContain(`Entra app token refused (${check})`);
    expect(JSON.stringify(body)).not.toContain(token);

    // The refresh endpoint refuses it too, for the same reason.
    const direct = await exchange(token);
    expect(direct.status).toBe(401);
    expect((await direct.json()).error.message).toContain(`(${check})`);

    const lines = logs.slice(before);
    const refusal = lines.find(r => r.meta.type === 'entra-app-refused');
    expect(refusal?.meta.check).toBe(check);
    expect(refusal?.level).toBe('warn');
    // The log names the app and tenant the token claimed, never the token.
    expect(refusal?.message).toMatch(/appid .+, oid .+, tid .+/);
    expect(logText()).not.toContain(token);
    expect(logText()).not.toContain(token.split('.')[2] || '\u0000');
  });
});
