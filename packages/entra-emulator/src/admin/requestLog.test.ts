import { EntraEmulator } from '../emulator';
import { EmulatorAdminClient } from '../testUtils/adminClient';
import { startTestEmulator } from '../testUtils/testEmulator';
import { graphAppToken } from '../testUtils/tokens';

describe('request counters', () => {
  let emulator: EntraEmulator;
  let admin: EmulatorAdminClient;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    admin = new EmulatorAdminClient(emulator);
  });
  afterAll(() => emulator.close());
  afterEach(() => emulator.clearFaults());

  it('records every Graph request in order with its query and caller, throttled and unauthenticated ones included', async () => {
    const token = await graphAppToken(emulator);
    await admin.clearGraphRequests();
    const auth = { authorization: `Bearer ${token}` };
    await fetch(`${emulator.graphBaseUrl}/users?$top=2&$select=id`, {
      headers: auth,
    });
    await fetch(`${emulator.httpUrl}/v1.0/groups`, { headers: auth });
    // Refused before any route ran: still counted, without a caller.
    expect((await fetch(`${emulator.graphBaseUrl}/users`)).status).toBe(401);
    await admin.setFaults([{ type: 'throttle', route: '/v1.0/organization' }]);
    expect(
      (await fetch(`${emulator.graphBaseUrl}/organization`, { headers: auth }))
        .status,
    ).toBe(429);
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.AAAA`;
    await fetch(`${emulator.graphBaseUrl}/me`, {
      headers: { authorization: `Bearer ${forged}` },
    });

    const requests = await admin.graphRequests();
    const portal = emulator.apps.portal.clientId;
    expect(requests.map(r => [r.method, r.path, r.clientId])).toEqual([
      ['GET', '/v1.0/users?$top=2&$select=id', portal],
      ['GET', '/v1.0/groups', portal],
      ['GET', '/v1.0/users', undefined],
      ['GET', '/v1.0/organization', portal],
      ['GET', '/v1.0/me', undefined],
    ]);
    for (const r of requests) expect(Date.parse(r.at)).not.toBeNaN();
    expect(emulator.graphRequests()).toEqual(requests);

    await admin.clearGraphRequests();
    expect(await admin.graphRequests()).toEqual([]);
    emulator.clearGraphRequests();
    expect(emulator.graphRequests()).toEqual([]);
  });

  it('does not count token or admin requests as Graph requests', async () => {
    emulator.clearGraphRequests();
    await graphAppToken(emulator);
    await admin.deployCalls();
    expect(emulator.graphRequests()).toEqual([]);
  });

  it('serves the token requests, without secrets, to another process', async () => {
    await graphAppToken(emulator);
    const requests = await admin.tokenRequests();
    expect(requests.length).toBeGreaterThan(0);
    expect(requests[requests.length - 1]).toMatchObject({
      grantType: 'client_credentials',
      clientId: emulator.apps.portal.clientId,
      tenant: emulator.tenantId,
    });
    expect(requests).toEqual(emulator.tokenRequests());
    expect(JSON.stringify(requests)).not.toContain(
      emulator.apps.portal.clientSecret,
    );
  });
});
