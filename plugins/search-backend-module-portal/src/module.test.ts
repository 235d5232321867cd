import { Readable } from 'node:stream';
import request from 'supertest';
import {
  createBackendModule,
  createServiceFactory,
  SchedulerService,
  ServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { InMemoryCatalogClient } from '@backstage/catalog-client/testUtils';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import searchPlugin from '@backstage/plugin-search-backend';
import searchModuleCatalogCollator from '@backstage/plugin-search-backend-module-catalog';
import { searchIndexRegistryExtensionPoint } from '@backstage/plugin-search-backend-node/alpha';
import {
  CATALOG_INDEX_TASK_ID,
  searchModuleCatalogFollower,
  searchModuleTypedLunrEngine,
} from './module';

/** TechDocs' result type, registered as in the portal, with no pages yet. */
const emptyTechDocs = createBackendModule({
  pluginId: 'search',
  moduleId: 'empty-techdocs',
  register(env) {
    env.registerInit({
      deps: { registry: searchIndexRegistryExtensionPoint },
      async init({ registry }) {
        registry.addCollator({
          schedule: {
            run: async () => {},
          },
          factory: {
            type: 'techdocs',
            getCollator: async () => Readable.from([]),
          },
        });
      },
    });
  },
});

const component = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'payments',
    namespace: 'default',
    uid: 'payments-uid',
    description: 'Takes the money',
  },
  spec: { type: 'service', lifecycle: 'production', owner: 'group:payments' },
};

/** A catalog that starts empty and fills later, as one does at startup. */
function fillingCatalog() {
  let current = new InMemoryCatalogClient({ entities: [] });
  const catalog = new Proxy({} as InMemoryCatalogClient, {
    get: (_target, key) => {
      const value = (current as any)[key];
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
  return {
    factory: createServiceFactory({
      service: catalogServiceRef,
      deps: {},
      factory: () => catalog,
    }),
    fill(entities: object[]) {
      current = new InMemoryCatalogClient({ entities: entities as any });
    },
  };
}

type TestScheduler = SchedulerService & { factory(): ServiceFactory };

async function startSearch(options: {
  follower: boolean;
  catalog: ReturnType<typeof fillingCatalog>;
  scheduler?: TestScheduler;
}) {
  const { server } = await startTestBackend({
    features: [
      searchPlugin,
      searchModuleCatalogCollator,
      emptyTechDocs,
      searchModuleTypedLunrEngine,
      ...(options.follower ? [searchModuleCatalogFollower] : []),
      options.catalog.factory,
      ...(options.scheduler ? [options.scheduler.factory()] : []),
      mockServices.rootConfig.factory({
        data: {
          search: {
            collators: {
              catalog: {
                // The collator's own schedule: the test scheduler runs it once,
                // at startup, on the empty catalog.
                schedule: {
                  frequency: { hours: 1 },
                  timeout: { minutes: 5 },
                },
              },
            },
          },
        },
      }),
    ],
  });
  return server;
}

async function searchFor(server: any, term: string) {
  const res = await request(server)
    .get('/api/search/query')
    .query({ term, types: ['software-catalog'] });
  return res;
}

describe('search modules of the portal', () => {
  it('answers an empty page, not a 500, for a result type with no documents', async () => {
    const server = await startSearch({
      follower: false,
      catalog: fillingCatalog(),
    });
    const res = await request(server)
      .get('/api/search/query')
      .query({ term: '', types: ['techdocs'] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(
      expect.objectContaining({ results: [], numberOfResults: 0 }),
    );
  });

  it('still answers a query over every type, and a 400 for a bad query', async () => {
    const server = await startSearch({
      follower: false,
      catalog: fillingCatalog(),
    });
    const all = await request(server).get('/api/search/query').query({ term: 'x' });
    expect(all.status).toBe(200);
    expect(all.body.results).toEqual([]);
    const bad = await request(server)
      .get('/api/search/query')
      .query({ term: 'x', pageLimit: 1000 });
    expect(bad.status).toBe(400);
  });

  it('indexes the catalog as soon as it has entities, not on its next schedule', async () => {
    const catalog = fillingCatalog();
    // Tasks run at startup and when triggered; time does not pass.
    const scheduler = mockServices.scheduler() as TestScheduler;
    const server = await startSearch({ follower: true, catalog, scheduler });
    expect((await searchFor(server, 'payments')).body.results).toEqual([]);

    catalog.fill([component]);
    // The follower's next check (every 10 s in a running backend).
    await scheduler.triggerTask('search-catalog-follower');

    const res = await searchFor(server, 'payments');
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => r.document)).toEqual([
      expect.objectContaining({
        title: 'payments',
        location: '/catalog/default/component/payments',
      }),
    ]);
  });

  it('leaves the index alone while the catalog keeps its size', async () => {
    const catalog = fillingCatalog();
    catalog.fill([component]);
    const scheduler = mockServices.scheduler() as TestScheduler;
    await startSearch({ follower: true, catalog, scheduler });
    // Indexed once this size is seen (at startup or on this check)...
    await scheduler.triggerTask('search-catalog-follower');
    // ...and not again until it changes.
    const trigger = jest.spyOn(scheduler, 'triggerTask');
    await scheduler.triggerTask('search-catalog-follower');
    expect(trigger).not.toHaveBeenCalledWith(CATALOG_INDEX_TASK_ID);
  });
});
