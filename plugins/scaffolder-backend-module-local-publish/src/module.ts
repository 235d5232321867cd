import path from 'node:path';
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createPublishLocalAction, REPOS_PATH } from './localPublish';
import { createLocalPublishRouter } from './router';

/**
 * publish:local, when `scaffolder.localPublish.directory` is set: templates
 * publish to a folder and register what they published, offline.
 */
export const scaffolderModuleLocalPublish = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'local-publish',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        discovery: coreServices.discovery,
        httpRouter: coreServices.httpRouter,
        logger: coreServices.logger,
        actions: scaffolderActionsExtensionPoint,
      },
      async init({ config, discovery, httpRouter, logger, actions }) {
        const configured = config.getOptionalString(
          'scaffolder.localPublish.directory',
        );
        if (!configured) {
          return;
        }
        const directory = path.resolve(configured);
        actions.addActions(
          createPublishLocalAction({
            directory,
            scaffolderBaseUrl: () => discovery.getBaseUrl('scaffolder'),
          }),
        );
        httpRouter.use(createLocalPublishRouter(directory));
        // The catalog's URL reader sends no credentials. What is served is
        // only what templates published, and only where this is configured.
        httpRouter.addAuthPolicy({ path: REPOS_PATH, allow: 'unauthenticated' });
        logger.info(`publish:local publishes to ${directory}`);
      },
    });
  },
});
