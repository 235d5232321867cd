import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { PgSearchEngine } from '@backstage/plugin-search-backend-module-pg';
import { searchEngineRegistryExtensionPoint } from '@backstage/plugin-search-backend-node/alpha';
import { TypedLunrSearchEngine } from './TypedLunrSearchEngine';

/**
 * The in-memory Lunr engine (development, SQLite) without the 500 for result
 * types that have no documents. On PostgreSQL it stands aside:
 * search-backend-module-pg registers its engine there.
 */
export const searchModuleTypedLunrEngine = createBackendModule({
  pluginId: 'search',
  moduleId: 'typed-lunr-engine',
  register(env) {
    env.registerInit({
      deps: {
        registry: searchEngineRegistryExtensionPoint,
        database: coreServices.database,
        logger: coreServices.logger,
      },
      async init({ registry, database, logger }) {
        if (await PgSearchEngine.supported(database)) {
          return;
        }
        registry.setSearchEngine(new TypedLunrSearchEngine({ logger }));
      },
    });
  },
});

/** The catalog collator's task, as search-backend-node's IndexBuilder names it. */
export const CATALOG_INDEX_TASK_ID = 'search_index_software_catalog';

/**
 * How often the catalog's size is compared with the size at the last index.
 * A count query is cheap; indexing is not, so it runs only on a change.
 */
const FOLLOW_FREQUENCY = { seconds: 10 };

/**
 * Indexes the catalog again whenever its number of entities changed since the
 * last index, instead of waiting for the collator's schedule (10 minutes by
 * default). Without it, the first index ran 3 seconds after startup, before
 * the catalog had processed its locations or ingested the Entra org, and
 * search found nothing for the next 10 minutes. Edits that keep the count
 * are picked up by the collator's own schedule.
 */
export const searchModuleCatalogFollower = createBackendModule({
  pluginId: 'search',
  moduleId: 'catalog-follower',
  register(env) {
    env.registerInit({
      deps: {
        auth: coreServices.auth,
        catalog: catalogServiceRef,
        scheduler: coreServices.scheduler,
        logger: coreServices.logger,
      },
      async init({ auth, catalog, scheduler, logger }) {
        let indexedCount: number | undefined;
        await scheduler.scheduleTask({
          id: 'search-catalog-follower',
          frequency: FOLLOW_FREQUENCY,
          timeout: { minutes: 1 },
          // Each replica holds its own Lunr index; on PostgreSQL the trigger
          // reaches the shared task whichever replica sends it.
          scope: 'local',
          fn: async () => {
            const { totalItems } = await catalog.queryEntities(
              { limit: 1, fields: ['kind'] },
              { credentials: await auth.getOwnServiceCredentials() },
            );
            if (totalItems === 0 || totalItems === indexedCount) {
              return;
            }
            try {
              await scheduler.triggerTask(CATALOG_INDEX_TASK_ID);
              logger.info(
                `Catalog has ${totalItems} entities (was ${
                  indexedCount ?? 'not indexed'
                }): indexing it for search now`,
              );
              indexedCount = totalItems;
            } catch (error) {
              // Already running (ConflictError): the next check tries again.
              logger.debug(
                `Could not start the catalog index yet: ${
                  (error as Error).message
                }`,
              );
            }
          },
        });
      },
    });
  },
});
