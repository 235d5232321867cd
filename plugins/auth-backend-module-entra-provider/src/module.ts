import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  authOwnershipResolutionExtensionPoint,
  authProvidersExtensionPoint,
} from '@backstage/plugin-auth-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { createEntraAuthenticator } from './authenticator';
import { NestedGroupOwnershipResolver } from './ownership';
import { clearSessionOnRefusedRefresh } from './refusedRefresh';
import { entraSignInResolvers } from './resolvers';
import {
  auditSignIns,
  createObservedOAuthProviderFactory,
} from './signInAudit';
import { SignInFlowStore } from './signInFlows';

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
        database: coreServices.database,
        auditor: coreServices.auditor,
      },
      async init({
        providers,
        ownership,
        catalog,
        auth,
        logger,
        database,
        auditor,
      }) {
        // Sign-in flows live in the auth plugin's database so any replica
        // can finish a flow another started (see SignInFlowStore).
        const flows = await SignInFlowStore.create(await database.getClient());
        providers.registerProvider({
          providerId: 'microsoft',
          // Audited outermost: it sees the refresh's error after the
          // session cookie is cleared, and each callback's outcome.
          factory: auditSignIns(
            clearSessionOnRefusedRefresh(
              createObservedOAuthProviderFactory({
                authenticator: createEntraAuthenticator({ flows, logger }),
                signInResolver:
                  entraSignInResolvers.userIdMatchingUserEntityAnnotation(),
                signInResolverFactories: entraSignInResolvers,
              }),
            ),
            { auditor, logger },
          ),
        });
        ownership.setAuthOwnershipResolver(
          new NestedGroupOwnershipResolver(catalog, auth, logger),
        );
      },
    });
  },
});
