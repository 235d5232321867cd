/**
 * The Entra organisation in the catalog, read from Microsoft Graph.
 *
 * @packageDocumentation
 */
export { catalogModuleEntraOrg as default } from './module';
export {
  EntraOrgEntityProvider,
  DEFAULT_MAX_DELETION_SHARE,
} from './entraOrgProvider';
export { createGraphClient, ResilientGraphClient } from './graphClient';
export { normalizeGroupName, normalizeName } from './entityNames';
export type { RetryPolicy, GraphRunStats } from './graphClient';
export type { IngestionRunStatus } from './ingestionState';
export {
  entraOrgStatusReadPermission,
  entraOrgRemovalAllowPermission,
  entraOrgRunPermission,
  entraOrgPermissions,
} from './permissions';
