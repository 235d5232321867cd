import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { CatalogActorResolver } from './CatalogActorResolver';

const alice: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: {
    name: 'alice',
    annotations: {
      'graph.microsoft.com/user-id': 'oid-alice',
      'graph.microsoft.com/tenant-id': 'tid-contoso',
    },
  },
  spec: { memberOf: [] },
};

// as the entra-org provider writes a service principal member of a group
const pipeline: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: {
    name: 'app-release-pipeline',
    labels: { 'entra.microsoft.com/principal-type': 'service-principal' },
    annotations: {
      'graph.microsoft.com/service-principal-id': 'sp-object-id',
      'graph.microsoft.com/app-id': 'app-client-id',
      'graph.microsoft.com/tenant-id': 'tid-contoso',
      'graph.microsoft.com/account-enabled': 'true',
    },
  },
  spec: { memberOf: ['group:default/release'] },
};

// as org ingestion writes a person: no tenant annotation (only the root
// group and service principals carry one), managed by its provider
const bruno = (provider: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: {
    name: `bruno-${provider}`,
    annotations: {
      'graph.microsoft.com/user-id': `oid-bruno-${provider}`,
      'backstage.io/managed-by-location': `msgraph-org-provider:${provider}`,
    },
  },
  spec: { memberOf: [] },
});

function setup(config?: object) {
  const catalog = catalogServiceMock({
    entities: [
      alice,
      pipeline,
      bruno('default'),
      bruno('fabrikam'),
      bruno('gone'),
    ],
  });
  const getEntityByRef = jest.spyOn(catalog, 'getEntityByRef');
  const resolver = new CatalogActorResolver({
    catalog,
    auth: mockServices.auth({ pluginId: 'audit' }),
    logger: mockServices.logger.mock(),
    config: config && mockServices.rootConfig({ data: config }),
  });
  return { resolver, getEntityByRef, catalog };
}

describe('CatalogActorResolver', () => {
  it('fills the Entra object id and tenant of a person and of the person an agent acted for', async () => {
    const { resolver } = setup();
    await expect(
      resolver.complete({ kind: 'person', entityRef: 'user:default/alice' }),
    ).resolves.toEqual({
      kind: 'person',
      entityRef: 'user:default/alice',
      oid: 'oid-alice',
      tid: 'tid-contoso',
    });
    await expect(
      resolver.complete({
        kind: 'agent',
        entityRef: 'user:default/alice',
        clientId: 'mcp-client',
      }),
    ).resolves.toEqual({
      kind: 'agent',
      entityRef: 'user:default/alice',
      clientId: 'mcp-client',
      oid: 'oid-alice',
      tid: 'tid-contoso',
    });
  });

  it('takes a person’s tenant from the org ingestion provider that brought them in', async () => {
    const single = setup({
      catalog: {
        providers: {
          microsoftGraphOrg: { tenantId: 'tid-contoso', clientId: 'c' },
        },
      },
    });
    await expect(
      single.resolver.complete({
        kind: 'agent',
        entityRef: 'user:default/bruno-default',
        clientId: 'mcp-client',
      }),
    ).resolves.toMatchObject({ oid: 'oid-bruno-default', tid: 'tid-contoso' });

    const several = setup({
      catalog: {
        providers: {
          microsoftGraphOrg: {
            default: { tenantId: 'tid-contoso', clientId: 'c' },
            fabrikam: { tenantId: 'tid-fabrikam', clientId: 'c' },
          },
        },
      },
    });
    await expect(
      several.resolver.complete({
        kind: 'person',
        entityRef: 'user:default/bruno-fabrikam',
      }),
    ).resolves.toEqual({
      kind: 'person',
      entityRef: 'user:default/bruno-fabrikam',
      oid: 'oid-bruno-fabrikam',
      tid: 'tid-fabrikam',
    });
    // a provider no longer configured names no tenant rather than a wrong one
    await expect(
      several.resolver.complete({
        kind: 'person',
        entityRef: 'user:default/bruno-gone',
      }),
    ).resolves.toEqual({
      kind: 'person',
      entityRef: 'user:default/bruno-gone',
      oid: 'oid-bruno-gone',
    });
  });

  it('turns a service principal User entity into a pipeline with its app id', async () => {
    const { resolver } = setup();
    await expect(
      resolver.complete({
        kind: 'person',
        entityRef: 'user:default/app-release-pipeline',
      }),
    ).resolves.toEqual({
      kind: 'pipeline',
      entityRef: 'user:default/app-release-pipeline',
      oid: 'sp-object-id',
      tid: 'tid-contoso',
      appId: 'app-client-id',
    });
  });

  it('keeps an oid the event already has (a verified ID token)', async () => {
    const { resolver } = setup();
    await expect(
      resolver.complete({
        kind: 'person',
        entityRef: 'user:default/alice',
        oid: 'oid-from-token',
      }),
    ).resolves.toEqual({
      kind: 'person',
      entityRef: 'user:default/alice',
      oid: 'oid-from-token',
      tid: 'tid-contoso',
    });
  });

  it('reads the catalog with its own service credentials, once per ref, also for refs it does not know', async () => {
    const { resolver, getEntityByRef } = setup();
    const ghost = { kind: 'person' as const, entityRef: 'user:default/ghost' };
    await Promise.all([
      resolver.complete({ kind: 'person', entityRef: 'user:default/alice' }),
      resolver.complete({ kind: 'person', entityRef: 'User:default/Alice' }),
    ]);
    await resolver.complete({
      kind: 'person',
      entityRef: 'user:default/alice',
    });
    await expect(resolver.complete(ghost)).resolves.toEqual(ghost);
    await expect(resolver.complete(ghost)).resolves.toEqual(ghost);
    expect(getEntityByRef.mock.calls.map(c => c[0])).toEqual([
      'user:default/alice',
      'user:default/ghost',
    ]);
    expect(getEntityByRef.mock.calls[0][1]).toEqual({
      credentials: expect.objectContaining({
        principal: expect.objectContaining({ subject: 'plugin:audit' }),
      }),
    });
  });

  it('asks again once the cached answer is older than ttlMs', async () => {
    const catalog = catalogServiceMock({ entities: [alice] });
    const getEntityByRef = jest.spyOn(catalog, 'getEntityByRef');
    const resolver = new CatalogActorResolver({
      catalog,
      auth: mockServices.auth({ pluginId: 'audit' }),
      logger: mockServices.logger.mock(),
      ttlMs: 0,
    });
    const actor = { kind: 'person' as const, entityRef: 'user:default/alice' };
    await resolver.complete(actor);
    await resolver.complete(actor);
    expect(getEntityByRef).toHaveBeenCalledTimes(2);
  });

  it('asks again for a ref it did not know after missTtlMs, long before ttlMs', async () => {
    const catalog = catalogServiceMock({ entities: [] });
    const getEntityByRef = jest.spyOn(catalog, 'getEntityByRef');
    const resolver = new CatalogActorResolver({
      catalog,
      auth: mockServices.auth({ pluginId: 'audit' }),
      logger: mockServices.logger.mock(),
      missTtlMs: 0,
    });
    const actor = { kind: 'person' as const, entityRef: 'user:default/alice' };
    await expect(resolver.complete(actor)).resolves.toEqual(actor);
    // org ingestion has put the User in since
    getEntityByRef.mockResolvedValueOnce(alice);
    await expect(resolver.complete(actor)).resolves.toMatchObject({
      oid: 'oid-alice',
      tid: 'tid-contoso',
    });
  });

  it('leaves other actors alone and the actor as it is when the catalog fails', async () => {
    const { resolver, getEntityByRef } = setup();
    const plugin = { kind: 'plugin' as const, plugin: 'catalog' };
    const anonymous = { kind: 'anonymous' as const, oid: 'x' };
    await expect(resolver.complete(plugin)).resolves.toBe(plugin);
    await expect(resolver.complete(anonymous)).resolves.toBe(anonymous);
    expect(getEntityByRef).not.toHaveBeenCalled();

    getEntityByRef.mockRejectedValueOnce(new Error('catalog unavailable'));
    const person = { kind: 'person' as const, entityRef: 'user:default/alice' };
    await expect(resolver.complete(person)).resolves.toEqual(person);
    // a failure is not cached: the next flush asks again
    await expect(resolver.complete(person)).resolves.toMatchObject({
      oid: 'oid-alice',
    });
  });
});
