import { EntraEmulator } from '../emulator';
import { startTestEmulator } from '../testUtils/testEmulator';
import {
  graphAppToken,
  obtainCode,
  postToken,
  redeem,
} from '../testUtils/tokens';

const CARLA = '5a9214bd-9425-4fb9-9a9d-bbdfb8789017';

describe('sample deploy API', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator.close());

  const deploy = (token?: string) =>
    fetch(`${emulator.deployApiUrl}/deployments`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ service: 'checkout' }),
    });

  async function oboToken() {
    const { code, verifier } = await obtainCode(emulator, CARLA, {
      scope: `openid ${emulator.apps.portal.apiScope}`,
    });
    const assertion = (await redeem(emulator, code, verifier)).body
      .access_token;
    const { body } = await postToken(emulator, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      client_id: emulator.apps.portal.clientId,
      client_secret: emulator.apps.portal.clientSecret,
      assertion,
      scope: emulator.apps.deployApi.scope,
    });
    return body.access_token as string;
  }

  it('refuses a missing token and a token for another audience (401)', async () => {
    expect((await deploy()).status).toBe(401);
    expect((await deploy(await graphAppToken(emulator))).status).toBe(401);
  });

  it('refuses an app-only token for it (403)', async () => {
    const { body } = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.apps.portal.clientId,
      client_secret: emulator.apps.portal.clientSecret,
      scope: `api://${emulator.apps.deployApi.clientId}/.default`,
    });
    expect((await deploy(body.access_token)).status).toBe(403);
  });

  it('records who called with an on-behalf-of token, readable through the admin endpoint', async () => {
    const res = await deploy(await oboToken());
    expect(res.status).toBe(202);
    const recorded = await (
      await fetch(`${emulator.httpUrl}/_emulator/deploy-calls`)
    ).json();
    expect(recorded.calls).toEqual([
      expect.objectContaining({
        oid: CARLA,
        tid: emulator.tenantId,
        name: 'Carla Chen',
        scopes: ['deploy'],
        method: 'POST',
        path: '/deployments',
        payload: { service: 'checkout' },
      }),
    ]);
    expect(emulator.deployCalls()).toEqual(recorded.calls);
  });

  it('records token requests by grant, client and scope, without secrets', () => {
    const obo = emulator
      .tokenRequests()
      .filter(
        r => r.grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      );
    expect(obo).toEqual([
      expect.objectContaining({
        clientId: emulator.apps.portal.clientId,
        scope: emulator.apps.deployApi.scope,
        tenant: emulator.tenantId,
      }),
    ]);
    expect(JSON.stringify(emulator.tokenRequests())).not.toContain(
      emulator.apps.portal.clientSecret,
    );
  });
});
