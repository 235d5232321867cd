import { LoggerService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  AuthOwnershipResolver,
  SignInResolver,
} from '@backstage/plugin-auth-node';
import {
  ENTRA_TENANT_ID_ANNOTATION,
  isDisabledUser,
} from '@internal/plugin-auth-backend-module-entra-provider';
import { EntraAppConfig } from './config';
import { refuseToken } from './refusals';
import { VerifiedApp } from './verifyAppToken';

/** On a service principal's catalog User: its object id in the tenant (= the token's `oid`). */
export const SERVICE_PRINCIPAL_ID_ANNOTATION =
  'graph.microsoft.com/service-principal-id';
/** On a service principal's catalog User: its app (client) id (= the token's `azp`/`appid`). */
export const APP_ID_ANNOTATION = 'graph.microsoft.com/app-id';

/**
 * Signs a verified app in as its catalog entity: the User org ingestion made
 * from the service principal, found by both its object id and app id (never
 * by name, and never by `graph.microsoft.com/user-id`, so no person's
 * sign-in can land here and no app can become a person). Its ownership refs
 * are itself and its groups, nested groups included, as for a person, plus
 * the groups its app roles map to (`roleGroups`).
 */
export function entraAppSignInResolver(options: {
  config: EntraAppConfig;
  ownership: AuthOwnershipResolver;
  logger: LoggerService;
}): SignInResolver<VerifiedApp> {
  const { config, ownership, logger } = options;
  return async ({ result: app }, ctx) => {
    const ids = {
      appId: app.appId,
      objectId: app.objectId,
      tenantId: app.tenantId,
    };
    let entity;
    try {
      ({ entity } = await ctx.findCatalogUser({
        annotations: {
          [SERVICE_PRINCIPAL_ID_ANNOTATION]: app.objectId,
          [APP_ID_ANNOTATION]: app.appId,
        },
      }));
    } catch (error) {
      const name = (error as Error).name;
      if (name !== 'NotFoundError' && name !== 'ConflictError') throw error;
      return refuseToken(logger, {
        check: 'claims',
        reason:
          name === 'NotFoundError'
            ? 'the app is not known to the portal: its service principal is not in an ingested group (docs/automation-identity.md)'
            : 'more than one catalog entity claims this service principal',
        ...ids,
      });
    }
    const ref = stringifyEntityRef(entity);
    const entityTenant =
      entity.metadata.annotations?.[ENTRA_TENANT_ID_ANNOTATION];
    if (entityTenant && entityTenant.toLowerCase() !== app.tenantId) {
      return refuseToken(logger, {
        check: 'tid',
        reason: `${ref} belongs to tenant ${entityTenant}`,
        ...ids,
      });
    }
    if (isDisabledUser(entity)) {
      return refuseToken(logger, {
        check: 'claims',
        reason: `${ref} is marked disabled in the catalog (the service principal is disabled in Entra)`,
        ...ids,
      });
    }
    const { ownershipEntityRefs } = await ownership.resolveOwnershipEntityRefs(
      entity,
    );
    const roleGroups = app.roles
      .map(role => config.roleGroups[role])
      .filter((group): group is string => !!group);
    const ent = [...new Set([...ownershipEntityRefs, ...roleGroups])];
    logger.info(
      `Issued a Backstage token to ${ref} for Entra app ${app.appId} (oid ${
        app.objectId
      }, tid ${app.tenantId})${
        roleGroups.length ? `; app roles grant ${roleGroups.join(', ')}` : ''
      }`,
      {
        type: 'entra-app-sign-in',
        entityRef: ref,
        appid: app.appId,
        oid: app.objectId,
        tid: app.tenantId,
      },
    );
    return ctx.issueToken({
      claims: {
        sub: ref,
        ent,
        ent_src: 'entra-app',
        entra: { appid: app.appId, oid: app.objectId, tid: app.tenantId },
      },
    });
  };
}
