import { createFrontendModule } from '@backstage/frontend-plugin-api';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';

/** The Entra org ingestion status, on the tenant's root group page. */
const entraOrgStatusCard = EntityCardBlueprint.make({
  name: 'entra-org-status',
  params: {
    // The root group is the one that carries the tenant id.
    filter: entity =>
      entity.kind === 'Group' &&
      !!entity.metadata.annotations?.['graph.microsoft.com/tenant-id'],
    loader: async () =>
      import('./EntraOrgStatusCard').then(m => <m.EntraOrgStatusCard />),
  },
});

export const entraOrgStatusModule = createFrontendModule({
  pluginId: 'catalog',
  extensions: [entraOrgStatusCard],
});
