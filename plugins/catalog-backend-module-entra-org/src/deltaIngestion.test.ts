import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { EntityProviderConnection } from '@backstage/plugin-catalog-node';
import { EntraEmulator, SeedUser } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import { DeltaStateStore } from './deltaSync';
import { EntraOrgEntityProvider } from './entraOrgProvider';
import { createGraphClient, RetryPolicy } from './graphClient';
import { DatabaseProviderStateStore } from './ingestionState';

const FAST_RETRY: RetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 20,
  maxDelayMs: 3000,
};
const USER_ID = 'graph.microsoft.com/user-id';
const DAY = 24 * 3600_000;

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

/** A catalog stand-in that applies full and delta mutations as the catalog does. */
function catalogConnection() {
  const entities = new Map<string, Entity>();
  const mutations: Array<'full' | 'delta'> = [];
  const connection: EntityProviderConnection = {
    applyMutation: async mutation => {
      mutations.push(mutation.type);
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
  return { entities, mutations, connection };
}

async function newProvider(
  emulator: EntraEmulator,
  options: {
    delta: boolean;
    knex?: Awaited<ReturnType<typeof databases.init>>;
    maxDeletionShare?: number;
  },
) {
  const config = {
    id: 'default',
    target: emulator.graphBaseUrl,
    authority: emulator.httpsUrl,
    tenantId: emulator.tenantId,
    clientId: emulator.apps.portal.clientId,
    clientSecret: emulator.apps.portal.clientSecret,
  };
  const knex = options.knex ?? (await databases.init('SQLITE_3'));
  const store = await DatabaseProviderStateStore.create(knex);
  const logger = mockServices.logger.mock();
  const provider = new EntraOrgEntityProvider({
    config,
    client: createGraphClient(config, FAST_RETRY),
    store,
    logger,
    taskRunner: { run: async () => {} },
    taskId: 'entra-org:default:refresh',
    maxDeletionShare: options.maxDeletionShare ?? 1,
    failureBackoff: { initialMs: 60_000, maxMs: DAY },
    scheduleRetry: () => {},
    ...(options.delta && {
      delta: {
        store: await DeltaStateStore.create(knex),
        fullRoundEveryMs: DAY,
      },
    }),
  });
  const catalog = catalogConnection();
  await provider.connect(catalog.connection);
  return { provider, catalog, store, logger, knex };
}

/** The entity set a fresh full read of the emulator's directory gives now. */
async function fullReadNow(emulator: EntraEmulator) {
  const fresh = await newProvider(emulator, { delta: false });
  const status = await fresh.provider.read();
  expect(status.outcome).toBe('applied');
  return sorted(fresh.catalog.entities);
}

function sorted(entities: Map<string, Entity>) {
  return [...entities.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, e]) => e);
}

const person = (n: number, tag: string): SeedUser => ({
  id: `0000${tag}-0000-4000-8000-${String(n).padStart(12, '0')}`,
  displayName: `Person ${tag} ${n}`,
  userPrincipalName: `person.${tag}.${n}@contoso.example`,
  givenName: 'Person',
  surname: `${tag}${n}`,
});

const userNames = (entities: Map<string, Entity>, oid: string) =>
  [...entities.values()]
    .filter(e => e.kind === 'User' && e.metadata.annotations?.[USER_ID] === oid)
    .map(e => e.metadata.name);

describe('Delta ingestion against the emulator', () => {
  let emulator: EntraEmulator;
  beforeEach(async () => {
    emulator = await startTestEmulator();
  });
  afterEach(() => emulator?.close());

  /** Runs one tick; afterwards the catalog must equal a fresh full read. */
  async function tickAndCompare(
    d: Awaited<ReturnType<typeof newProvider>>,
    outcome = 'applied',
  ) {
    const status = await d.provider.tick();
    expect(status?.outcome).toBe(outcome);
    expect(sorted(d.catalog.entities)).toEqual(await fullReadNow(emulator));
    return status!;
  }

  it('keeps the catalog equal to a full read through user and membership changes, with delta mutations only', async () => {
    const d = await newProvider(emulator, { delta: true });
    await tickAndCompare(d);
    expect(d.catalog.mutations).toEqual(['full']);

    // No change: three Graph requests (users/delta, groups/delta,
    // servicePrincipals/delta), no mutation.
    const quiet = await tickAndCompare(d, 'unchanged');
    expect(quiet.graph.requests).toBe(3);
    expect(d.catalog.mutations).toEqual(['full']);

    const members = emulator.seed.users.filter(
      u => u.accountEnabled !== false && u.userType !== 'Guest',
    );
    const group = emulator.seed.groups.find(g =>
      g.members.some(m => members.some(u => u.id === m)),
    )!;

    // Join: a new person in a group.
    const newcomer = person(1, 'aaaa');
    emulator.directory.addUser(newcomer, [group.id]);
    const joined = await tickAndCompare(d);
    expect(joined).toMatchObject({
      changed: { users: 1, groups: 1 },
      // Only the new User: memberships live in its memberOf.
      applied: { added: 1, removed: 0 },
    });
    expect(userNames(d.catalog.entities, newcomer.id)).toEqual([
      'person.aaaa.1',
    ]);

    // Rename: the old name goes, the new one comes.
    emulator.directory.updateUser(newcomer.id, {
      userPrincipalName: 'renamed.person@contoso.example',
      displayName: 'Renamed Person',
    });
    await tickAndCompare(d);
    expect(userNames(d.catalog.entities, newcomer.id)).toEqual([
      'renamed.person',
    ]);

    // Disable: left out, as in a full read.
    emulator.directory.setAccountEnabled(members[0].id, false);
    await tickAndCompare(d);
    expect(userNames(d.catalog.entities, members[0].id)).toEqual([]);
    emulator.directory.setAccountEnabled(members[0].id, true);
    await tickAndCompare(d);
    expect(userNames(d.catalog.entities, members[0].id)).toHaveLength(1);

    // Delete (soft), restore, delete for good.
    emulator.directory.removeUser(newcomer.id);
    await tickAndCompare(d);
    expect(userNames(d.catalog.entities, newcomer.id)).toEqual([]);
    emulator.directory.restoreUser(newcomer.id);
    await tickAndCompare(d);
    expect(userNames(d.catalog.entities, newcomer.id)).toEqual([
      'renamed.person',
    ]);
    emulator.directory.removeUser(newcomer.id, { permanent: true });
    await tickAndCompare(d);

    // A new group; leave one group and join another.
    const other = {
      id: '0000aaaa-0000-4000-8000-0000000000ff',
      displayName: 'New Team',
      members: [],
    };
    emulator.directory.addGroup(other);
    await tickAndCompare(d);
    const leaver = group.members.find(m => members.some(u => u.id === m))!;
    emulator.directory.removeMember(group.id, leaver);
    emulator.directory.addMember(other.id, leaver);
    await tickAndCompare(d);

    // Nest and un-nest: delta does not report nesting; it is recomputed.
    emulator.directory.addMember(other.id, group.id);
    await tickAndCompare(d);
    emulator.directory.removeMember(other.id, group.id);
    await tickAndCompare(d);
    expect(d.catalog.mutations.filter(m => m === 'full')).toHaveLength(1);
  });

  it('applies a 2,500-member group spread over delta pages, riding out a 429 on a later page', async () => {
    const d = await newProvider(emulator, { delta: true });
    await tickAndCompare(d);
    const people = Array.from({ length: 2500 }, (_, i) => person(i, 'bbbb'));
    for (const p of people) emulator.directory.addUser(p);
    emulator.directory.addGroup({
      id: '0000cccc-0000-4000-8000-000000000001',
      displayName: 'Big Group',
      members: people.map(p => p.id),
    });
    emulator.setFaults([
      {
        route: '/v1.0/groups/delta',
        type: 'failPage',
        page: 2,
        status: 429,
        times: 1,
      },
    ]);
    const status = await tickAndCompare(d);
    expect(status.graph.throttled).toBe(1);
    const big = [...d.catalog.entities.values()].find(
      e => e.metadata.name === 'big_group',
    )!;
    const inBig = [...d.catalog.entities.values()].filter(e =>
      (e.spec as any).memberOf?.includes(stringifyEntityRef(big)),
    );
    expect(inBig).toHaveLength(2500);

    // Removing members of the big group comes back as member removals.
    for (const p of people.slice(0, 1200))
      emulator.directory.removeMember(
        '0000cccc-0000-4000-8000-000000000001',
        p.id,
      );
    await tickAndCompare(d);
  });

  it('a poll that fails for good changes nothing and keeps its cursor; the next one applies everything', async () => {
    const d = await newProvider(emulator, { delta: true });
    await tickAndCompare(d);
    const before = sorted(d.catalog.entities);
    const newcomer = person(2, 'dddd');
    emulator.directory.addUser(newcomer, [emulator.seed.groups[0].id]);
    emulator.setFaults([
      { route: '/v1.0/groups/delta', type: 'throttle', retryAfter: 0 },
    ]);
    const failed = await d.provider.tick();
    expect(failed).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/429.*next poll reads the same changes/),
    });
    expect(sorted(d.catalog.entities)).toEqual(before);
    emulator.clearFaults();
    await tickAndCompare(d);
    expect(userNames(d.catalog.entities, newcomer.id)).toHaveLength(1);
  });

  it('an expired delta token falls back to a full round; the next poll is a delta again', async () => {
    const d = await newProvider(emulator, { delta: true });
    await tickAndCompare(d);
    emulator.directory.addUser(person(3, 'eeee'), [emulator.seed.groups[0].id]);
    emulator.directory.expireDeltaTokens();
    await tickAndCompare(d);
    expect(d.catalog.mutations).toEqual(['full', 'full']);
    const { lastDelta } = await d.store.get('default');
    expect(lastDelta?.outcome).toBe('expired');

    emulator.directory.updateUser(emulator.seed.users[0].id, {
      displayName: 'Changed Name',
    });
    await tickAndCompare(d);
    expect(d.catalog.mutations).toEqual(['full', 'full', 'delta']);
  });

  it('another replica continues from the cursor stored in the database', async () => {
    const a = await newProvider(emulator, { delta: true });
    await tickAndCompare(a);
    const newcomer = person(4, 'ffff');
    emulator.directory.addUser(newcomer, [emulator.seed.groups[0].id]);
    // Same database, new process: no in-memory state carried over.
    const b = await newProvider(emulator, { delta: true, knex: a.knex });
    for (const [ref, e] of a.catalog.entities) b.catalog.entities.set(ref, e);
    const status = await b.provider.tick();
    expect(status).toMatchObject({ outcome: 'applied' });
    expect(b.catalog.mutations).toEqual(['delta']);
    expect(sorted(b.catalog.entities)).toEqual(await fullReadNow(emulator));
  });

  it('the deletion guard holds the sum of removals since the last full round', async () => {
    const d = await newProvider(emulator, {
      delta: true,
      maxDeletionShare: 0.2,
    });
    await tickAndCompare(d);
    const { baseline } = await d.store.get('default');
    const members = emulator.seed.users.filter(
      u => u.accountEnabled !== false && u.userType !== 'Guest',
    );
    // One at a time, each poll under the share, until their sum is over it.
    const allowed = Math.floor(baseline!.users * 0.2);
    for (const u of members.slice(0, allowed)) {
      emulator.directory.setAccountEnabled(u.id, false);
      await tickAndCompare(d);
    }
    const before = sorted(d.catalog.entities);
    emulator.directory.setAccountEnabled(members[allowed].id, false);
    const refused = await d.provider.tick();
    expect(refused).toMatchObject({
      outcome: 'refused',
      error: expect.stringContaining('allow-removal'),
    });
    expect(sorted(d.catalog.entities)).toEqual(before);
    // The cursor stayed: the next poll reads the same removal and refuses it too.
    expect(await d.provider.tick()).toMatchObject({ outcome: 'refused' });
    expect(sorted(d.catalog.entities)).toEqual(before);

    // An admin allows it: the next tick is a full round past the guard.
    await d.provider.allowNextRemoval('user:default/ada.admin');
    await d.provider.requestFullRound();
    await tickAndCompare(d);
    expect(d.catalog.mutations.at(-1)).toBe('full');
  });
});
