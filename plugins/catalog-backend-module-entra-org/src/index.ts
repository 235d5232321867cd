/**
 * The Entra organisation in the catalog, read from Microsoft Graph.
 *
 * @packageDocumentation
 */
export { catalogModuleEntraOrg as default } from './module';
export {
  EntraOrgEntityProvider,
  createGraphClient,
  DEFAULT_MAX_DELETION_SHARE,
} from './entraOrgProvider';
