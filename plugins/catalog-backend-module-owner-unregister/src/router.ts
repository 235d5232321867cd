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
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import express from 'express';
import Router from 'express-promise-router';
import { LocationOwnershipChecker } from './locationOwnership';

/**
 * Routes that decide per location who may unregister or re-point it: the
 * owners of every entity it holds, and admins. Mounted on the catalog's
 * router ahead of the catalog's own routes.
 *
 * Why this exists: the catalog asks the permission policy about
 * `catalog.location.delete` and `catalog.location.create` (for
 * `PUT /locations/:id`) without saying which location, so a policy can only
 * allow them to everyone or to a fixed set of people. Deciding per location
 * needs the location's entities, and whether the caller may delete each of
 * them is an ordinary, ownership-based `catalog.entity.delete` decision.
 *
 * - `POST /owner-unregister { entityRef }` unregisters the location an
 *   entity came from when every answer is yes, with the catalog module's
 *   own service credentials.
 * - `PUT /locations/:id` (re-pointing a location at another target, which
 *   re-owns and re-describes whatever it held) is handed on to the catalog
 *   only when the caller may delete any location (admins) or every entity
 *   the location holds, and may register locations: the new target brings
 *   in entities as a registration does (the catalog asks the same
 *   `catalog.location.create` again, with no reason in its 403).
 */
export function createLocationOwnersRouter(options: {
  catalog: CatalogService;
  auth: AuthService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
  logger: LoggerService;
}): express.Router {
  const { catalog, auth, httpAuth, permissions, auditor, logger } = options;
  const ownership = new LocationOwnershipChecker({
    catalog,
    auth,
    permissions,
  });
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
      const { locationRef, held, anyLocation, notAllowed } =
        await ownership.check(location, credentials);
      // Owning every entity of a location that holds none would be owning
      // nothing: such a location is for admins, as PUT /locations/:id.
      if (!anyLocation && held.length === 0) {
        throw new NotAllowedError(
          `Only portal admins can unregister ${locationRef}: it holds no entities whose owners could`,
        );
      }
      if (notAllowed.length > 0) {
        throw new NotAllowedError(
          `Only owners of every entity of ${locationRef} (and portal admins) can unregister it; ` +
            `you may not delete ${await ownership.describe(
              notAllowed,
              credentials,
            )}`,
        );
      }
      await catalog.removeLocationById(location.id, { credentials: service });
      logger.info(
        `${
          credentials.principal.userEntityRef
        } unregistered ${locationRef} (${held.join(', ')})`,
      );
      await audit.success({ meta: { locationRef, entityRefs: held } });
      res.json({ location: locationRef, entityRefs: held });
    } catch (error) {
      await audit.fail({ error: error as Error });
      throw error;
    }
  });
  // No body parsing: only the id decides, and the catalog parses and
  // validates the new target itself.
  router.put('/locations/:id', async (req, _res, next) => {
    const credentials = await httpAuth.credentials(req);
    const { id } = req.params;
    // The catalog's own wording for an id it does not know. A location the
    // caller can see nothing of answers the same, so a refusal never hints
    // at what it holds.
    const missing = () => new NotFoundError(`Found no location with ID ${id}`);
    const location = await catalog.getLocationById(id, {
      credentials: await auth.getOwnServiceCredentials(),
    });
    if (!location) throw missing();
    const { locationRef, held, anyLocation, mayRegister, notAllowed } =
      await ownership.check(location, credentials);
    const owns = anyLocation || (held.length > 0 && notAllowed.length === 0);
    if (owns && mayRegister) {
      next();
      return;
    }
    const audit = await auditor.createEvent({
      eventId: 'location-owners',
      severityLevel: 'medium',
      request: req,
      meta: { actionType: 'update', id },
    });
    let error: Error;
    if (owns) {
      error = new NotAllowedError(
        `Re-pointing ${locationRef} registers its new target, and you may not register locations; ask a portal admin`,
      );
    } else if (held.length === 0) {
      error = new NotAllowedError(
        `Only portal admins can change ${locationRef}: it holds no entities whose owners could`,
      );
    } else if ((await ownership.readable(held, credentials)).length === 0) {
      error = missing();
    } else {
      error = new NotAllowedError(
        `Only owners of every entity of ${locationRef} (and portal admins) can change it; ` +
          `you may not change ${await ownership.describe(
            notAllowed,
            credentials,
          )}`,
      );
    }
    await audit.fail({ error });
    throw error;
  });

  return router;
}
