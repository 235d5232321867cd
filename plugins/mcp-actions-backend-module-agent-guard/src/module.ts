import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { createAgentGuard, createIntrospectClient } from './guard';

/** The annotation sign-in matches a person's Entra object id (oid) on. */
const ENTRA_USER_ID = 'graph.microsoft.com/user-id';

/**
 * Checks every MCP call by a person's token against the agent access grant
 * (auth module `agent-access`) and audits each tool call.
 */
export const mcpActionsModuleAgentGuard = createBackendModule({
  pluginId: 'mcp-actions',
  moduleId: 'agent-guard',
  register(reg) {
    reg.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        auditor: coreServices.auditor,
        discovery: coreServices.discovery,
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        catalog: catalogServiceRef,
      },
      async init({
        httpRouter,
        httpAuth,
        auth,
        auditor,
        discovery,
        logger,
        config,
        catalog,
      }) {
        // Sign-in admits only this tenant's people (tid is checked against
        // it), so it is every signed-in person's tid.
        const environment =
          config.getOptionalString('auth.environment') ?? 'development';
        const tid = config.getOptionalString(
          `auth.providers.microsoft.${environment}.tenantId`,
        );
        // Modules initialise before their plugin: this runs first.
        httpRouter.use(
          createAgentGuard({
            httpAuth,
            auth,
            auditor,
            logger,
            introspect: createIntrospectClient({ auth, discovery }),
            async entraIdentity(userEntityRef) {
              const user = await catalog.getEntityByRef(userEntityRef, {
                credentials: await auth.getOwnServiceCredentials(),
              });
              return { oid: user?.metadata.annotations?.[ENTRA_USER_ID], tid };
            },
          }),
        );
      },
    });
  },
});
