import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import Router from 'express-promise-router';

/**
 * The `res.locals` key the portal's auditor reads for the entity refs of a
 * request's audit event (plugins/audit-backend), for plugins whose own event
 * cannot name them.
 *
 * @public
 */
export const AUDIT_ENTITY_REFS_LOCAL = 'auditEntityRefs';

/**
 * The catalog audits `DELETE /entities/by-uid/:uid` with the uid only; once
 * the entity is gone, nobody reading the trail can tell what was deleted.
 * This module runs before the catalog's own route (a module's router is
 * mounted before its plugin's) and looks the uid up first, with the
 * module's own credentials so a delete the caller may not even see is named
 * too (the trail is for admins). It never answers the request itself: the
 * catalog still decides, and answers, as it would without it.
 *
 * @public
 */
export const catalogModuleAuditEntityRefs = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'audit-entity-refs',
  register(reg) {
    reg.registerInit({
      deps: {
        catalog: catalogServiceRef,
        auth: coreServices.auth,
        httpRouter: coreServices.httpRouter,
        logger: coreServices.logger,
      },
      async init({ catalog, auth, httpRouter, logger }) {
        const router = Router();
        router.delete('/entities/by-uid/:uid', async (req, res) => {
          try {
            const { items } = await catalog.queryEntities(
              {
                filter: { 'metadata.uid': req.params.uid },
                fields: ['kind', 'metadata.namespace', 'metadata.name'],
                limit: 1,
              },
              { credentials: await auth.getOwnServiceCredentials() },
            );
            if (items[0]) {
              res.locals[AUDIT_ENTITY_REFS_LOCAL] = [
                stringifyEntityRef(items[0]),
              ];
            }
          } catch (error) {
            // The delete goes on unnamed rather than failing over its audit.
            logger.warn(
              `Could not name the entity of a delete for the audit trail: ${error}`,
            );
          }
          return 'next';
        });
        httpRouter.use(router);
      },
    });
  },
});
