import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { createOwnerUnregisterRouter } from './router';

/**
 * Owners may unregister the locations whose entities they own
 * (POST /api/catalog/owner-unregister).
 *
 * @public
 */
export const catalogModuleOwnerUnregister = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'owner-unregister',
  register(reg) {
    reg.registerInit({
      deps: {
        catalog: catalogServiceRef,
        auth: coreServices.auth,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        permissions: coreServices.permissions,
        auditor: coreServices.auditor,
        logger: coreServices.logger,
      },
      async init({ httpRouter, ...deps }) {
        httpRouter.use(createOwnerUnregisterRouter(deps));
      },
    });
  },
});
