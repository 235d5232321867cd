import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { readProviderConfigs } from '@backstage/plugin-catalog-backend-module-msgraph';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { createGraphClient, EntraOrgEntityProvider } from './entraOrgProvider';

/**
 * Entra org ingestion, configured under the upstream
 * `catalog.providers.microsoftGraphOrg.<id>` keys.
 *
 * @public
 */
export const catalogModuleEntraOrg = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'entra-org',
  register(reg) {
    reg.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        scheduler: coreServices.scheduler,
      },
      async init({ catalog, config, logger, scheduler }) {
        for (const providerConfig of readProviderConfigs(config)) {
          if (!providerConfig.schedule) {
            throw new Error(
              `catalog.providers.microsoftGraphOrg.${providerConfig.id}.schedule is missing: set e.g. { frequency: { minutes: 30 }, timeout: { minutes: 10 } }`,
            );
          }
          catalog.addEntityProvider(
            new EntraOrgEntityProvider({
              config: providerConfig,
              client: createGraphClient(providerConfig),
              logger: logger.child({ provider: providerConfig.id }),
              taskRunner: scheduler.createScheduledTaskRunner(
                providerConfig.schedule,
              ),
            }),
          );
        }
      },
    });
  },
});
