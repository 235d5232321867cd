import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { Config } from '@backstage/config';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { NestedGroupOwnershipResolver } from '@internal/plugin-auth-backend-module-entra-provider';
import { CONFIG_KEY, readOwnershipPolicyConfig } from './config';
import { CatalogCurrentIdentities } from './currentIdentity';
import {
  createDenialAuditMiddleware,
  DecisionRecorder,
  policyConfigHash,
} from './decisionAudit';
import { CatalogOwnedEntities } from './ownedEntities';
import { OwnershipPolicy } from './policy';

/**
 * The groups `auth.providers.entra-app.roleGroups` maps app roles to, as
 * full refs. That key is validated (and startup refused) by the entra-app
 * auth module, which owns it; anything unreadable is left out here.
 */
function readTokenRoleGroups(config: Config): string[] {
  const roleGroups = config.getOptional('auth.providers.entra-app.roleGroups');
  if (typeof roleGroups !== 'object' || roleGroups === null) return [];
  return Object.values(roleGroups).flatMap(group => {
    try {
      return [
        stringifyEntityRef(
          parseEntityRef(String(group), {
            defaultKind: 'group',
            defaultNamespace: 'default',
          }),
        ),
      ];
    } catch {
      return [];
    }
  });
}

/**
 * The portal's permission policy, configured under
 * `permission.ownershipPolicy` (docs/permissions.md). A wrong value stops
 * the backend at startup with the key named.
 *
 * @public
 */
export const permissionModuleOwnershipPolicy = createBackendModule({
  pluginId: 'permission',
  moduleId: 'ownership-policy',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        auth: coreServices.auth,
        catalog: catalogServiceRef,
        auditor: coreServices.auditor,
        httpRouter: coreServices.httpRouter,
      },
      async init({
        policy,
        config,
        logger,
        auth,
        catalog,
        auditor,
        httpRouter,
      }) {
        const policyConfig = readOwnershipPolicyConfig(config);
        // Which policy was in force when: the trail's events are read
        // against it, and a changed admin list shows here.
        const configEvent = await auditor.createEvent({
          eventId: 'policy-config',
          severityLevel: 'medium',
          meta: {
            hash: policyConfigHash(policyConfig),
            admins: policyConfig.admins,
          },
        });
        await configEvent.success();
        const recorder = new DecisionRecorder();
        // Modules start before their plugin, so this runs before the
        // permission backend's own router answers /authorize.
        httpRouter.use(
          createDenialAuditMiddleware({ recorder, auditor, logger }),
        );
        const identities = new CatalogCurrentIdentities({
          catalog,
          auth,
          ownership: new NestedGroupOwnershipResolver(catalog, auth, logger),
          logger,
          ttlMs: policyConfig.identityCacheTtlMs,
        });
        policy.setPolicy(
          new OwnershipPolicy({
            config: policyConfig,
            identities,
            ownedEntities: new CatalogOwnedEntities(catalog, auth),
            logger,
            // Validated by the entra-app auth module, which owns the key.
            tokenRoleGroups: readTokenRoleGroups(config),
            recorder,
          }),
        );
        const { catalog: c, scaffolder: s } = policyConfig;
        logger.info(
          `Ownership policy (${CONFIG_KEY}): admins ${policyConfig.admins.join(
            ', ',
          )}; people's User and groups re-read from the catalog every ${
            policyConfig.identityCacheTtlMs / 1000
          } s; read restricted to owners for ${
            c.restrictReadToOwners.join(', ') || 'no kind'
          }; registration by ${c.registerGroups.join(', ') || 'admins only'}; ${
            s.tags.length
          } tag(s), ${s.templates.length} restricted template(s), ${
            s.deploy?.environments.length ?? 0
          } deploy environment(s)`,
        );
      },
    });
  },
});
