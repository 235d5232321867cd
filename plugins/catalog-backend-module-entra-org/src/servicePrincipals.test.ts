import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import {
  Entity,
  GroupEntity,
  stringifyEntityRef,
  UserEntity,
} from '@backstage/catalog-model';
import { EntityProviderConnection } from '@backstage/plugin-catalog-node';
import { EntraEmulator, loadSeed } from '@internal/entra-emulator';
import {
  pipelineApp,
  startTestEmulator,
} from '@internal/entra-emulator/testUtils';
import { applyDelta, DeltaStateStore, DirectorySnapshot } from './deltaSync';
import { EntraOrgEntityProvider } from './entraOrgProvider';
import { createGraphClient, RetryPolicy } from './graphClient';
import { DatabaseProviderStateStore } from './ingestionState';
import {
  servicePrincipalEntities,
  ServicePrincipalPolicy,
} from './servicePrincipals';

const FAST_RETRY: RetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 20,
  maxDelayMs: 3000,
};
const DAY = 24 * 3600_000;
const PAYMENTS = 'ad013c4b-ba4d-441e-841e-1063643c3aec';
const SEARCH = '1182257f-7b71-4a5a-83f4-61955ece9273';
const SP_ID = 'graph.microsoft.com/service-principal-id';
const APP_ID = 'graph.microsoft.com/app-id';
const USER_ID = 'graph.microsoft.com/user-id';
const ENABLED = 'graph.microsoft.com/account-enabled';
const LABEL = 'entra.microsoft.com/principal-type';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

function catalogConnection() {
  const entities = new Map<string, Entity>();
  const connection: EntityProviderConnection = {
    applyMutation: async mutation => {
      if (mutation.type === 'full') {
        entities.clear();
        for (const e of mutation.entities)
          entities.set(stringifyEntityRef(e.entity), e.entity);
        return;
      }
      for (const r of mutation.removed) {
        entities.delete(
          'entityRef' in r ? r.entityRef : stringifyEntityRef(r.entity),
        );
      }
      for (const e of mutation.added)
        entities.set(stringifyEntityRef(e.entity), e.entity);
    },
    refresh: async () => {},
  };
  return { entities, connection };
}

async function newProvider(
  emulator: EntraEmulator,
  options: {
    delta?: boolean;
    servicePrincipals?: ServicePrincipalPolicy;
    maxDeletionShare?: number;
  } = {},
) {
  const config = {
    id: 'default',
    target: emulator.graphBaseUrl,
    authority: emulator.httpsUrl,
    tenantId: emulator.tenantId,
    clientId: emulator.apps.portal.clientId,
    clientSecret: emulator.apps.portal.clientSecret,
  };
  const knex = await databases.init('SQLITE_3');
  const logger = mockServices.logger.mock();
  const provider = new EntraOrgEntityProvider({
    config,
    client: createGraphClient(config, FAST_RETRY),
    store: await DatabaseProviderStateStore.create(knex),
    logger,
    taskRunner: { run: async () => {} },
    taskId: 'entra-org:default:refresh',
    maxDeletionShare: options.maxDeletionShare ?? 1,
    failureBackoff: { initialMs: 60_000, maxMs: DAY },
    scheduleRetry: () => {},
    ...(options.servicePrincipals && {
      servicePrincipals: options.servicePrincipals,
    }),
    ...(options.delta && {
      delta: {
        store: await DeltaStateStore.create(knex),
        fullRoundEveryMs: DAY,
      },
    }),
  });
  const catalog = catalogConnection();
  await provider.connect(catalog.connection);
  return { provider, catalog, logger };
}

const apps = (entities: Map<string, Entity>) =>
  [...entities.values()]
    .filter(e => e.metadata.labels?.[LABEL] === 'service-principal')
    .sort((a, b) =>
      a.metadata.name.localeCompare(b.metadata.name),
    ) as UserEntity[];

const sorted = (entities: Map<string, Entity>) =>
  [...entities.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, e]) => e);

describe('service principals in org ingestion', () => {
  let emulator: EntraEmulator;
  beforeEach(async () => {
    emulator = await startTestEmulator();
  });
  afterEach(() => emulator?.close());

  it('a full read makes pipelines in ingested groups Users with their ids, tenant and groups, never a user-id', async () => {
    const { provider, catalog, logger } = await newProvider(emulator);
    const status = await provider.read();
    expect(status.outcome).toBe('applied');
    const payments = pipelineApp(emulator, 'payments-pipeline');
    const search = pipelineApp(emulator, 'search-pipeline');
    const found = apps(catalog.entities);
    expect(found.map(e => e.metadata.name)).toEqual([
      'app-payments-pipeline',
      'app-search-pipeline',
    ]);
    const [pay, srch] = found;
    expect(pay.kind).toBe('User');
    expect(pay.metadata.annotations).toMatchObject({
      [SP_ID]: payments.servicePrincipalId,
      [APP_ID]: payments.appId,
      'graph.microsoft.com/tenant-id': emulator.tenantId,
      [ENABLED]: 'true',
    });
    expect(pay.spec.memberOf).toEqual(['group:default/payments']);
    expect(pay.spec.profile?.displayName).toBe('payments-pipeline (app)');
    expect(srch.metadata.annotations?.[SP_ID]).toBe(search.servicePrincipalId);
    expect(srch.spec.memberOf).toEqual(['group:default/search']);
    for (const e of found)
      expect(e.metadata.annotations?.[USER_ID]).toBeUndefined();
    // The app in no group is not known to the portal.
    const stray = pipelineApp(emulator, 'stray-pipeline');
    expect(
      [...catalog.entities.values()].some(
        e => e.metadata.annotations?.[APP_ID] === stray.appId,
      ),
    ).toBe(false);
    // Counted apart from people, in the status and in the run's log line.
    expect(status.read).toMatchObject({ servicePrincipals: 2 });
    const people = [...catalog.entities.values()].filter(
      e => e.kind === 'User' && e.metadata.annotations?.[USER_ID],
    );
    expect(status.read!.users).toBe(people.length);
    expect(logger.info).toHaveBeenCalledWith(
      expect.stringMatching(/memberships; 2 service principals/),
    );
  });

  it('servicePrincipals disabled by config: no apps, people unchanged', async () => {
    const on = await newProvider(emulator);
    await on.provider.read();
    const off = await newProvider(emulator, {
      servicePrincipals: { enabled: false, types: ['Application'] },
    });
    const status = await off.provider.read();
    expect(status.read).toMatchObject({ servicePrincipals: 0 });
    expect(apps(off.catalog.entities)).toEqual([]);
    const withoutApps = sorted(on.catalog.entities).filter(
      e => e.metadata.labels?.[LABEL] !== 'service-principal',
    );
    expect(sorted(off.catalog.entities)).toEqual(withoutApps);
  });

  it('only the configured servicePrincipalTypes are ingested', async () => {
    const { provider, catalog } = await newProvider(emulator, {
      servicePrincipals: { enabled: true, types: ['ManagedIdentity'] },
    });
    await provider.read();
    expect(apps(catalog.entities)).toEqual([]);
  });

  it('delta: a pipeline added to a group arrives, one removed leaves, one disabled is marked; the result equals a full read', async () => {
    const { provider, catalog } = await newProvider(emulator, { delta: true });
    expect((await provider.tick())!.outcome).toBe('applied');
    const stray = pipelineApp(emulator, 'stray-pipeline');
    const search = pipelineApp(emulator, 'search-pipeline');

    emulator.directory.addMember(PAYMENTS, stray.servicePrincipalId);
    emulator.directory.removeMember(SEARCH, search.servicePrincipalId);
    emulator.directory.setServicePrincipalEnabled('payments-pipeline', false);
    const poll = await provider.tick();
    expect(poll!.outcome).toBe('applied');

    const found = apps(catalog.entities);
    expect(found.map(e => e.metadata.name)).toEqual([
      'app-payments-pipeline',
      'app-stray-pipeline',
    ]);
    expect(found[0].metadata.annotations?.[ENABLED]).toBe('false');
    expect(found[1].metadata.annotations).toMatchObject({
      [APP_ID]: stray.appId,
      [SP_ID]: stray.servicePrincipalId,
      [ENABLED]: 'true',
    });
    expect(found[1].spec.memberOf).toEqual(['group:default/payments']);

    // What the polls built is what a fresh full read gives now.
    const fresh = await newProvider(emulator);
    await fresh.provider.read();
    expect(sorted(catalog.entities)).toEqual(sorted(fresh.catalog.entities));

    // Re-enabled: marked enabled again on the next poll.
    emulator.directory.setServicePrincipalEnabled('payments-pipeline', true);
    await provider.tick();
    expect(apps(catalog.entities)[0].metadata.annotations?.[ENABLED]).toBe(
      'true',
    );
  });
});

describe('service principals: the deletion guard counts them on their own', () => {
  let emulator: EntraEmulator;
  const extra = Array.from({ length: 8 }, (_, i) => ({
    key: `build-${i}`,
    displayName: `build-${i}`,
    clientId: `00000000-0000-4000-8000-0000000000${10 + i}`,
    servicePrincipal: { id: `00000000-0000-4000-9000-0000000000${10 + i}` },
    clientSecrets: [],
    clientSecretDetails: [],
  }));
  beforeEach(async () => {
    const seed = loadSeed();
    seed.apps.push(...extra);
    const platform = seed.groups.find(g => g.displayName === 'platform-team')!;
    platform.members.push(...extra.map(a => a.servicePrincipal.id));
    emulator = await startTestEmulator({ seed });
  });
  afterEach(() => emulator?.close());

  it('a delta round removing most pipelines is refused; a few are always allowed', async () => {
    const { provider, catalog } = await newProvider(emulator, {
      delta: true,
      maxDeletionShare: 0.2,
    });
    expect((await provider.tick())!.outcome).toBe('applied');
    expect(apps(catalog.entities)).toHaveLength(10);
    const platform = 'af189f97-d6e4-4c45-8bc3-319d174c7192';

    // 2 of 10 is within the allowance (and the share).
    for (const a of extra.slice(0, 2)) {
      emulator.directory.removeMember(platform, a.servicePrincipal.id);
    }
    expect((await provider.tick())!.outcome).toBe('applied');
    expect(apps(catalog.entities)).toHaveLength(8);

    // 4 more: 6 removed since the full round, past 5 and past 20 %.
    for (const a of extra.slice(2, 6)) {
      emulator.directory.removeMember(platform, a.servicePrincipal.id);
    }
    const refused = await provider.tick();
    expect(refused).toMatchObject({ outcome: 'refused' });
    expect((refused as { error: string }).error).toMatch(
      /service principals \(apps in ingested groups\)/,
    );
    expect(apps(catalog.entities)).toHaveLength(8);
  });
});

describe('servicePrincipalEntities naming', () => {
  const group = (id: string, name: string): GroupEntity => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name, annotations: { 'graph.microsoft.com/group-id': id } },
    spec: { type: 'team', children: [] },
  });
  const person = (name: string): UserEntity => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name, annotations: { [USER_ID]: `oid-${name}` } },
    spec: { memberOf: [] },
  });
  const policy = { enabled: true, types: ['Application'] };
  const sp = (id: string, displayName: string, appId = `app-${id}`) => ({
    sp: { id, appId, displayName, servicePrincipalType: 'Application' },
    groupIds: new Set(['g1']),
  });

  it('never renames a person: an app wanting a person’s name takes its object id', () => {
    const { entities } = servicePrincipalEntities({
      collected: new Map([
        [
          '11111111-1111-4111-8111-111111111111',
          sp('11111111-1111-4111-8111-111111111111', 'deploy'),
        ],
      ]),
      groups: [group('g1', 'payments')],
      people: [person('app-deploy')],
      tenantId: 't',
      policy,
    });
    expect(entities[0].metadata.name).toBe(
      'app-deploy-11111111-1111-4111-8111-111111111111',
    );
  });

  it('two apps with one display name both get part of their object id', () => {
    const a = '22222222-2222-4222-8222-222222222222';
    const b = '33333333-3333-4333-8333-333333333333';
    const { entities } = servicePrincipalEntities({
      collected: new Map([
        [a, sp(a, 'CI')],
        [b, sp(b, 'CI')],
      ]),
      groups: [group('g1', 'payments')],
      people: [],
      tenantId: 't',
      policy,
    });
    expect(entities.map(e => e.metadata.name)).toEqual([
      'app-ci-22222222',
      'app-ci-33333333',
    ]);
  });

  it('members Graph sent without appId (no Application.Read.All) are counted and left out', () => {
    const id = '44444444-4444-4444-8444-444444444444';
    const { entities, withoutAppId } = servicePrincipalEntities({
      collected: new Map([[id, { sp: { id }, groupIds: new Set(['g1']) }]]),
      groups: [group('g1', 'payments')],
      people: [],
      tenantId: 't',
      policy,
    });
    expect(entities).toEqual([]);
    expect(withoutAppId).toBe(1);
  });

  it('an app only in groups that were not ingested is left out', () => {
    const id = '55555555-5555-4555-8555-555555555555';
    const { entities } = servicePrincipalEntities({
      collected: new Map([
        [id, { sp: sp(id, 'x').sp, groupIds: new Set(['elsewhere']) }],
      ]),
      groups: [group('g1', 'payments')],
      people: [],
      tenantId: 't',
      policy,
    });
    expect(entities).toEqual([]);
  });
});

describe('applyDelta with service principal members', () => {
  const SPT = '#microsoft.graph.servicePrincipal';
  const snapshot = (): DirectorySnapshot => ({
    organization: {},
    users: {},
    photos: {},
    groups: {
      g1: {
        group: { id: 'g1' },
        members: { u1: 'user', sp1: 'servicePrincipal' },
      },
    },
    servicePrincipals: {
      sp1: { id: 'sp1', appId: 'a1', displayName: 'one', accountEnabled: true },
    },
  });

  it('records a service principal member as one, not as a user, and names those it has no properties for', () => {
    const s = snapshot();
    const result = applyDelta(
      s,
      [],
      [{ id: 'g1', 'members@delta': [{ '@odata.type': SPT, id: 'sp2' }] }],
    );
    expect(s.groups.g1.members.sp2).toBe('servicePrincipal');
    expect(result.unknownServicePrincipals).toEqual(['sp2']);
  });

  it('a removed member leaves the group; a disabled known one is merged; unknown ones are ignored', () => {
    const s = snapshot();
    const result = applyDelta(
      s,
      [],
      [
        {
          id: 'g1',
          'members@delta': [
            {
              '@odata.type': SPT,
              id: 'sp1',
              '@removed': { reason: 'deleted' },
            },
          ],
        },
      ],
      [
        { id: 'sp1', accountEnabled: false },
        { id: 'microsoft-first-party', appId: 'x', accountEnabled: false },
      ],
    );
    expect(s.groups.g1.members).toEqual({ u1: 'user' });
    expect(s.servicePrincipals).toEqual({
      sp1: {
        id: 'sp1',
        appId: 'a1',
        displayName: 'one',
        accountEnabled: false,
      },
    });
    expect(result).toMatchObject({
      servicePrincipals: 1,
      unknownServicePrincipals: [],
    });
  });

  it('a snapshot saved before service principals were ingested still applies', () => {
    const s = snapshot();
    delete s.servicePrincipals;
    const result = applyDelta(
      s,
      [],
      [],
      [{ id: 'sp1', accountEnabled: false }],
    );
    expect(s.servicePrincipals).toEqual({});
    expect(result.unknownServicePrincipals).toEqual(['sp1']);
  });
});
