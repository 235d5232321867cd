import { ClientSecretCredential } from '@azure/identity';
import {
  MicrosoftGraphClient,
  readMicrosoftGraphOrg,
} from '@backstage/plugin-catalog-backend-module-msgraph';
import { EntraEmulator } from '../emulator';
import {
  recordConnections,
  startTestEmulator,
} from '../testUtils/testEmulator';

const logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => logger,
} as any;

describe('upstream readMicrosoftGraphOrg against the emulator', () => {
  let emulator: EntraEmulator;
  let connections: ReturnType<typeof recordConnections>;

  beforeAll(async () => {
    connections = recordConnections();
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator.close();
    connections.restore();
  });

  function graphClient() {
    const credential = new ClientSecretCredential(
      emulator.tenantId,
      emulator.apps.portal.clientId,
      emulator.apps.portal.clientSecret,
      { authorityHost: emulator.httpsUrl, disableInstanceDiscovery: true },
    );
    return new MicrosoftGraphClient(emulator.graphBaseUrl, credential);
  }

  function expectWholeOrg(
    result: Awaited<ReturnType<typeof readMicrosoftGraphOrg>>,
  ) {
    const enabled = emulator.seed.users.filter(u => u.accountEnabled !== false);
    expect(result.users).toHaveLength(enabled.length);
    // Every seeded group (the generated overage groups included) plus the tenant root.
    expect(result.groups).toHaveLength(emulator.seed.groups.length + 1);
    const byName = new Map(result.groups.map(g => [g.metadata.name, g]));
    expect(byName.get('payments')!.spec.children).toContain(
      'group:default/payments-api',
    );
    expect(byName.get('production-deployers')!.spec.children).toContain(
      'group:default/platform-admins',
    );
    const ada = result.users.find(
      u =>
        u.metadata.annotations!['graph.microsoft.com/user-id'] ===
        'f8efe4b8-7e3a-44e7-b513-87eab4796311',
    )!;
    expect(ada.spec.memberOf).toEqual(
      expect.arrayContaining([
        'group:default/platform-admins',
        'group:default/platform-team',
      ]),
    );
    expect(ada.spec.profile!.picture).toMatch(/^data:image\/jpeg;base64,/);
    const noah = result.users.find(
      u => u.spec.profile?.displayName === 'Noah Novak',
    )!;
    expect(noah.spec.memberOf!.length).toBeGreaterThan(200);
    expect(
      result.users.find(u => u.spec.profile?.displayName === 'Pete Parker'),
    ).toBeUndefined();
  }

  it('reads the whole seeded org in basic mode (photos on)', async () => {
    const result = await readMicrosoftGraphOrg(
      graphClient(),
      emulator.tenantId,
      {
        logger,
        loadUserPhotos: true,
      },
    );
    expectWholeOrg(result);
  });

  it('reads the whole seeded org in advanced mode', async () => {
    const result = await readMicrosoftGraphOrg(
      graphClient(),
      emulator.tenantId,
      {
        logger,
        queryMode: 'advanced',
        userFilter: "accountEnabled eq true and userType ne 'Guest'",
        groupFilter: 'securityEnabled eq true',
        loadUserPhotos: true,
      },
    );
    const members = emulator.seed.users.filter(
      u => u.accountEnabled !== false && u.userType !== 'Guest',
    );
    expect(result.users).toHaveLength(members.length);
    expect(result.groups).toHaveLength(emulator.seed.groups.length + 1);
  });

  it('reads users through group membership with $search (advanced)', async () => {
    const result = await readMicrosoftGraphOrg(
      graphClient(),
      emulator.tenantId,
      {
        logger,
        queryMode: 'advanced',
        userGroupMemberSearch: '"displayName:payments"',
        loadUserPhotos: false,
      },
    );
    // payments (Carla, Dev; Pete is disabled) and payments-api (Eve, Frank).
    expect(result.users.map(u => u.spec.profile!.displayName).sort()).toEqual([
      'Carla Chen',
      'Dev Patel',
      'Eve Ellis',
      'Frank Fisher',
    ]);
  });

  it('pages through members with absolute nextLinks', async () => {
    const client = graphClient();
    const noahGroups = [];
    for await (const g of client.getGroups({
      top: 7,
      filter: "startswith(displayName,'lab-')",
    })) {
      noahGroups.push(g);
    }
    expect(noahGroups).toHaveLength(210);
  });

  // Declared last, so it runs after every request of the suite was made.
  it('sent no request off loopback', () => {
    expect(connections.hosts.length).toBeGreaterThan(0);
    expect(connections.nonLoopback()).toEqual([]);
  });
});
