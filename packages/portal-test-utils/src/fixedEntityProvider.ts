import { createBackendModule } from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';

/** Replaces the catalog's entities from the provider, as an ingestion run would. */
export type ApplyEntities = (entities: Entity[]) => Promise<void>;

/** Options of {@link fixedEntityProvider}. */
export interface FixedEntityProviderOptions {
  /** The module id and provider name. */
  name: string;
  /** The location key; entities are managed by `url:<locationKey>`. */
  locationKey: string;
  /** The entities put in the catalog when the provider connects. */
  entities: Entity[];
  /** Gets a function that replaces the entities later (a full mutation). */
  connected?: (apply: ApplyEntities) => void;
}

/**
 * A catalog module that puts a fixed set of entities in the catalog, as org
 * ingestion would. An entity's own annotations win over the managed-by ones.
 */
export function fixedEntityProvider(options: FixedEntityProviderOptions) {
  const { name, locationKey, entities, connected } = options;
  return createBackendModule({
    pluginId: 'catalog',
    moduleId: name,
    register(reg) {
      reg.registerInit({
        deps: { processing: catalogProcessingExtensionPoint },
        async init({ processing }) {
          processing.addEntityProvider({
            getProviderName: () => name,
            async connect(connection) {
              const apply: ApplyEntities = current =>
                connection.applyMutation({
                  type: 'full',
                  entities: current.map(entity => ({
                    locationKey,
                    entity: {
                      ...entity,
                      metadata: {
                        ...entity.metadata,
                        annotations: {
                          'backstage.io/managed-by-location': `url:${locationKey}`,
                          'backstage.io/managed-by-origin-location': `url:${locationKey}`,
                          ...entity.metadata.annotations,
                        },
                      },
                    },
                  })),
                });
              connected?.(apply);
              await apply(entities);
            },
          });
        },
      });
    },
  });
}
