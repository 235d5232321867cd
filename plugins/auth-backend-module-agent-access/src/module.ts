import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';
import { AgentGrantStore } from './grants';
import { migrateAgentAccess } from './migrations';
import { createAgentAccessRouter } from './router';
import { createGrantTaps } from './taps';

/** Without `agentAccess.grantLifetime`: as long as refresh may rotate. */
const DEFAULT_GRANT_LIFETIME = { days: 7 };

/**
 * Agents (MCP clients) acting for a person: records a grant per (person,
 * client) when the person approves, binds each token issued to it, lets the
 * person list and revoke grants, and answers the MCP guard's introspection.
 */
export const authModuleAgentAccess = createBackendModule({
  pluginId: 'auth',
  moduleId: 'agent-access',
  register(reg) {
    reg.registerInit({
      deps: {
        config: coreServices.rootConfig,
        database: coreServices.database,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        userInfo: coreServices.userInfo,
        discovery: coreServices.discovery,
        logger: coreServices.logger,
      },
      async init({
        config,
        database,
        httpRouter,
        httpAuth,
        auth,
        userInfo,
        discovery,
        logger,
      }) {
        const key = 'agentAccess.grantLifetime';
        const lifetime = config.has(key)
          ? readDurationFromConfig(config, { key })
          : DEFAULT_GRANT_LIFETIME;
        const lifetimeMs = durationToMilliseconds(lifetime);
        if (!(lifetimeMs > 0)) {
          throw new Error(
            `${key} must be a positive duration, e.g. { days: 7 }`,
          );
        }
        const db = await database.getClient();
        await migrateAgentAccess(db);
        const grants = new AgentGrantStore(db, lifetimeMs);

        // Modules initialise before their plugin, so these run in front of
        // upstream's OIDC routes.
        httpRouter.use(
          createGrantTaps({
            db,
            grants,
            logger,
            async clientNameOf(sessionId) {
              const base = await discovery.getBaseUrl('auth');
              const res = await fetch(
                `${base}/v1/sessions/${encodeURIComponent(sessionId)}`,
              );
              return res.ok ? (await res.json()).clientName : undefined;
            },
          }),
        );
        httpRouter.use(
          createAgentAccessRouter({
            grants,
            httpAuth,
            auth,
            userInfo,
            logger,
            adminGroups:
              config.getOptionalStringArray(
                'permission.ownershipPolicy.admins',
              ) ?? [],
          }),
        );
      },
    });
  },
});
