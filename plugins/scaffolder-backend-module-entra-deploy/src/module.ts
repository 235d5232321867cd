import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { readEntraDeployConfig } from './config';
import { DelegatedTokenVerifier } from './delegation';
import { OnBehalfOfClient } from './onBehalfOf';
import { createEntraDeployAction } from './actions/deploy';
import { createAzureDevOpsPipelineRunAction } from './actions/pipelineRun';
import { createDeployPreflightRouter } from './deployPreflight';
import { createAgentDelegationClient } from './agentDelegation';

/**
 * Adds `entra:deploy` and `azure-devops:pipeline:run` to the scaffolder:
 * deploy steps that act as the person who started the task, with their
 * delegated Entra token verified against `ctx.user` and exchanged
 * on-behalf-of, every deploy audited. Who may deploy where is the
 * permission policy's decision, taken before the action runs; a deploy the
 * policy will refuse is refused already when the task is created, with the
 * reason (its route is mounted ahead of the scaffolder's own, since a
 * plugin's modules are initialised before the plugin).
 *
 * @public
 */
export const scaffolderModuleEntraDeploy = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'entra-deploy',
  register(reg) {
    reg.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        auditor: coreServices.auditor,
        auth: coreServices.auth,
        discovery: coreServices.discovery,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        permissions: coreServices.permissions,
        catalog: catalogServiceRef,
        actions: scaffolderActionsExtensionPoint,
      },
      async init({
        config,
        logger,
        auditor,
        actions,
        httpRouter,
        discovery,
        ...deps
      }) {
        const settings = readEntraDeployConfig(config);
        const services = {
          verifier: new DelegatedTokenVerifier(settings.entra),
          onBehalfOf: new OnBehalfOfClient(settings.entra, logger),
          auditor,
          agentDelegation: createAgentDelegationClient({
            auth: deps.auth,
            discovery,
          }),
        };
        actions.addActions(
          createEntraDeployAction(services, settings.environments),
          createAzureDevOpsPipelineRunAction(services, settings.azureDevOps),
        );
        httpRouter.use(
          createDeployPreflightRouter({ config, auditor, ...deps }),
        );
        logger.info(
          `Deploy actions use the Entra app of ${
            settings.entraKey
          } (authority ${
            settings.entra.authority
          }); entra:deploy environments: ${
            [...settings.environments.keys()].join(', ') || 'none'
          }`,
        );
      },
    });
  },
});
