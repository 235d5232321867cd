import {
  AuditorService,
  AuthService,
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  ANNOTATION_LOCATION,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import { catalogEntityDeletePermission } from '@backstage/plugin-catalog-common/alpha';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import express from 'express';
import Router from 'express-promise-router';

/**
 * POST /api/catalog/owner-unregister { entityRef }: unregisters the location
 * an entity came from, if the caller may delete every entity of that
 * location.
 *
 * Why this exists: the catalog asks the permission policy about
 * `catalog.location.delete` without saying which location, so a policy can
 * only allow it to everyone or to admins. Deciding per location needs the
 * location's entities, and whether the caller may delete each of them is an
 * ordinary, ownership-based `catalog.entity.delete` decision. When every
 * answer is yes, the location is removed with the catalog module's own
 * service credentials.
 */
export function createOwnerUnregisterRouter(options: {
  catalog: CatalogService;
  auth: AuthService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
  logger: LoggerService;
}): express.Router {
  const { catalog, auth, httpAuth, permissions, auditor, logger } = options;
  const router = Router();

  // Body parsing on this route only: this router runs before the catalog's
  // own, and a router-wide parser would read (and size-limit) every catalog
  // request body.
  router.post('/owner-unregister', express.json(), async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const raw = req.body?.entityRef;
    if (typeof raw !== 'string') {
      throw new InputError(
        'Send { "entityRef": "<kind>:<namespace>/<name>" } as JSON',
      );
    }
    const entityRef = stringifyEntityRef(parseEntityRef(raw));
    const audit = await auditor.createEvent({
      eventId: 'owner-unregister',
      severityLevel: 'medium',
      request: req,
      meta: { entityRef },
    });
    try {
      // Read with the caller's credentials: what they may not see does not
      // exist for them.
      const entity = await catalog.getEntityByRef(entityRef, { credentials });
      if (!entity) throw new NotFoundError(`No entity ${entityRef}`);
      const service = await auth.getOwnServiceCredentials();
      const location = await catalog.getLocationByEntity(entityRef, {
        credentials: service,
      });
      if (!location) {
        const managedBy =
          entity.metadata.annotations?.[ANNOTATION_LOCATION] ?? 'unknown';
        throw new InputError(
          `${entityRef} is not from a registered location (it is managed by ${managedBy}); ` +
            'remove it where it is defined, e.g. app-config catalog.locations or its entity provider',
        );
      }
      const locationRef = `${location.type}:${location.target}`;
      const { items } = await catalog.getEntities(
        {
          filter: {
            [`metadata.annotations.${ANNOTATION_LOCATION}`]: locationRef,
          },
          fields: ['kind', 'metadata.namespace', 'metadata.name'],
        },
        { credentials: service },
      );
      const refs = items.map(e => stringifyEntityRef(e));
      // The Location entity the catalog generated for the registration has
      // no owner; it goes with the registration. Everything else it holds
      // must be the caller's to delete. One authorize call for all of them.
      const held = items
        .filter(e => e.kind.toLocaleLowerCase('en-US') !== 'location')
        .map(e => stringifyEntityRef(e));
      const decisions = await permissions.authorize(
        held.map(resourceRef => ({
          permission: catalogEntityDeletePermission,
          resourceRef,
        })),
        { credentials },
      );
      const notAllowed = held.filter(
        (_, i) => decisions[i].result !== AuthorizeResult.ALLOW,
      );
      if (notAllowed.length > 0) {
        throw new NotAllowedError(
          `Only owners of every entity of ${locationRef} (and portal admins) can unregister it; ` +
            `you may not delete ${notAllowed.join(', ')}`,
        );
      }
      await catalog.removeLocationById(location.id, { credentials: service });
      logger.info(
        `${credentials.principal.userEntityRef} unregistered ${locationRef} (${refs.join(', ')})`,
      );
      await audit.success({ meta: { locationRef, entityRefs: refs } });
      res.json({ location: locationRef, entityRefs: held });
    } catch (error) {
      await audit.fail({ error: error as Error });
      throw error;
    }
  });
  return router;
}
