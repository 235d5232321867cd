import { AuthService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { OwnedEntityLookup } from './policy';

/** Refs per catalog query: keeps the query string well under header limits. */
const BATCH = 50;

/**
 * Owned entities read from the catalog with the permission plugin's own
 * service credentials, by the `ownedBy` relation (which the catalog keeps as
 * full lowercase refs, like ownership refs).
 */
export class CatalogOwnedEntities implements OwnedEntityLookup {
  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
  ) {}

  async ownedEntityRefs(ownershipEntityRefs: string[]): Promise<string[]> {
    const credentials = await this.auth.getOwnServiceCredentials();
    const refs = new Set<string>();
    for (let i = 0; i < ownershipEntityRefs.length; i += BATCH) {
      const { items } = await this.catalog.getEntities(
        {
          filter: {
            'relations.ownedBy': ownershipEntityRefs.slice(i, i + BATCH),
          },
          fields: ['kind', 'metadata.namespace', 'metadata.name'],
        },
        { credentials },
      );
      items.forEach(e => refs.add(stringifyEntityRef(e)));
    }
    return [...refs];
  }
}
