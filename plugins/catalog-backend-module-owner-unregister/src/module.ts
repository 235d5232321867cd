import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { createLocationOwnersRouter } from './router';

/**
 * Locations belong to the owners of every entity they hold: those owners
 * (and admins) may unregister one (POST /api/catalog/owner-unregister) and
 * re-point one (PUT /api/catalog/locations/:id); everyone else is refused
 * with the reason.
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
        httpRouter.use(createLocationOwnersRouter(deps));
      },
    });
  },
});
