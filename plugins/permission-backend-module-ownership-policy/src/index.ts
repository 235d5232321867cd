/**
 * The portal's permission policy: ownership-based, with nested Entra groups.
 *
 * @packageDocumentation
 */
export { permissionModuleOwnershipPolicy as default } from './module';
export { OwnershipPolicy } from './policy';
export type { OwnedEntityLookup } from './policy';
export { CatalogCurrentIdentities } from './currentIdentity';
export type {
  CurrentIdentityLookup,
  OwnershipResolution,
} from './currentIdentity';
export { readOwnershipPolicyConfig, CONFIG_KEY } from './config';
export type { OwnershipPolicyConfig, DeployEnvironment } from './config';
