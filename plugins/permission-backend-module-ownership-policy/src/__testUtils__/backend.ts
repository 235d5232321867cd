/*
 * A backend as the portal runs it, for the integration tests: real auth
 * (Entra sign-in against the emulator, Backstage user and plugin tokens),
 * real catalog, scaffolder and permission plugins, and the ownership policy.
 * Only infrastructure is local: SQLite in memory, a fixed catalog provider
 * instead of Graph ingestion, a recording stand-in for `entra:deploy`, and
 * an auditor that records every plugin's audit events (or, with
 * `auditTrail`, the portal's real audit trail, read back through its route).
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
import mcpActionsPlugin from '@backstage/plugin-mcp-actions-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import {
  createTemplateAction,
  scaffolderActionsExtensionPoint,
} from '@backstage/plugin-scaffolder-node';
import type { EntraEmulator } from '@internal/entra-emulator';
import {
  ApplyEntities,
  auditTrail as portalAuditTrail,
  emulatorAuthConfig,
  fixedEntityProvider,
  signIn,
} from '@internal/portal-test-utils';
import entraAuthModule from '@internal/plugin-auth-backend-module-entra-provider';
import catalogModuleAuditEntityRefs from '@internal/plugin-catalog-backend-module-audit-entity-refs';
import catalogModuleOwnerUnregister from '@internal/plugin-catalog-backend-module-owner-unregister';
import catalogModuleReadGuard from '@internal/plugin-catalog-backend-module-read-guard';
import catalogModuleEntraOrg from '@internal/plugin-catalog-backend-module-entra-org';
import scaffolderModuleTemplateRunGuard from '@internal/plugin-scaffolder-backend-module-template-run-guard';
import { permissionModuleOwnershipPolicy } from '../module';
import { RecordedAuditEvent, recordingAuditorFactory } from './auditor';

export type { RecordedAuditEvent };

/** A deploy the stand-in `entra:deploy` action performed. */
export interface RecordedDeploy {
  user?: string;
  component: string;
  environment: string;
}

export type { ApplyEntities };

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
 * `entities` should then hold no org entities. With `auditTrail`, events are
 * stored by the portal's auditor and audit plugin (as packages/backend runs
 * them) instead of recorded in `auditEvents`; read them with
 * `settledAuditEvents(baseUrl, ...)` from @internal/portal-test-utils.
 */
export async function startPortalBackend(options: {
  emulator: EntraEmulator;
  entities: Entity[];
  ownershipPolicy: object;
  staticToken: string;
  readableHosts?: string[];
  orgIngestion?: object;
  auditTrail?: boolean;
}) {
  const {
    emulator,
    entities,
    ownershipPolicy,
    staticToken,
    readableHosts,
    orgIngestion,
  } = options;
  const trail = options.auditTrail ? portalAuditTrail() : undefined;
  const { portal } = emulator.apps;
  const deploys: RecordedDeploy[] = [];
  const auditEvents: RecordedAuditEvent[] = [];
  let applyEntities: ApplyEntities = async () => {
    throw new Error('The test entity provider is not connected yet');
  };
  const backend = await startTestBackend({
    features: [
      authServiceFactory,
      httpAuthServiceFactory,
      userInfoServiceFactory,
      permissionsServiceFactory,
      ...(trail ? trail.features : [recordingAuditorFactory(auditEvents)]),
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
                // The trail's reader (no restrictions: it may read the trail).
                ...(trail?.config.backend.auth.externalAccess ?? []),
              ],
            },
          },
          ...(trail && { audit: trail.config.audit }),
          auth: emulatorAuthConfig(emulator, { loadPhoto: false }),
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
      // As packages/backend: a delete by uid names its entity in the trail.
      catalogModuleAuditEntityRefs,
      scaffolderEntityModel,
      fixedEntityProvider({
        name: 'policy-test-entities',
        locationKey: 'policy-test',
        entities,
        connected: apply => {
          applyEntities = apply;
        },
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
    /**
     * Every audit event of every plugin, in the order of their outcomes
     * (empty with `auditTrail`: the trail stores them instead).
     */
    auditEvents,
    applyEntities: (current: Entity[]) => applyEntities(current),
  };
}

/**
 * Signs a seeded person in as the browser does and returns their Backstage
 * token, the ownership refs sign-in gave them and their session cookie.
 */
export { signIn };
