import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { createReadGuardRouter } from './router';

/**
 * Entities a person may not read stay out of every catalog answer: dry-run
 * registrations, other entities' relations, relation filters and facets,
 * and locations by entity.
 *
 * @public
 */
export const catalogModuleReadGuard = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'read-guard',
  register(reg) {
    reg.registerInit({
      deps: {
        catalog: catalogServiceRef,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        permissions: coreServices.permissions,
        logger: coreServices.logger,
      },
      async init({ httpRouter, ...deps }) {
        httpRouter.use(createReadGuardRouter(deps));
      },
    });
  },
});
