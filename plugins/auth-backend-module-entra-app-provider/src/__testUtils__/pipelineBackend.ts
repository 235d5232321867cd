/*
 * A backend as the portal runs it (createBackend, every default service),
 * for the pipeline acceptance tests: the root HTTP router configured as
 * packages/backend/src/index.ts does (entra-app middleware),
 * real auth (this module, Entra sign-in), catalog, permission backend and
 * ownership policy, the audit trail, against the Entra emulator. Users, groups and service
 * principals come from the real org ingestion reading the emulator's Graph;
 * `entities` adds what a catalog has besides (components). SQLite in memory.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createBackend } from '@backstage/backend-defaults';
import { rootHttpRouterServiceFactory } from '@backstage/backend-defaults/rootHttpRouter';
import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import type { EntraEmulator } from '@internal/entra-emulator';
import {
  auditTrail,
  emulatorAuthConfig,
  fixedEntityProvider,
} from '@internal/portal-test-utils';
import entraAuthModule from '@internal/plugin-auth-backend-module-entra-provider';
import catalogModuleEntraOrg from '@internal/plugin-catalog-backend-module-entra-org';
import ownershipPolicyModule from '@internal/plugin-permission-backend-module-ownership-policy';
import { acceptEntraAppTokens } from '../middleware';
import { authModuleEntraAppProvider } from '../module';
import { recordingRootLogger } from './recordingLogger';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Starts the backend; `entraApp` is the `auth.providers.entra-app` block.
 * Without `orgIngestion: false`, org ingestion reads the emulator's Graph.
 */
export async function startPipelineBackend(options: {
  emulator: EntraEmulator;
  entities: Entity[];
  entraApp: object;
  ownershipPolicy: object;
  readableHosts?: string[];
  orgIngestion?: boolean;
}) {
  const { portal } = options.emulator.apps;
  const orgIngestion = options.orgIngestion ?? true;
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const logs = recordingRootLogger();
  const trail = auditTrail();
  const backend = createBackend();
  for (const feature of [
    logs.factory,
    ...trail.features,
    // As packages/backend/src/index.ts configures it.
    rootHttpRouterServiceFactory({
      configure(context) {
        acceptEntraAppTokens(context);
        context.applyDefaults();
      },
    }),
    mockServices.rootConfig.factory({
      data: {
        app: { baseUrl: 'http://localhost:3000' },
        backend: {
          baseUrl,
          listen: { port, host: '127.0.0.1' },
          database: { client: 'better-sqlite3', connection: ':memory:' },
          auth: trail.config.backend.auth,
          ...(options.readableHosts && {
            reading: {
              allow: options.readableHosts.map(host => ({ host })),
            },
          }),
        },
        auth: {
          ...emulatorAuthConfig(options.emulator, { loadPhoto: false }),
          providers: {
            ...emulatorAuthConfig(options.emulator, { loadPhoto: false })
              .providers,
            'entra-app': options.entraApp,
          },
        },
        catalog: {
          rules: [{ allow: ['Component', 'Location', 'User', 'Group'] }],
          ...(orgIngestion && {
            providers: {
              microsoftGraphOrg: {
                default: {
                  target: options.emulator.graphBaseUrl,
                  authority: options.emulator.httpsUrl,
                  tenantId: options.emulator.tenantId,
                  clientId: portal.clientId,
                  clientSecret: portal.clientSecret,
                  schedule: {
                    frequency: { hours: 24 },
                    timeout: { minutes: 5 },
                  },
                },
              },
            },
          }),
        },
        permission: {
          enabled: true,
          ownershipPolicy: options.ownershipPolicy,
        },
        audit: trail.config.audit,
      },
    }),
    authPlugin,
    entraAuthModule,
    authModuleEntraAppProvider,
    catalogPlugin,
    fixedEntityProvider({
      name: 'pipeline-test-entities',
      locationKey: 'pipeline-test',
      entities: options.entities,
    }),
    ...(orgIngestion ? [catalogModuleEntraOrg] : []),
    permissionPlugin,
    ownershipPolicyModule,
  ]) {
    backend.add(feature);
  }
  await backend.start();
  return { backend, baseUrl, logs: logs.records };
}
