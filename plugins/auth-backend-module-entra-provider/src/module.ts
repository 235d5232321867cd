import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  authOwnershipResolutionExtensionPoint,
  authProvidersExtensionPoint,
  createOAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { entraAuthenticator } from './authenticator';
import { NestedGroupOwnershipResolver } from './ownership';
import { clearSessionOnRefusedRefresh } from './refusedRefresh';
import { entraSignInResolvers } from './resolvers';

/**
 * Microsoft Entra ID sign-in under the provider id `microsoft`, so the
 * frontend's `microsoftAuthApiRef` and `auth.providers.microsoft` config work
 * as with the upstream module (which must not be installed beside this one).
 *
 * @public
 */
export const authModuleEntraProvider = createBackendModule({
  pluginId: 'auth',
  moduleId: 'entra-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        ownership: authOwnershipResolutionExtensionPoint,
        catalog: catalogServiceRef,
        auth: coreServices.auth,
        logger: coreServices.logger,
      },
      async init({ providers, ownership, catalog, auth, logger }) {
        providers.registerProvider({
          providerId: 'microsoft',
          factory: clearSessionOnRefusedRefresh(
            createOAuthProviderFactory({
              authenticator: entraAuthenticator,
              signInResolver:
                entraSignInResolvers.userIdMatchingUserEntityAnnotation(),
              signInResolverFactories: entraSignInResolvers,
            }),
          ),
        });
        ownership.setAuthOwnershipResolver(
          new NestedGroupOwnershipResolver(catalog, auth, logger),
        );
      },
    });
  },
});
