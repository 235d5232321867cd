import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import {
  DefaultNamespaceEntityPolicy,
  Entity,
  entityEnvelopeSchemaValidator,
  EntityPolicies,
  FieldFormatEntityPolicy,
  GroupEntity,
  groupEntityV1alpha1Validator,
  KubernetesValidatorFunctions,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  UserEntity,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';
import { EntityProviderConnection } from '@backstage/plugin-catalog-node';
import {
  EntraEmulator,
  FaultRule,
  generateTenant,
} from '@internal/entra-emulator';
import {
  recordConnections,
  startTestEmulator,
} from '@internal/entra-emulator/testUtils';
import {
  EXPECTED_NAMES,
  OID,
  unusualNamesSeed,
} from './__testUtils__/unusualNames';
import { EntraOrgEntityProvider } from './entraOrgProvider';
import { createGraphClient, RetryPolicy } from './graphClient';
import {
  DatabaseProviderStateStore,
  ProviderStateStore,
} from './ingestionState';

// Short waits so that retries are exercised without slowing the suite.
const FAST_RETRY: RetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 20,
  maxDelayMs: 3000,
};
const USER_ID = 'graph.microsoft.com/user-id';
const GROUP_ID = 'graph.microsoft.com/group-id';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

async function newStore(): Promise<ProviderStateStore> {
  return DatabaseProviderStateStore.create(await databases.init('SQLITE_3'));
}

/** A catalog stand-in that keeps what the last full mutation applied. */
function catalogConnection() {
  const catalog = { entities: [] as Entity[], mutations: 0 };
  const connection: EntityProviderConnection = {
    applyMutation: async mutation => {
      if (mutation.type !== 'full') throw new Error('expected full mutation');
      catalog.entities = mutation.entities.map(e => e.entity);
      catalog.mutations++;
    },
    refresh: async () => {},
  };
  return { catalog, connection };
}

async function setup(
  emulator: EntraEmulator,
  options: {
    store?: ProviderStateStore;
    guests?: 'include' | 'exclude';
    loadUserPhotos?: boolean;
  } = {},
) {
  const config = {
    loadUserPhotos: options.loadUserPhotos,
    id: 'default',
    target: emulator.graphBaseUrl,
    authority: emulator.httpsUrl,
    tenantId: emulator.tenantId,
    clientId: emulator.apps.portal.clientId,
    clientSecret: emulator.apps.portal.clientSecret,
  };
  const store = options.store ?? (await newStore());
  const retries: number[] = [];
  const logger = mockServices.logger.mock();
  const provider = new EntraOrgEntityProvider({
    config,
    client: createGraphClient(config, FAST_RETRY),
    store,
    logger,
    // Runs are driven by the test, one at a time.
    taskRunner: { run: async () => {} },
    taskId: 'entra-org:default:refresh',
    guests: options.guests,
    failureBackoff: { initialMs: 60_000, maxMs: 1_800_000 },
    scheduleRetry: delay => retries.push(delay),
  });
  const { catalog, connection } = catalogConnection();
  await provider.connect(connection);
  return { provider, catalog, store, retries, logger };
}

/** People: Users with a user id (pipelines' Users have a service principal id instead). */
const users = (entities: Entity[]) =>
  entities.filter(
    (e): e is UserEntity =>
      e.kind === 'User' && !!e.metadata.annotations?.[USER_ID],
  );
const groups = (entities: Entity[]) =>
  entities.filter((e): e is GroupEntity => e.kind === 'Group');

describe('EntraOrgEntityProvider against the emulator', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator?.close());
  afterEach(() => emulator.clearFaults());

  it('ingests the seeded org completely: every user, group, membership and nesting edge', async () => {
    const { provider, catalog } = await setup(emulator);
    // Token and Graph requests alike: nothing leaves the machine (no public
    // instance discovery for the emulator's authority).
    const connections = recordConnections();
    let status;
    try {
      status = await provider.read();
    } finally {
      connections.restore();
    }
    expect(status.outcome).toBe('applied');
    expect(connections.hosts.length).toBeGreaterThan(0);
    expect(connections.nonLoopback()).toEqual([]);

    const { seed } = emulator;
    const members = seed.users.filter(
      u => u.accountEnabled !== false && u.userType !== 'Guest',
    );
    const userByOid = new Map(
      users(catalog.entities).map(u => [u.metadata.annotations![USER_ID], u]),
    );
    const groupById = new Map(
      groups(catalog.entities)
        .filter(g => g.metadata.annotations?.[GROUP_ID])
        .map(g => [g.metadata.annotations![GROUP_ID], g]),
    );
    expect([...userByOid.keys()].sort()).toEqual(members.map(u => u.id).sort());
    expect([...groupById.keys()].sort()).toEqual(
      seed.groups.map(g => g.id).sort(),
    );
    // The tenant is the root group.
    const root = groups(catalog.entities).find(
      g => g.metadata.annotations?.['graph.microsoft.com/tenant-id'],
    )!;
    expect(root.metadata.annotations!['graph.microsoft.com/tenant-id']).toBe(
      emulator.tenantId,
    );
    expect(status.read).toMatchObject({
      users: members.length,
      groups: seed.groups.length + 1,
    });

    // Every user membership and nesting edge of the seed, and no other.
    const ref = (g: GroupEntity) => `group:default/${g.metadata.name}`;
    const expectedMemberships: string[] = [];
    const expectedNesting: string[] = [];
    for (const group of seed.groups) {
      const parent = ref(groupById.get(group.id)!);
      for (const memberId of group.members) {
        const user = userByOid.get(memberId);
        const child = groupById.get(memberId);
        if (user) expectedMemberships.push(`${user.metadata.name} ${parent}`);
        if (child) expectedNesting.push(`${parent} ${ref(child)}`);
      }
    }
    const memberships = [...userByOid.values()].flatMap(u =>
      (u.spec.memberOf ?? []).map(g => `${u.metadata.name} ${g}`),
    );
    expect(memberships.sort()).toEqual(expectedMemberships.sort());
    const nested = [...groupById.values()];
    expect(
      nested.flatMap(g => g.spec.children.map(c => `${ref(g)} ${c}`)).sort(),
    ).toEqual(expectedNesting.sort());
    expect(
      nested
        .filter(g => g.spec.parent !== ref(root))
        .map(g => `${g.spec.parent} ${ref(g)}`)
        .sort(),
    ).toEqual(expectedNesting.sort());
    // The membership guard counts exactly these edges.
    expect(status.read!.memberships).toBe(
      expectedMemberships.length + expectedNesting.length,
    );

    // Readable names: people after their UPN (not their mail: Quinn's mail is
    // Ada's address), groups after their display name.
    const byName = (name: string) =>
      seed.users.find(u => u.displayName === name)!.id;
    expect(userByOid.get(byName('Ada Admin'))!.metadata.name).toBe('ada.admin');
    expect(userByOid.get(byName('Quinn Quist'))!.metadata.name).toBe(
      'quinn.quist',
    );
    const platformAdmins = seed.groups.find(
      g => g.displayName === 'platform-admins',
    )!;
    expect(groupById.get(platformAdmins.id)!.metadata.name).toBe(
      'platform-admins',
    );
  });

  it('includes B2B guests when configured', async () => {
    const { provider, catalog } = await setup(emulator, { guests: 'include' });
    await provider.read();
    const guest = emulator.seed.users.find(u => u.userType === 'Guest')!;
    expect(
      users(catalog.entities).map(u => u.metadata.annotations![USER_ID]),
    ).toContain(guest.id);
  });

  it('reads photos only when asked, and a failing photo read never fails the run', async () => {
    const ada = emulator.seed.users.find(u => u.displayName === 'Ada Admin')!;
    const picture = (entities: Entity[]) =>
      users(entities).find(u => u.metadata.annotations![USER_ID] === ada.id)!
        .spec.profile?.picture;

    const off = await setup(emulator);
    const withoutPhotos = await off.provider.read();
    expect(picture(off.catalog.entities)).toBeUndefined();

    const on = await setup(emulator, { loadUserPhotos: true });
    const withPhotos = await on.provider.read();
    expect(picture(on.catalog.entities)).toMatch(/^data:image\//);
    expect(withPhotos.graph.requests).toBeGreaterThan(
      withoutPhotos.graph.requests,
    );

    emulator.setFaults([
      { route: '/v1.0/users/*/photo*', type: 'unavailable' },
    ]);
    const failing = await setup(emulator, { loadUserPhotos: true });
    const status = await failing.provider.read();
    expect(status.outcome).toBe('applied');
    expect(picture(failing.catalog.entities)).toBeUndefined();
    expect(users(failing.catalog.entities)).toHaveLength(status.read!.users);
  });

  it.each<[string, FaultRule & { times: number }]>([
    [
      '429 with an integer Retry-After',
      { route: '/v1.0/users', type: 'throttle', retryAfter: 1, times: 1 },
    ],
    [
      '429 with a decimal Retry-After',
      { route: '/v1.0/groups', type: 'throttle', retryAfter: 0.3, times: 2 },
    ],
    [
      '429 with an HTTP-date Retry-After',
      {
        route: '/v1.0/organization/*',
        type: 'throttle',
        retryAfter: { httpDateInSeconds: 1 },
        times: 1,
      },
    ],
    [
      '429 without Retry-After',
      { route: '/v1.0/groups/*/members', type: 'throttle', times: 3 },
    ],
    ['503', { route: '/v1.0/users', type: 'unavailable', times: 2 }],
    ['a connection reset', { route: '/v1.0/groups', type: 'reset', times: 1 }],
  ])('rides out a passing fault: %s', async (_name, rule) => {
    const { provider, catalog } = await setup(emulator);
    emulator.setFaults([rule]);
    const status = await provider.read();
    expect(status.outcome).toBe('applied');
    expect(status.graph.retries).toBe(rule.times);
    expect(status.graph.throttled).toBe(
      rule.type === 'throttle' ? rule.times : 0,
    );
    expect(users(catalog.entities).length).toBe(status.read!.users);
  });

  it.each<[string, FaultRule]>([
    [
      'persistent 429',
      { route: '/v1.0/users', type: 'throttle', retryAfter: 0 },
    ],
    ['persistent 503', { route: '/v1.0/groups', type: 'unavailable' }],
    ['persistent connection resets', { route: '/v1.0/users', type: 'reset' }],
    [
      'a failing member read',
      { route: '/v1.0/groups/*/members', type: 'unavailable' },
    ],
  ])(
    'keeps the catalog as it was through %s, and recovers when it clears',
    async (_name, rule) => {
      const { provider, catalog, retries } = await setup(emulator);
      await provider.read();
      const before = catalog.entities;

      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        emulator.setFaults([rule]);
        const failed = await provider.read();
        expect(failed.outcome).toBe('failed');
        expect(failed.error).toMatch(/Microsoft Graph/);
        expect(failed.sent).toBeUndefined();
        expect(catalog.mutations).toBe(1);
        expect(catalog.entities).toBe(before);
        // The next attempt is scheduled with backoff, not at once.
        expect(retries).toEqual([60_000]);
        const again = await provider.read();
        expect(again.consecutiveFailures).toBe(2);
        expect(retries).toEqual([60_000, 120_000]);
        // Let any stray rejection surface before checking.
        await new Promise(r => setTimeout(r, 200));
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
      expect(unhandled).toEqual([]);

      emulator.clearFaults();
      const recovered = await provider.read();
      expect(recovered.outcome).toBe('applied');
      expect(recovered.consecutiveFailures).toBe(0);
      expect(catalog.mutations).toBe(2);
      expect(catalog.entities.length).toBe(before.length);
    },
  );

  it('does not retry sooner than Graph asks: a Retry-After beyond the longest wait fails the run at once', async () => {
    const { provider, catalog, retries } = await setup(emulator);
    emulator.setFaults([
      { route: '/v1.0/users', type: 'throttle', retryAfter: 120 },
    ]);
    const started = Date.now();
    const status = await provider.read();
    expect(status.outcome).toBe('failed');
    expect(status.graph).toMatchObject({ retries: 0, throttled: 1 });
    expect(status.error).toMatch(/TooManyRequests/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(catalog.mutations).toBe(0);
    // The next attempt waits out the pause Graph asked for, not just 1 min.
    expect(retries).toEqual([120_000]);
  });

  it('refuses an empty directory, also after a restart, until an admin allows the removal once', async () => {
    const first = await setup(emulator);
    await first.provider.read();
    expect(first.catalog.mutations).toBe(1);

    emulator.setFaults([{ route: '/v1.0/*', type: 'emptyDirectory' }]);
    const refused = await first.provider.read();
    expect(refused.outcome).toBe('refused');
    expect(refused.error).toMatch(/allow-removal/);
    expect(first.catalog.mutations).toBe(1);

    // A restarted backend reads its baseline from the database.
    const restarted = await setup(emulator, { store: first.store });
    expect((await restarted.provider.read()).outcome).toBe('refused');
    expect(restarted.catalog.mutations).toBe(0);

    await restarted.provider.allowNextRemoval('user:default/ada.admin');
    const allowed = await restarted.provider.read();
    expect(allowed.outcome).toBe('applied');
    expect(allowed.removalAllowedBy).toBe('user:default/ada.admin');
    expect(users(restarted.catalog.entities)).toEqual([]);

    // The override was for one run: restoring and emptying again is refused.
    emulator.clearFaults();
    expect((await restarted.provider.read()).outcome).toBe('applied');
    emulator.setFaults([{ route: '/v1.0/*', type: 'emptyDirectory' }]);
    expect((await restarted.provider.read()).outcome).toBe('refused');
  });
});

describe('EntraOrgEntityProvider against a changing directory', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator?.close());

  it('shows a person added, one removed and a membership moved after the next run', async () => {
    const { provider, catalog } = await setup(emulator);
    await provider.read();
    const { seed } = emulator;
    const group = (name: string) =>
      seed.groups.find(g => g.displayName === name)!;
    const ben = seed.users.find(u => u.displayName === 'Ben Builder')!;
    const rosa = seed.users.find(u => u.displayName === 'Rosa Ruiz')!;
    const from = seed.groups.find(g => g.members.includes(ben.id))!;
    const to = group('search');
    expect(to.members).not.toContain(ben.id);

    emulator.directory.addUser(
      {
        id: '0e6f3a52-9d1c-4c3b-8f2e-5a7b9c1d2e3f',
        displayName: 'Nia New',
        userPrincipalName: 'nia.new@contoso.example',
        mail: 'nia.new@contoso.example',
      },
      [group('payments').id],
    );
    emulator.directory.removeUser(rosa.id);
    emulator.directory.moveMember(ben.id, from.id, to.id);

    const status = await provider.read();
    expect(status.outcome).toBe('applied');
    const byName = new Map(catalog.entities.map(e => [e.metadata.name, e]));
    expect((byName.get('nia.new') as UserEntity).spec.memberOf).toContain(
      'group:default/payments',
    );
    expect(byName.has('rosa.ruiz')).toBe(false);
    const benEntity = byName.get('ben.builder') as UserEntity;
    expect(benEntity.spec.memberOf).toContain('group:default/search');
    expect(benEntity.spec.memberOf).not.toContain(
      `group:default/${from.displayName.toLowerCase()}`,
    );
  });
});

describe('EntraOrgEntityProvider on a directory larger than one page', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({
      seed: generateTenant({ users: 2100, groups: 120 }),
    });
  });
  afterAll(() => emulator?.close());
  afterEach(() => emulator.clearFaults());

  it('pages through users with the fewest requests: 999-item pages, no transitive reads', async () => {
    const { provider, catalog } = await setup(emulator);
    const status = await provider.read();
    expect(status.outcome).toBe('applied');
    expect(users(catalog.entities)).toHaveLength(
      emulator.seed.users.filter(
        u => u.accountEnabled !== false && u.userType !== 'Guest',
      ).length,
    );
    // 3 user pages + organization + 1 group page + one member page per group.
    expect(status.graph.requests).toBe(3 + 1 + 1 + 120);
  });

  it.each([2, 3])(
    'keeps the catalog as it was when user page %i fails, and recovers',
    async page => {
      const { provider, catalog } = await setup(emulator);
      await provider.read();
      const before = catalog.entities;
      emulator.setFaults([
        { route: '/v1.0/users', type: 'failPage', page, status: 503 },
      ]);
      const failed = await provider.read();
      expect(failed.outcome).toBe('failed');
      expect(catalog.entities).toBe(before);
      emulator.clearFaults();
      expect((await provider.read()).outcome).toBe('applied');
      expect(catalog.entities).toHaveLength(before.length);
    },
  );
});

/**
 * What the catalog itself checks, built here from catalog-model rather than
 * taken from the module, so the module cannot pass by checking the wrong
 * thing.
 */
const catalogPolicy = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
]);
const envelope = entityEnvelopeSchemaValidator();

/**
 * The catalog after a run holds only entities it accepts, names unique per
 * kind as the catalog compares them, and references that point only at
 * groups that exist.
 */
async function expectConsistentCatalog(entities: Entity[]) {
  for (const entity of entities) {
    expect(() => envelope(entity)).not.toThrow();
    await expect(catalogPolicy.enforce(entity)).resolves.toBeDefined();
    const kindValidator =
      entity.kind === 'User'
        ? userEntityV1alpha1Validator
        : groupEntityV1alpha1Validator;
    await expect(kindValidator.check(entity)).resolves.toBe(true);
    expect(
      KubernetesValidatorFunctions.isValidObjectName(entity.metadata.name),
    ).toBe(true);
  }
  for (const kind of ['User', 'Group']) {
    const names = entities
      .filter(e => e.kind === kind)
      .map(e => e.metadata.name.toLocaleLowerCase('en-US'));
    expect(new Set(names).size).toBe(names.length);
  }
  const groupRefs = new Set(
    groups(entities).map(g => `group:default/${g.metadata.name}`),
  );
  const refs = [
    ...users(entities).flatMap(u => u.spec.memberOf ?? []),
    ...groups(entities).flatMap(g => [
      ...g.spec.children,
      ...(g.spec.parent ? [g.spec.parent] : []),
    ]),
  ];
  expect(refs.filter(r => !groupRefs.has(r))).toEqual([]);
}

describe('EntraOrgEntityProvider on a tenant of unusual names', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({ seed: unusualNamesSeed() });
  });
  afterAll(() => emulator?.close());
  afterEach(() => emulator.clearFaults());

  const byObjectId = (entities: Entity[]) =>
    new Map(
      entities.map(e => [
        e.metadata.annotations![USER_ID] ??
          e.metadata.annotations![GROUP_ID] ??
          e.metadata.annotations!['graph.microsoft.com/tenant-id'],
        e,
      ]),
    );

  it('gives every user and group a valid, unique name the catalog accepts, and leaves out only what cannot be named', async () => {
    const { provider, catalog, logger } = await setup(emulator);
    const status = await provider.read();
    expect(status.outcome).toBe('applied');
    await expectConsistentCatalog(catalog.entities);
    // What was left out is named in the log, for an admin to fix in Entra.
    const warnings = logger.warn.mock.calls.map(c => String(c[0]));
    expect(warnings).toEqual([
      expect.stringContaining(`left out User ${OID.unnameable}`),
      expect.stringContaining(`left out Group ${OID.unnameableGroup}`),
    ]);

    const objects = byObjectId(catalog.entities);
    for (const [oid, name] of Object.entries(EXPECTED_NAMES)) {
      expect([oid, objects.get(oid)?.metadata.name]).toEqual([oid, name]);
    }
    // The organisation's name has no ASCII form: the root is named after
    // the tenant id, and every top-level group hangs off it.
    const root = objects.get(emulator.tenantId) as GroupEntity;
    expect(root.metadata.name).toBe(emulator.tenantId);
    expect(root.spec.children).toContain(`group:default/${OID.cjkGroup}`);
    // Every seeded object but the two no name can be made for.
    expect([...objects.keys()].sort()).toEqual(
      [
        ...emulator.seed.users.map(u => u.id),
        ...emulator.seed.groups.map(g => g.id),
        emulator.tenantId,
      ]
        .filter(id => id !== OID.unnameable && id !== OID.unnameableGroup)
        .sort(),
    );
    expect(status.rejected).toEqual({ users: 1, groups: 1 });
    expect(status.read).toMatchObject({
      users: emulator.seed.users.length - 1,
      groups: emulator.seed.groups.length, // + root - the unnameable group
    });

    // Memberships and nesting between named objects all arrive, under the
    // final names.
    const ref = (oid: string) =>
      `group:default/${objects.get(oid)!.metadata.name}`;
    const memberOf = (oid: string) =>
      (objects.get(oid) as UserEntity).spec.memberOf;
    expect(memberOf(OID.kimContoso)).toEqual(
      expect.arrayContaining([ref(OID.cjkGroup), ref(OID.unnameableChild)]),
    );
    expect(memberOf(OID.kimSuffixed)).toEqual([ref(OID.arabicGroup)]);
    expect(memberOf(OID.cjkUpn)).toEqual([ref(OID.frenchGroup)]);
    expect(memberOf(OID.ada)).toHaveLength(4);
    expect((objects.get(OID.frenchGroup) as GroupEntity).spec.parent).toBe(
      ref(OID.emojiGroup),
    );
    expect((objects.get(OID.emojiGroup) as GroupEntity).spec.children).toEqual([
      ref(OID.frenchGroup),
    ]);
    // The group that could not be named is no one's parent any more.
    expect(
      (objects.get(OID.unnameableChild) as GroupEntity).spec.parent,
    ).toBeUndefined();
  });

  it('names do not change from one run to the next', async () => {
    const first = await setup(emulator);
    await first.provider.read();
    const second = await setup(emulator);
    await second.provider.read();
    expect(second.catalog.entities.map(e => e.metadata.name)).toEqual(
      first.catalog.entities.map(e => e.metadata.name),
    );
  });

  it('refuses a run whose Graph answers every member list empty, until an admin allows it once', async () => {
    const { provider, catalog, store } = await setup(emulator);
    const applied = await provider.read();
    expect(applied.read!.memberships).toBeGreaterThan(10);
    const before = catalog.entities;

    // Users and groups all still there; only their memberships are gone.
    emulator.setFaults([
      { route: '/v1.0/groups/*/members', type: 'emptyDirectory' },
    ]);
    const refused = await provider.read();
    expect(refused.outcome).toBe('refused');
    expect(refused.read).toMatchObject({
      users: applied.read!.users,
      groups: applied.read!.groups,
      memberships: 0,
    });
    expect(refused.error).toMatch(/0 memberships/);
    expect(refused.error).toMatch(/allow-removal/);
    expect(catalog.entities).toBe(before);
    await expectConsistentCatalog(catalog.entities);

    // Also after a restart: the baseline is in the database.
    const restarted = await setup(emulator, { store });
    expect((await restarted.provider.read()).outcome).toBe('refused');
    expect(restarted.catalog.mutations).toBe(0);

    await restarted.provider.allowNextRemoval('user:default/ada.admin');
    const allowed = await restarted.provider.read();
    expect(allowed.outcome).toBe('applied');
    expect(allowed.removalAllowedBy).toBe('user:default/ada.admin');
    await expectConsistentCatalog(restarted.catalog.entities);
    expect(
      users(restarted.catalog.entities).flatMap(u => u.spec.memberOf ?? []),
    ).toEqual([]);

    // One run only: memberships back, then gone again, is refused again.
    emulator.clearFaults();
    expect((await restarted.provider.read()).outcome).toBe('applied');
    emulator.setFaults([
      { route: '/v1.0/groups/*/members', type: 'emptyDirectory' },
    ]);
    expect((await restarted.provider.read()).outcome).toBe('refused');
  });
});
