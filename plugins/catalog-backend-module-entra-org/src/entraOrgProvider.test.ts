import { mockServices } from '@backstage/backend-test-utils';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import { EntityProviderConnection } from '@backstage/plugin-catalog-node';
import { createGraphClient, EntraOrgEntityProvider } from './entraOrgProvider';

describe('EntraOrgEntityProvider against the emulator', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator?.close());
  afterEach(() => emulator.clearFaults());

  function setup() {
    const config = {
      id: 'default',
      target: emulator.graphBaseUrl,
      authority: emulator.httpsUrl,
      tenantId: emulator.tenantId,
      clientId: emulator.apps.portal.clientId,
      clientSecret: emulator.apps.portal.clientSecret,
    };
    const connection = {
      applyMutation: jest.fn(),
      refresh: jest.fn(),
    } satisfies EntityProviderConnection;
    const provider = new EntraOrgEntityProvider({
      config,
      client: createGraphClient(config),
      logger: mockServices.logger.mock(),
      // Runs are driven by the test, one at a time.
      taskRunner: { run: async () => {} },
    });
    return { provider, connection };
  }

  it('ingests every seeded user and group with the oid annotation and nesting', async () => {
    const { provider, connection } = setup();
    await provider.connect(connection);
    const result = await provider.read();
    expect(result.outcome).toBe('applied');

    const entities = connection.applyMutation.mock.calls[0][0].entities.map(
      (e: any) => e.entity,
    );
    const users = entities.filter((e: any) => e.kind === 'User');
    const enabled = emulator.seed.users.filter(u => u.accountEnabled !== false);
    // Every enabled seeded person arrives, identified by their object id.
    const ids = users.map(
      (u: any) => u.metadata.annotations['graph.microsoft.com/user-id'],
    );
    for (const person of enabled) expect(ids).toContain(person.id);

    // Named after the UPN, not the mail: Quinn's mail is Ada's address.
    const byOid = (oid: string) =>
      users.find(
        (u: any) =>
          u.metadata.annotations['graph.microsoft.com/user-id'] === oid,
      );
    const ada = emulator.seed.users.find(u => u.displayName === 'Ada Admin')!;
    const quinn = emulator.seed.users.find(
      u => u.displayName === 'Quinn Quist',
    )!;
    expect(byOid(ada.id).metadata.name).toBe('ada.admin');
    expect(byOid(quinn.id).metadata.name).toBe('quinn.quist');
    // Disabled accounts are not ingested.
    const disabled = emulator.seed.users.filter(
      u => u.accountEnabled === false,
    );
    expect(disabled.length).toBeGreaterThan(0);
    for (const person of disabled) expect(byOid(person.id)).toBeUndefined();

    const group = (name: string) =>
      entities.find(
        (e: any) => e.kind === 'Group' && e.spec.profile?.displayName === name,
      );
    // platform-admins is nested in production-deployers
    expect(group('production-deployers').spec.children).toContain(
      `group:default/${group('platform-admins').metadata.name}`,
    );
  });

  it('keeps the catalog unchanged when Graph answers an empty directory', async () => {
    const { provider, connection } = setup();
    await provider.connect(connection);
    await provider.read();
    expect(connection.applyMutation).toHaveBeenCalledTimes(1);

    emulator.setFaults([{ route: '/v1.0/*', type: 'emptyDirectory' }]);
    const refused = await provider.read();
    expect(refused.outcome).toBe('refused');
    expect(connection.applyMutation).toHaveBeenCalledTimes(1);

    emulator.clearFaults();
    expect((await provider.read()).outcome).toBe('applied');
  });

  it('changes nothing when a Graph read fails mid-way', async () => {
    const { provider, connection } = setup();
    await provider.connect(connection);
    emulator.setFaults([{ route: '/v1.0/groups*', type: 'unavailable' }]);
    await expect(provider.read()).rejects.toThrow();
    expect(connection.applyMutation).not.toHaveBeenCalled();
  });
});
