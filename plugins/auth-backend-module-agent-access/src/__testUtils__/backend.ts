/*
 * The portal's backend for the agent tests: real auth (Entra sign-in against
 * the emulator, Backstage's OAuth server for MCP clients), real catalog,
 * permission (ownership policy) and MCP actions plugins, and with
 * `auditTrail` the portal's auditor and audit plugin. Only infrastructure
 * is local: SQLite in memory and a fixed catalog provider instead of Graph.
 */
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { permissionsServiceFactory } from '@backstage/backend-defaults/permissions';
import { userInfoServiceFactory } from '@backstage/backend-defaults/userInfo';
import { BackendFeature } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import mcpActionsPlugin from '@backstage/plugin-mcp-actions-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import { loadSeed } from '@internal/entra-emulator';
import type { EntraEmulator } from '@internal/entra-emulator';
import {
  auditTrail as portalAuditTrail,
  emulatorAuthConfig,
  fixedEntityProvider,
} from '@internal/portal-test-utils';
import entraAuthModule, {
  ENTRA_USER_ID_ANNOTATION,
} from '@internal/plugin-auth-backend-module-entra-provider';
import catalogModuleReadGuard from '@internal/plugin-catalog-backend-module-read-guard';
import permissionModuleOwnershipPolicy from '@internal/plugin-permission-backend-module-ownership-policy';
import mcpActionsModuleAgentGuard from '@internal/plugin-mcp-actions-backend-module-agent-guard';
import { authModuleAgentAccess } from '../module';

/** The seeded people the agent tests act for, and the group each is in (Ada is a portal admin). */
export const PEOPLE = {
  carla: { upn: 'carla.chen@contoso.example', group: 'payments' },
  rosa: { upn: 'rosa.ruiz@contoso.example', group: 'data' },
  ada: { upn: 'ada.admin@contoso.example', group: 'platform-admins' },
} as const;

const doc = (kind: string, name: string, spec: object, extra = {}) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind,
  metadata: { name, ...extra },
  spec,
});

/**
 * Carla and Rosa as org ingestion puts them in the catalog (keyed on their
 * seeded object ids), their groups, and what payments owns: a component
 * everyone may read and a database (Resource) only its owners may.
 */
export function agentTestEntities(): Entity[] {
  const seed = loadSeed();
  const users = Object.values(PEOPLE).map(({ upn, group }) => {
    const user = seed.users.find(u => u.userPrincipalName === upn);
    if (!user) throw new Error(`${upn} is not in the emulator's seed`);
    return doc(
      'User',
      upn.split('@')[0],
      { profile: { displayName: user.displayName }, memberOf: [group] },
      { annotations: { [ENTRA_USER_ID_ANNOTATION]: user.id } },
    );
  });
  const groups = ['payments', 'data', 'platform-admins'].map(name =>
    doc('Group', name, { type: 'team', children: [] }),
  );
  return [
    ...users,
    ...groups,
    doc('Component', 'payments-api', {
      type: 'service',
      lifecycle: 'production',
      owner: 'group:default/payments',
    }),
    doc('Resource', 'payments-db', {
      type: 'database',
      owner: 'group:default/payments',
    }),
  ];
}

/**
 * Starts the backend; `agentClientIds` are the exact client metadata URLs
 * allowed (as production would list them), `features` extra modules.
 */
export async function startAgentBackend(options: {
  emulator: EntraEmulator;
  agentClientIds: string[];
  features?: BackendFeature[];
  config?: object;
  /** More catalog entities beside {@link agentTestEntities}. */
  extraEntities?: Entity[];
  /**
   * The portal's audit trail (its auditor for every plugin and the audit
   * plugin, as packages/backend runs them); read it with
   * `settledAuditEvents(baseUrl, ...)` from @internal/portal-test-utils.
   * `logLines` then holds every line the backend logged.
   */
  auditTrail?: boolean;
}) {
  const { emulator, agentClientIds } = options;
  const trail = options.auditTrail
    ? portalAuditTrail({ captureLogs: true })
    : undefined;
  const backend = await startTestBackend({
    features: [
      authServiceFactory,
      httpAuthServiceFactory,
      userInfoServiceFactory,
      permissionsServiceFactory,
      ...(trail ? trail.features : []),
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://localhost:3000' },
          backend: {
            database: { client: 'better-sqlite3', connection: ':memory:' },
            actions: { pluginSources: ['catalog'] },
            ...(trail && { auth: trail.config.backend.auth }),
          },
          ...(trail && { audit: trail.config.audit }),
          auth: {
            ...emulatorAuthConfig(emulator, { loadPhoto: false }),
            // As app-config.production.yaml, with this test's agent listed.
            backstageTokenExpiration: { minutes: 15 },
            clientIdMetadataDocuments: {
              enabled: true,
              allowedClientIdPatterns: agentClientIds,
            },
            experimentalRefreshToken: {
              enabled: true,
              tokenLifetime: { hours: 12 },
              maxRotationLifetime: { days: 7 },
            },
          },
          catalog: {
            rules: [{ allow: ['Component', 'Resource', 'User', 'Group'] }],
          },
          permission: {
            enabled: true,
            ownershipPolicy: {
              admins: ['group:default/platform-admins'],
              catalog: { restrictReadToOwners: { kinds: ['Resource'] } },
            },
          },
          ...options.config,
        },
      }),
      authPlugin,
      entraAuthModule,
      authModuleAgentAccess,
      catalogPlugin,
      catalogModuleReadGuard,
      fixedEntityProvider({
        name: 'agent-test-entities',
        locationKey: 'agent-test',
        entities: [...agentTestEntities(), ...(options.extraEntities ?? [])],
      }),
      permissionPlugin,
      permissionModuleOwnershipPolicy,
      mcpActionsPlugin,
      mcpActionsModuleAgentGuard,
      ...(options.features ?? []),
    ],
  });
  const port = (backend.server.address() as { port: number }).port;
  return {
    backend,
    baseUrl: `http://localhost:${port}`,
    logLines: trail?.logLines ?? [],
  };
}
