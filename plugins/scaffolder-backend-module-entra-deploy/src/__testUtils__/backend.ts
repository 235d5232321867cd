/*
 * A portal backend as it runs, for the integration tests: real auth (Entra
 * sign-in against the emulator), real catalog, permission backend with the
 * ownership policy, real scaffolder with this module and the real auditor
 * (or, with `auditTrail`, the portal's auditor and audit plugin).
 * Only infrastructure is local: SQLite in memory, a fixed catalog provider
 * instead of Graph ingestion, and a root logger that keeps every line, so a
 * test can search the backend's log for tokens.
 */
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { auditorServiceFactory } from '@backstage/backend-defaults/auditor';
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { permissionsServiceFactory } from '@backstage/backend-defaults/permissions';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { userInfoServiceFactory } from '@backstage/backend-defaults/userInfo';
import {
  BackendFeature,
  coreServices,
  createBackendModule,
  DatabaseService,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import scaffolderEntityModel from '@backstage/plugin-catalog-backend-module-scaffolder-entity-model';
import permissionPlugin from '@backstage/plugin-permission-backend';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import type { EntraEmulator } from '@internal/entra-emulator';
import {
  auditTrail as portalAuditTrail,
  capturingRootLogger,
  emulatorAuthConfig,
  fixedEntityProvider,
  signIn as signInAsBrowser,
} from '@internal/portal-test-utils';
import entraAuthModule from '@internal/plugin-auth-backend-module-entra-provider';
import catalogModuleEntraOrg from '@internal/plugin-catalog-backend-module-entra-org';
import permissionModuleOwnershipPolicy from '@internal/plugin-permission-backend-module-ownership-policy';
import { parseAllDocuments } from 'yaml';
import { scaffolderModuleEntraDeploy } from '../module';

/** A read-only catalog token, to wait for the catalog before anyone signs in. */
export const CATALOG_READER_TOKEN = 'deploy-test-catalog-reader-0123456789';

/** The repository root (templates live in catalog/templates). */
const REPO_ROOT = path.resolve(
  path.dirname(
    require.resolve(
      '@internal/plugin-scaffolder-backend-module-entra-deploy/package.json',
    ),
  ),
  '..',
  '..',
);

/** The shipped templates, read from catalog/templates/<folder>/template.yaml. */
export function shippedTemplate(folder: string): Entity {
  const file = path.join(
    REPO_ROOT,
    'catalog',
    'templates',
    folder,
    'template.yaml',
  );
  return parseAllDocuments(fs.readFileSync(file, 'utf8'))[0].toJS() as Entity;
}

const CONTOSO = {
  carla: '5a9214bd-9425-4fb9-9a9d-bbdfb8789017',
  dev: '55c6b85a-2fda-452b-8b33-6d001fc7e7cd',
  rosa: '1f4ca630-a42a-461e-9843-2694d609d796',
};

const user = (name: string, oid: string, memberOf: string[]): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: {
    name,
    annotations: { 'graph.microsoft.com/user-id': oid },
  },
  spec: { profile: { email: `${name}@contoso.example` }, memberOf },
});
const group = (name: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name },
  spec: { type: 'team', children: [] },
});

/**
 * The shipped deploy template, but with an environment only known once the
 * task runs (an expression), so that nothing can refuse it before the
 * scaffolder's own check.
 */
function computedEnvironmentTemplate(): Entity {
  const template = shippedTemplate('deploy-component');
  const spec = template.spec as any;
  return {
    ...template,
    metadata: { name: 'deploy-computed-environment' },
    spec: {
      ...spec,
      parameters: [
        {
          properties: {
            ...spec.parameters[0].properties,
            environment: { type: 'string' },
          },
        },
      ],
      steps: [
        {
          ...spec.steps[0],
          input: {
            ...spec.steps[0].input,
            environment: '${{ parameters.environment | lower }}',
          },
        },
      ],
    },
  };
}

/**
 * The people of these tests as org ingestion names them: Carla Chen, in
 * payments (which owns payments-service) and production-deployers; Dev
 * Patel, in payments only; Rosa Ruiz, in data, owning nothing here.
 */
export const DEPLOY_TEST_ENTITIES: Entity[] = [
  user('carla.chen', CONTOSO.carla, ['payments', 'production-deployers']),
  user('dev.patel', CONTOSO.dev, ['payments']),
  user('rosa.ruiz', CONTOSO.rosa, ['data']),
  group('data'),
  group('payments'),
  group('production-deployers'),
  group('platform-admins'),
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'payments-service' },
    spec: {
      type: 'service',
      lifecycle: 'production',
      owner: 'group:default/payments',
    },
  },
  shippedTemplate('deploy-component'),
  shippedTemplate('azure-devops-pipeline'),
  computedEnvironmentTemplate(),
];

/** The ownership policy's deploy rules, as app-config.yaml has them. */
export const OWNERSHIP_POLICY = {
  admins: ['group:default/platform-admins'],
  scaffolder: {
    deploy: {
      actions: ['entra:deploy'],
      environments: [
        { name: 'production', groups: ['group:default/production-deployers'] },
        { name: 'staging' },
      ],
    },
  },
};

/**
 * A deploy target in front of the emulator's deploy API that keeps the
 * bearer tokens it received, so a test knows every on-behalf-of token the
 * portal obtained. `echoTokenInError` makes it answer 502 with the token in
 * the error message, as a careless target might.
 */
export async function startRecordingTarget(emulator: EntraEmulator) {
  const tokens: string[] = [];
  const state = { echoTokenInError: false };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const auth = String(req.headers.authorization ?? '');
    tokens.push(auth.replace(/^Bearer\s+/i, ''));
    if (state.echoTokenInError) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { message: `Upstream refused ${auth}` } }),
      );
      return;
    }
    const forwarded = await fetch(`${emulator.deployApiUrl}/deployments`, {
      method: req.method,
      headers: {
        authorization: auth,
        'content-type': 'application/json',
      },
      body: Buffer.concat(chunks),
    });
    res.writeHead(forwarded.status, { 'content-type': 'application/json' });
    res.end(await forwarded.text());
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://localhost:${
      (server.address() as AddressInfo).port
    }/deployments`,
    tokens,
    state,
    close: () =>
      new Promise<void>(r => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/**
 * Starts the portal backend with the deploy module, its targets pointed at
 * `deployUrl`. `provider` changes the portal app's sign-in config (e.g. a
 * certificate instead of the secret); `orgIngestion` reads users and groups
 * from the emulator's Graph with the entra-org module, with those
 * `microsoftGraphOrg.default` keys, instead of the fixed ones.
 */
export async function startDeployBackend(options: {
  emulator: EntraEmulator;
  deployUrl: string;
  provider?: object;
  orgIngestion?: object;
  /** More plugins and modules (the agent tests add MCP and agent access). */
  features?: BackendFeature[];
  /** Keys merged into `auth`, `backend` and the top level of the config. */
  config?: { auth?: object; backend?: object; root?: object };
  /**
   * The portal's audit trail (its auditor for every plugin and the audit
   * plugin, as packages/backend runs them) instead of upstream's auditor;
   * read it with `settledAuditEvents(baseUrl, ...)` from
   * @internal/portal-test-utils.
   */
  auditTrail?: boolean;
}) {
  const { emulator, deployUrl, provider = {}, orgIngestion } = options;
  const trail = options.auditTrail ? portalAuditTrail() : undefined;
  // Every line, with or without the trail: tests search them for tokens.
  const logLines: string[] = [];
  const fixedEntities = orgIngestion
    ? DEPLOY_TEST_ENTITIES.filter(e => e.kind !== 'User' && e.kind !== 'Group')
    : DEPLOY_TEST_ENTITIES;
  let scaffolderDatabase: DatabaseService | undefined;
  const backend = await startTestBackend({
    features: [
      authServiceFactory,
      httpAuthServiceFactory,
      userInfoServiceFactory,
      permissionsServiceFactory,
      ...(trail ? trail.features : [auditorServiceFactory]),
      capturingRootLogger(logLines),
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://localhost:3000' },
          backend: {
            database: { client: 'better-sqlite3', connection: ':memory:' },
            auth: {
              externalAccess: [
                {
                  type: 'static',
                  options: {
                    token: CATALOG_READER_TOKEN,
                    subject: 'deploy-test-reader',
                  },
                  accessRestrictions: [
                    {
                      plugin: 'catalog',
                      permissionAttribute: { action: 'read' },
                    },
                  ],
                },
                // The trail's reader.
                ...(trail?.config.backend.auth.externalAccess ?? []),
              ],
            },
            ...options.config?.backend,
          },
          ...(trail && { audit: trail.config.audit }),
          auth: {
            ...emulatorAuthConfig(emulator, { loadPhoto: false, ...provider }),
            ...options.config?.auth,
          },
          catalog: {
            rules: [{ allow: ['Component', 'Template', 'User', 'Group'] }],
            ...(orgIngestion && {
              providers: {
                microsoftGraphOrg: {
                  default: {
                    target: emulator.graphBaseUrl,
                    authority: emulator.httpsUrl,
                    tenantId: emulator.tenantId,
                    clientId: emulator.apps.portal.clientId,
                    schedule: {
                      frequency: { hours: 24 },
                      timeout: { minutes: 5 },
                    },
                    ...orgIngestion,
                  },
                },
              },
            }),
          },
          permission: { enabled: true, ownershipPolicy: OWNERSHIP_POLICY },
          ...options.config?.root,
          scaffolder: {
            entraDeploy: {
              environments: ['staging', 'production'].map(name => ({
                name,
                url: deployUrl,
                scope: emulator.apps.deployApi.scope,
              })),
              azureDevOps: {
                host: emulator.azureDevOpsUrl,
                pollInterval: 0.05,
              },
            },
          },
        },
      }),
      authPlugin,
      entraAuthModule,
      catalogPlugin,
      scaffolderEntityModel,
      fixedEntityProvider({
        name: 'deploy-test-entities',
        locationKey: 'deploy-test',
        entities: fixedEntities,
      }),
      ...(orgIngestion ? [schedulerServiceFactory, catalogModuleEntraOrg] : []),
      permissionPlugin,
      permissionModuleOwnershipPolicy,
      scaffolderPlugin,
      scaffolderModuleEntraDeploy,
      ...(options.features ?? []),
      createBackendModule({
        pluginId: 'scaffolder',
        moduleId: 'deploy-test-database',
        register(reg) {
          reg.registerInit({
            deps: { database: coreServices.database },
            async init({ database }) {
              scaffolderDatabase = database;
            },
          });
        },
      }),
    ],
  });
  const port = (backend.server.address() as AddressInfo).port;

  /** Every row of every table of the scaffolder's database, as JSON. */
  async function scaffolderTables(): Promise<Record<string, unknown[]>> {
    const knex = await scaffolderDatabase!.getClient();
    const tables = (await knex('sqlite_master')
      .where({ type: 'table' })
      .select('name')) as Array<{ name: string }>;
    const dump: Record<string, unknown[]> = {};
    for (const { name } of tables) dump[name] = await knex(name).select();
    return dump;
  }

  return {
    backend,
    baseUrl: `http://localhost:${port}`,
    logLines,
    scaffolderTables,
  };
}

/** Signs a seeded person in as the browser does; returns their Backstage token. */
export async function signIn(baseUrl: string, upn: string): Promise<string> {
  return (await signInAsBrowser(baseUrl, upn)).token;
}

/**
 * Waits until the catalog has stitched every one of `entityRefs` (each has
 * its relations): sign-in takes ownership refs from the catalog and task
 * creation needs the templates, and the catalog processes them in the
 * background after the backend starts.
 */
export async function waitForStitched(
  baseUrl: string,
  entityRefs: string[],
  timeoutMs = 45_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = await fetch(`${baseUrl}/api/catalog/entities/by-refs`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${CATALOG_READER_TOKEN}`,
      },
      body: JSON.stringify({ entityRefs }),
    })
      .then(r => r.json())
      .catch(() => undefined);
    if (body?.items?.every((e: any) => e?.relations?.length)) return;
    if (Date.now() > deadline) throw new Error('Catalog never settled');
    await new Promise(r => setTimeout(r, 250));
  }
}

/**
 * Calls the scaffolder's API as one of the signed-in people of `tokens`;
 * answers the status and the JSON body (null when there is none).
 * `baseUrl` is asked at each call: suites define the helper before their
 * backend starts.
 */
export function scaffolderApi<Who extends string>(
  baseUrl: () => string,
  tokens: Record<Who, string>,
) {
  return async (who: Who, method: string, route: string, body?: unknown) => {
    const res = await fetch(`${baseUrl()}/api/scaffolder${route}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
}
