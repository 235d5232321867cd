/*
 * A backend as the portal runs it, for the integration tests: real auth
 * (Entra sign-in against the emulator, Backstage user and plugin tokens),
 * real catalog, scaffolder and permission plugins, and the ownership policy.
 * Only infrastructure is local: SQLite in memory, a fixed catalog provider
 * instead of Graph ingestion, and a recording stand-in for `entra:deploy`.
 */
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { permissionsServiceFactory } from '@backstage/backend-defaults/permissions';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { userInfoServiceFactory } from '@backstage/backend-defaults/userInfo';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import scaffolderEntityModel from '@backstage/plugin-catalog-backend-module-scaffolder-entity-model';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import mcpActionsPlugin from '@backstage/plugin-mcp-actions-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import {
  createTemplateAction,
  scaffolderActionsExtensionPoint,
} from '@backstage/plugin-scaffolder-node';
import type { EntraEmulator } from '@internal/entra-emulator';
import { signInThroughBrowser } from '@internal/entra-emulator/testUtils';
import entraAuthModule from '@internal/plugin-auth-backend-module-entra-provider';
import catalogModuleOwnerUnregister from '@internal/plugin-catalog-backend-module-owner-unregister';
import catalogModuleReadGuard from '@internal/plugin-catalog-backend-module-read-guard';
import catalogModuleEntraOrg from '@internal/plugin-catalog-backend-module-entra-org';
import scaffolderModuleTemplateRunGuard from '@internal/plugin-scaffolder-backend-module-template-run-guard';
import { permissionModuleOwnershipPolicy } from '../module';

/** The callback URL registered for the portal app in the emulator's seed. */
const CALLBACK_URL = 'http://localhost:7007/api/auth/microsoft/handler/frame';

/** A deploy the stand-in `entra:deploy` action performed. */
export interface RecordedDeploy {
  user?: string;
  component: string;
  environment: string;
}

/** Replaces the catalog's entities from the test provider, as an ingestion run would. */
export type ApplyEntities = (entities: Entity[]) => Promise<void>;

/**
 * Puts a set of entities in the catalog, as org ingestion would; `connected`
 * gets a function that replaces them later (a full mutation).
 */
function fixedEntityProvider(
  entities: Entity[],
  connected: (apply: ApplyEntities) => void,
) {
  return createBackendModule({
    pluginId: 'catalog',
    moduleId: 'policy-test-entities',
    register(reg) {
      reg.registerInit({
        deps: { processing: catalogProcessingExtensionPoint },
        async init({ processing }) {
          processing.addEntityProvider({
            getProviderName: () => 'policy-test-entities',
            async connect(connection) {
              const apply: ApplyEntities = current =>
                connection.applyMutation({
                  type: 'full',
                  entities: current.map(entity => ({
                    locationKey: 'policy-test',
                    entity: {
                      ...entity,
                      metadata: {
                        ...entity.metadata,
                        annotations: {
                          'backstage.io/managed-by-location': 'url:policy-test',
                          'backstage.io/managed-by-origin-location':
                            'url:policy-test',
                          ...entity.metadata.annotations,
                        },
                      },
                    },
                  })),
                });
              connected(apply);
              await apply(entities);
            },
          });
        },
      });
    },
  });
}

/** Records deploys instead of calling a deploy target. */
function deployActionStandIn(deploys: RecordedDeploy[]) {
  return createBackendModule({
    pluginId: 'scaffolder',
    moduleId: 'policy-test-deploy',
    register(reg) {
      reg.registerInit({
        deps: { actions: scaffolderActionsExtensionPoint },
        async init({ actions }) {
          actions.addActions(
            createTemplateAction({
              id: 'entra:deploy',
              schema: {
                input: {
                  component: z => z.string(),
                  environment: z => z.string(),
                },
              },
              async handler(ctx) {
                deploys.push({ user: ctx.user?.ref, ...ctx.input });
              },
            }),
          );
        },
      });
    },
  });
}

/**
 * Starts the backend; `staticToken` is a read-only external service's token,
 * `readableHosts` the hosts (`localhost:1234`) catalog locations may be read from.
 * With `orgIngestion` (extra keys of its provider config, e.g. `delta`), the
 * real Entra org ingestion reads Users and Groups from the emulator's Graph
 * on the real scheduler (the test default runs each task once only);
 * `entities` should then hold no org entities.
 */
export async function startPortalBackend(options: {
  emulator: EntraEmulator;
  entities: Entity[];
  ownershipPolicy: object;
  staticToken: string;
  readableHosts?: string[];
  orgIngestion?: object;
}) {
  const {
    emulator,
    entities,
    ownershipPolicy,
    staticToken,
    readableHosts,
    orgIngestion,
  } = options;
  const { portal } = emulator.apps;
  const deploys: RecordedDeploy[] = [];
  let applyEntities: ApplyEntities = async () => {
    throw new Error('The test entity provider is not connected yet');
  };
  const backend = await startTestBackend({
    features: [
      authServiceFactory,
      httpAuthServiceFactory,
      userInfoServiceFactory,
      permissionsServiceFactory,
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://localhost:3000' },
          backend: {
            database: { client: 'better-sqlite3', connection: ':memory:' },
            // As app-config.yaml: these plugins' actions are MCP tools.
            actions: { pluginSources: ['catalog', 'scaffolder'] },
            ...(readableHosts && {
              reading: { allow: readableHosts.map(host => ({ host })) },
            }),
            auth: {
              externalAccess: [
                {
                  type: 'static',
                  options: { token: staticToken, subject: 'read-only-robot' },
                  // What docs/permissions.md recommends for automation.
                  accessRestrictions: [
                    {
                      plugin: 'catalog',
                      permissionAttribute: { action: 'read' },
                    },
                    {
                      plugin: 'scaffolder',
                      permissionAttribute: { action: 'read' },
                    },
                  ],
                },
              ],
            },
          },
          auth: {
            environment: 'development',
            providers: {
              microsoft: {
                development: {
                  clientId: portal.clientId,
                  clientSecret: portal.clientSecret,
                  tenantId: emulator.tenantId,
                  authority: emulator.authority,
                  callbackUrl: CALLBACK_URL,
                  loadPhoto: false,
                },
              },
            },
          },
          catalog: {
            rules: [
              {
                allow: [
                  'Component',
                  'System',
                  'API',
                  'Resource',
                  'Location',
                  'Template',
                  'User',
                  'Group',
                ],
              },
            ],
            ...(orgIngestion && {
              providers: {
                microsoftGraphOrg: {
                  default: {
                    target: emulator.graphBaseUrl,
                    authority: emulator.httpsUrl,
                    tenantId: emulator.tenantId,
                    clientId: portal.clientId,
                    clientSecret: portal.clientSecret,
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
          permission: { enabled: true, ownershipPolicy },
        },
      }),
      authPlugin,
      entraAuthModule,
      catalogPlugin,
      catalogModuleReadGuard,
      catalogModuleOwnerUnregister,
      scaffolderEntityModel,
      fixedEntityProvider(entities, apply => {
        applyEntities = apply;
      }),
      ...(orgIngestion ? [schedulerServiceFactory, catalogModuleEntraOrg] : []),
      permissionPlugin,
      permissionModuleOwnershipPolicy,
      scaffolderPlugin,
      scaffolderModuleTemplateRunGuard,
      deployActionStandIn(deploys),
      mcpActionsPlugin,
    ],
  });
  const port = (backend.server.address() as { port: number }).port;
  return {
    backend,
    baseUrl: `http://localhost:${port}`,
    deploys,
    applyEntities: (current: Entity[]) => applyEntities(current),
  };
}

/** The JSON the sign-in popup posts back to the app. */
function readPopupResponse(html: string): any {
  const encoded = /decodeURIComponent\('([^']*)'\)/.exec(html)?.[1];
  if (!encoded) throw new Error(`No auth response in popup page:\n${html}`);
  return JSON.parse(decodeURIComponent(encoded));
}

/** The Cookie header a browser would send back (the last value set wins). */
function cookieHeader(res: Response): string {
  const jar = new Map<string, string>();
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    const [name, value] = [pair.slice(0, i), pair.slice(i + 1)];
    if (value) jar.set(name, value);
    else jar.delete(name);
  }
  return [...jar].map(([n, v]) => `${n}=${v}`).join('; ');
}

/**
 * Signs a seeded person in as the browser does and returns their Backstage
 * token and the ownership refs sign-in gave them.
 */
export async function signIn(baseUrl: string, upn: string) {
  const start = await fetch(
    `${baseUrl}/api/auth/microsoft/start?env=development`,
    { redirect: 'manual' },
  );
  if (start.status !== 302) {
    throw new Error(
      `Sign-in start answered ${start.status}: ${await start.text()}`,
    );
  }
  const login = await signInThroughBrowser(start.headers.get('location')!, upn);
  const callback = new URL(login.headers.get('location')!);
  const frame = await fetch(
    `${baseUrl}/api/auth/microsoft/handler/frame${callback.search}`,
    { headers: { cookie: cookieHeader(start) }, redirect: 'manual' },
  );
  const { response, error } = readPopupResponse(await frame.text());
  if (!response) {
    throw new Error(`Sign-in of ${upn} failed: ${JSON.stringify(error)}`);
  }
  return {
    token: response.backstageIdentity.token as string,
    /** The Cookie header the browser then holds (the refresh-token cookie). */
    sessionCookie: cookieHeader(frame),
    ownershipEntityRefs: response.backstageIdentity.identity
      .ownershipEntityRefs as string[],
  };
}
