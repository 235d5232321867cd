import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { NestedGroupOwnershipResolver } from '@internal/plugin-auth-backend-module-entra-provider';
import { createEntraAppAuthenticator } from './authenticator';
import { CONFIG_KEY, readEntraAppConfig } from './config';
import { entraAppSignInResolver } from './resolver';

/**
 * Pipelines sign in with their Entra app token under the provider id
 * `entra-app` (`/api/auth/entra-app/refresh`): the caller becomes the
 * service principal's catalog entity, so the ownership policy decides for
 * it as for a person. Off unless `auth.providers.entra-app` is set.
 *
 * @public
 */
export const authModuleEntraAppProvider = createBackendModule({
  pluginId: 'auth',
  moduleId: 'entra-app-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        config: coreServices.rootConfig,
        catalog: catalogServiceRef,
        auth: coreServices.auth,
        logger: coreServices.logger,
      },
      async init({ providers, config, catalog, auth, logger }) {
        if (!config.has(CONFIG_KEY)) return;
        // Read here, not in the provider factory: upstream only warns about
        // a provider that fails to initialise in development, and a wrong
        // setting must stop every start, naming the key.
        const appConfig = readEntraAppConfig(config);
        const ownership = new NestedGroupOwnershipResolver(
          catalog,
          auth,
          logger,
        );
        providers.registerProvider({
          providerId: 'entra-app',
          factory: createProxyAuthProviderFactory({
            authenticator: createEntraAppAuthenticator({
              config: appConfig,
              logger,
            }),
            signInResolver: entraAppSignInResolver({
              config: appConfig,
              ownership,
              logger,
            }),
          }),
        });
        logger.info(
          `Entra app tokens (${CONFIG_KEY}): tenant ${
            appConfig.tenantId
          }, audiences ${appConfig.audiences.join(', ')}, ${
            Object.keys(appConfig.roleGroups).length
          } app role(s) mapped to groups`,
        );
      },
    });
  },
});
