import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { readEntraDeployConfig } from './config';
import { DelegatedTokenVerifier } from './delegation';
import { OnBehalfOfClient } from './onBehalfOf';
import { createEntraDeployAction } from './actions/deploy';
import { createAzureDevOpsPipelineRunAction } from './actions/pipelineRun';

/**
 * Adds `entra:deploy` and `azure-devops:pipeline:run` to the scaffolder:
 * deploy steps that act as the person who started the task, with their
 * delegated Entra token verified against `ctx.user` and exchanged
 * on-behalf-of, every deploy audited. Who may deploy where is the
 * permission policy's decision, taken before the action runs.
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
        actions: scaffolderActionsExtensionPoint,
      },
      async init({ config, logger, auditor, actions }) {
        const settings = readEntraDeployConfig(config);
        const services = {
          verifier: new DelegatedTokenVerifier(settings.entra),
          onBehalfOf: new OnBehalfOfClient(settings.entra, logger),
          auditor,
        };
        actions.addActions(
          createEntraDeployAction(services, settings.environments),
          createAzureDevOpsPipelineRunAction(services, settings.azureDevOps),
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
