import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { readDurationFromConfig } from '@backstage/config';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { durationToMilliseconds } from '@backstage/types';
import { readDelegationConfig } from './delegationConfig';
import { createDelegationRouter, HANDLE_PREFIX } from './delegationRouter';
import { DelegationCipher, DelegationStore } from './delegationStore';
import { EntraDelegationClient } from './entraDelegation';
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
        catalog: catalogServiceRef,
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
        catalog,
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
        const delegation = readDelegationConfig(config);
        const cipher = delegation && new DelegationCipher(delegation.keys);

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
            signHandle:
              cipher && (handle => HANDLE_PREFIX + cipher.sign(handle)),
          }),
        );
        if (delegation && cipher) {
          httpRouter.use(
            createDelegationRouter({
              db,
              grants,
              delegations: new DelegationStore(db, cipher),
              cipher,
              entra: new EntraDelegationClient(delegation.entra, {
                scope: delegation.scope,
                redirectUri: delegation.callbackUrl,
                logger,
              }),
              httpAuth,
              auth,
              logger,
              appBaseUrl: config.getString('app.baseUrl'),
              lifetimeMs,
              async userEntity(userEntityRef) {
                const entity = await catalog.getEntityByRef(userEntityRef, {
                  credentials: await auth.getOwnServiceCredentials(),
                });
                return entity?.kind === 'User' ? (entity as any) : undefined;
              },
            }),
          );
          logger.info(
            `Agents may deploy as the person when they choose it on consent (scope ${delegation.scope}, callback ${delegation.callbackUrl})`,
          );
        }
      },
    });
  },
});
