import { mockServices } from '@backstage/backend-test-utils';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  ENTRA_ACCOUNT_ENABLED_ANNOTATION,
  NestedGroupOwnershipResolver,
} from '@internal/plugin-auth-backend-module-entra-provider';
import { withRelations } from '../dev/policyTest/catalogFixture';
import { CatalogCurrentIdentities } from './currentIdentity';

const user = (name: string, memberOf: string[], disabled = false): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: {
    name,
    ...(disabled && {
      annotations: { [ENTRA_ACCOUNT_ENABLED_ANNOTATION]: 'false' },
    }),
  },
  spec: { memberOf },
});
const group = (name: string, children: string[] = []): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name },
  spec: { type: 'team', children },
});

/**
 * The catalog as ingestion leaves it, changeable between reads, answering
 * getEntitiesByRefs the way the catalog does (null for a missing ref, in
 * order) and recording each query.
 */
class ChangingCatalog {
  entities: Entity[] = [];
  queries: string[][] = [];
  failNext = false;

  set(entities: Entity[]) {
    this.entities = withRelations(entities);
  }

  readonly service = {
    getEntitiesByRefs: async (request: { entityRefs: string[] }) => {
      this.queries.push(request.entityRefs);
      if (this.failNext) {
        this.failNext = false;
        throw new Error('catalog unavailable');
      }
      const byRef = new Map(this.entities.map(e => [stringifyEntityRef(e), e]));
      return { items: request.entityRefs.map(r => byRef.get(r) ?? null) };
    },
  } as unknown as CatalogService;
}

const org = {
  carla: () => user('carla', ['payments']),
  eve: () => user('eve', ['payments-api']),
  groups: () => [group('payments', ['payments-api']), group('payments-api')],
};

function setup(ttlMs = 30_000) {
  const catalog = new ChangingCatalog();
  catalog.set([org.carla(), org.eve(), ...org.groups()]);
  const logger = mockServices.logger.mock();
  const auth = mockServices.auth();
  let now = 1_000_000;
  const identities = new CatalogCurrentIdentities({
    catalog: catalog.service,
    auth,
    ownership: new NestedGroupOwnershipResolver(catalog.service, auth, logger),
    logger,
    ttlMs,
    now: () => now,
  });
  const advance = (ms: number) => {
    now += ms;
  };
  return { catalog, logger, identities, advance };
}

describe('CatalogCurrentIdentities', () => {
  it("gives the User's groups, nested included, as sign-in computes them", async () => {
    const { identities } = setup();
    await expect(
      identities.currentOwnershipRefs('user:default/eve'),
    ).resolves.toEqual([
      'user:default/eve',
      'group:default/payments-api',
      'group:default/payments',
    ]);
  });

  it('reads the catalog once per person per TTL, however many decisions ask at once or in turn', async () => {
    const { catalog, identities } = setup();
    const asks = Array.from({ length: 25 }, () =>
      identities.currentOwnershipRefs('user:default/eve'),
    );
    await Promise.all(asks);
    await identities.currentOwnershipRefs('User:default/Eve');
    // The User, then one batched query per nesting level.
    expect(catalog.queries).toEqual([
      ['user:default/eve'],
      ['group:default/payments-api'],
      ['group:default/payments'],
    ]);
  });

  it('follows a membership removed or added once the TTL has passed, not before', async () => {
    const { catalog, identities, advance } = setup(30_000);
    expect(
      await identities.currentOwnershipRefs('user:default/carla'),
    ).toContain('group:default/payments');
    catalog.set([user('carla', []), org.eve(), ...org.groups()]);
    advance(29_999);
    expect(
      await identities.currentOwnershipRefs('user:default/carla'),
    ).toContain('group:default/payments');
    advance(1);
    expect(await identities.currentOwnershipRefs('user:default/carla')).toEqual(
      ['user:default/carla'],
    );
    catalog.set([user('carla', ['payments-api']), org.eve(), ...org.groups()]);
    advance(30_000);
    expect(await identities.currentOwnershipRefs('user:default/carla')).toEqual(
      [
        'user:default/carla',
        'group:default/payments-api',
        'group:default/payments',
      ],
    );
  });

  it('treats a person whose User is gone as signed out, with the reason, logged once per TTL', async () => {
    const { catalog, identities, logger, advance } = setup();
    catalog.set([org.eve(), ...org.groups()]);
    const signedOut =
      /user:default\/carla is no longer in the portal's catalog .* counts as signed out/;
    await expect(
      identities.currentOwnershipRefs('user:default/carla'),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringMatching(signedOut),
    });
    await expect(
      identities.currentOwnershipRefs('user:default/carla'),
    ).rejects.toThrow(signedOut);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(/^Signed out user:default\/carla: /),
    );
    // Back in the catalog (re-enabled and ingested): signed in again.
    catalog.set([org.carla(), org.eve(), ...org.groups()]);
    advance(30_000);
    await expect(
      identities.currentOwnershipRefs('user:default/carla'),
    ).resolves.toContain('group:default/payments');
  });

  it('treats a User marked disabled as signed out, and does not read its groups', async () => {
    const { catalog, identities } = setup();
    catalog.set([user('carla', ['payments'], true), ...org.groups()]);
    await expect(
      identities.currentOwnershipRefs('user:default/carla'),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringMatching(
        /user:default\/carla is marked disabled .*graph\.microsoft\.com\/account-enabled: false.* counts as signed out/,
      ),
    });
    expect(catalog.queries).toEqual([['user:default/carla']]);
  });

  it('does not cache a failed read: the decision fails and the next one asks again', async () => {
    const { catalog, identities } = setup();
    catalog.failNext = true;
    await expect(
      identities.currentOwnershipRefs('user:default/carla'),
    ).rejects.toThrow('catalog unavailable');
    await expect(
      identities.currentOwnershipRefs('user:default/carla'),
    ).resolves.toContain('group:default/payments');
  });

  it('reads for every decision with a TTL of 0', async () => {
    const { catalog, identities } = setup(0);
    await identities.currentOwnershipRefs('user:default/carla');
    catalog.set([user('carla', []), ...org.groups()]);
    await expect(
      identities.currentOwnershipRefs('user:default/carla'),
    ).resolves.toEqual(['user:default/carla']);
  });
});
