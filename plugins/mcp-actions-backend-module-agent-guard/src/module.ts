import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { createAgentGuard, createIntrospectClient } from './guard';

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
      },
      async init({ httpRouter, httpAuth, auth, auditor, discovery, logger }) {
        // Modules initialise before their plugin: this runs first.
        httpRouter.use(
          createAgentGuard({
            httpAuth,
            auth,
            auditor,
            logger,
            introspect: createIntrospectClient({ auth, discovery }),
          }),
        );
      },
    });
  },
});
