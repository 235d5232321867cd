import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import { runDoctor } from './doctor';

jest.setTimeout(60_000);

describe('yarn doctor against the emulator', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator?.close());

  const right = () => ({
    tenantId: emulator.tenantId,
    clientId: emulator.apps.portal.clientId,
    clientSecret: emulator.apps.portal.clientSecret,
    authorityHost: emulator.httpsUrl,
    graphUrl: emulator.graphBaseUrl,
    redirectUri: 'http://localhost:7007/api/auth/microsoft/handler/frame',
  });
  const failed = (checks: Awaited<ReturnType<typeof runDoctor>>) =>
    checks.filter(c => !c.ok);

  it('passes every check with the right settings', async () => {
    const checks = await runDoctor(right());
    expect(checks.map(c => c.name)).toEqual([
      'settings',
      'metadata',
      'client credentials',
      'graph permissions',
      'redirect uri',
      'graph read',
    ]);
    expect(failed(checks)).toEqual([]);
  });

  it('names a tenant id that is not a GUID', async () => {
    const checks = await runDoctor({ ...right(), tenantId: 'contoso.example' });
    expect(failed(checks)).toEqual([
      expect.objectContaining({
        name: 'settings',
        detail: expect.stringContaining(
          'AZURE_TENANT_ID must be the directory (tenant) id',
        ),
      }),
    ]);
  });

  it('says the client secret is wrong', async () => {
    const checks = await runDoctor({
      ...right(),
      clientSecret: 'not-the-secret',
    });
    expect(failed(checks)[0]).toEqual(
      expect.objectContaining({
        name: 'client credentials',
        detail: expect.stringContaining('client secret is wrong or expired'),
      }),
    );
  });

  it('says the redirect URI is not registered', async () => {
    const checks = await runDoctor({
      ...right(),
      redirectUri:
        'https://portal.contoso.example/api/auth/microsoft/handler/frame',
    });
    expect(failed(checks)).toEqual([
      expect.objectContaining({
        name: 'redirect uri',
        detail: expect.stringContaining('is not a redirect URI of the app'),
      }),
    ]);
  });

  it('names missing Graph application permissions', async () => {
    // The deploy API app has a secret but no Graph roles.
    const deployApi = emulator.seed.apps.find(
      a => a.clientId === emulator.apps.deployApi.clientId,
    )!;
    const checks = await runDoctor({
      ...right(),
      clientId: deployApi.clientId,
      clientSecret: deployApi.clientSecrets![0],
    });
    expect(failed(checks).map(c => c.name)).toContain('graph permissions');
    expect(checks.find(c => c.name === 'graph permissions')!.detail).toContain(
      'User.Read.All, GroupMember.Read.All',
    );
  });

  it('says when the authority cannot be reached', async () => {
    const checks = await runDoctor({
      ...right(),
      authorityHost: 'https://localhost:9',
    });
    expect(failed(checks)).toEqual([
      expect.objectContaining({
        name: 'metadata',
        detail: expect.stringContaining('cannot be reached'),
      }),
    ]);
  });
});
