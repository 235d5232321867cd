import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { ScmIntegrations } from '@backstage/integration';
import {
  DirectoryPreparer,
  techdocsPreparerExtensionPoint,
} from '@backstage/plugin-techdocs-node';
import { LocalCopyPreparer } from './LocalCopyPreparer';

/**
 * `dir:` docs are built from a copy, so the build never rewrites the
 * repository's mkdocs.yml (LocalCopyPreparer).
 */
export const techdocsModuleLocalCopyPreparer = createBackendModule({
  pluginId: 'techdocs',
  moduleId: 'local-copy-preparer',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        urlReader: coreServices.urlReader,
        preparers: techdocsPreparerExtensionPoint,
      },
      async init({ config, logger, urlReader, preparers }) {
        preparers.registerPreparer(
          'dir',
          new LocalCopyPreparer(
            DirectoryPreparer.fromConfig(config, { logger, reader: urlReader }),
            ScmIntegrations.fromConfig(config),
          ),
        );
      },
    });
  },
});
