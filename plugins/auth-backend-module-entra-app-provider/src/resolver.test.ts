import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
import { AuthResolverContext } from '@backstage/plugin-auth-node';
import {
  APP_ID_ANNOTATION,
  entraAppSignInResolver,
  SERVICE_PRINCIPAL_ID_ANNOTATION,
} from './resolver';

const TENANT = '11111111-2222-4333-8444-555555555555';
const app = {
  appId: 'app-id',
  objectId: 'sp-oid',
  tenantId: TENANT,
  roles: ['Catalog.Registrar', 'Unmapped.Role'],
  expiresAt: 0,
};

const sp = (annotations: Record<string, string> = {}): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: {
    name: 'app-payments-pipeline',
    annotations: {
      [SERVICE_PRINCIPAL_ID_ANNOTATION]: app.objectId,
      [APP_ID_ANNOTATION]: app.appId,
      ...annotations,
    },
  },
  spec: {},
});

function setup(found: Entity | Error) {
  const logger = mockServices.logger.mock();
  const ctx = {
    findCatalogUser: jest.fn(async () => {
      if (found instanceof Error) throw found;
      return { entity: found };
    }),
    issueToken: jest.fn(async () => ({ token: 'issued' })),
  } as unknown as jest.Mocked<AuthResolverContext>;
  const resolve = entraAppSignInResolver({
    config: {
      tenantId: TENANT,
      jwksUrl: '',
      issuers: [],
      audiences: [],
      requireIdtyp: true,
      roleGroups: { 'Catalog.Registrar': 'group:default/catalog-registrars' },
    },
    ownership: {
      resolveOwnershipEntityRefs: async () => ({
        ownershipEntityRefs: [
          'user:default/app-payments-pipeline',
          'group:default/payments',
        ],
      }),
    },
    logger,
  });
  return {
    ctx,
    logger,
    run: () => resolve({ profile: {}, result: app }, ctx),
  };
}

describe('entraAppSignInResolver', () => {
  it('finds the entity by both service principal annotations and adds mapped role groups', async () => {
    const { ctx, run } = setup(sp());
    await expect(run()).resolves.toEqual({ token: 'issued' });
    expect(ctx.findCatalogUser).toHaveBeenCalledWith({
      annotations: {
        [SERVICE_PRINCIPAL_ID_ANNOTATION]: 'sp-oid',
        [APP_ID_ANNOTATION]: 'app-id',
      },
    });
    expect(ctx.issueToken).toHaveBeenCalledWith({
      claims: {
        sub: 'user:default/app-payments-pipeline',
        ent: [
          'user:default/app-payments-pipeline',
          'group:default/payments',
          'group:default/catalog-registrars',
        ],
        ent_src: 'entra-app',
        entra: { appid: 'app-id', oid: 'sp-oid', tid: TENANT },
      },
    });
  });

  it.each([
    [
      'an unknown app',
      new NotFoundError('User not found'),
      /not known to the portal/,
    ],
    [
      'a disabled service principal',
      sp({ 'graph.microsoft.com/account-enabled': 'false' }),
      /marked disabled/,
    ],
    [
      "an entity of another tenant's",
      sp({
        'graph.microsoft.com/tenant-id': '99999999-2222-4333-8444-555555555555',
      }),
      /belongs to tenant 99999999/,
    ],
  ])(
    'refuses %s with a 401 and a logged reason',
    async (_name, found, reason) => {
      const { ctx, run, logger } = setup(found);
      await expect(run()).rejects.toMatchObject({
        name: 'AuthenticationError',
        message: expect.stringMatching(reason),
      });
      expect(ctx.issueToken).not.toHaveBeenCalled();
      expect(logger.warn).toHaveBeenCalledWith(
        expect.stringMatching(reason),
        expect.objectContaining({
          type: 'entra-app-refused',
          appid: 'app-id',
          oid: 'sp-oid',
        }),
      );
    },
  );
});
