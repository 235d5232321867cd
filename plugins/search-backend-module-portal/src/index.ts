/**
 * Search modules of the portal: the catalog indexed as soon as it fills, and
 * no 500 for result types without documents.
 *
 * @packageDocumentation
 */
export {
  searchModuleTypedLunrEngine,
  searchModuleCatalogFollower,
  CATALOG_INDEX_TASK_ID,
} from './module';
export { TypedLunrSearchEngine } from './TypedLunrSearchEngine';
