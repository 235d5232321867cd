import { EntraEmulator } from '../emulator';
import { createSelfSignedCertificate } from '../credentials/certificates';
import { EmulatorAdminClient } from '../testUtils/adminClient';
import { startTestEmulator } from '../testUtils/testEmulator';
import { delegatedToken, graphAppToken } from '../testUtils/tokens';

const ADA = 'f8efe4b8-7e3a-44e7-b513-87eab4796311';

describe('Graph applications', () => {
  let emulator: EntraEmulator;
  let admin: EmulatorAdminClient;
  let token: string;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    admin = new EmulatorAdminClient(emulator);
    token = await graphAppToken(emulator);
  });
  afterAll(() => emulator.close());

  async function get(path: string, bearer = token) {
    const res = await fetch(`${emulator.graphBaseUrl}${path}`, {
      headers: { authorization: `Bearer ${bearer}` },
    });
    return { status: res.status, body: await res.json() };
  }

  it("answers the portal's own application by appId with its credentials' expiry, never a secret", async () => {
    const portal = emulator.apps.portal;
    const { status, body } = await get(
      `/applications(appId='${portal.clientId}')`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      appId: portal.clientId,
      displayName: 'Backstage portal',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      keyCredentials: [],
      passwordCredentials: [
        {
          hint: portal.clientSecret.slice(0, 3),
          secretText: null,
          keyId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          startDateTime: expect.any(String),
          endDateTime: expect.any(String),
        },
      ],
    });
    expect(body.id).not.toBe(portal.clientId);
    // A string secret in the seed expires two years after the emulator started.
    const { startDateTime, endDateTime } = body.passwordCredentials[0];
    const years =
      (Date.parse(endDateTime) - Date.parse(startDateTime)) /
      (365 * 24 * 3600 * 1000);
    expect(years).toBeCloseTo(2, 5);
    expect(JSON.stringify(body)).not.toContain(portal.clientSecret);
  });

  it('lists a registered certificate as Graph does (thumbprint, validity) and follows its removal', async () => {
    const cert = createSelfSignedCertificate({
      commonName: 'portal-prod',
      notAfter: new Date('2030-01-31T00:00:00Z'),
    });
    const { thumbprint } = await admin.addAppCertificate(
      'portal',
      cert.certificatePem,
    );
    const byAppId = await get(
      `/applications(appId='${emulator.apps.portal.clientId}')`,
    );
    expect(byAppId.body.keyCredentials).toEqual([
      {
        customKeyIdentifier: thumbprint,
        displayName: 'CN=portal-prod',
        endDateTime: '2030-01-31T00:00:00.000Z',
        key: null,
        keyId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        startDateTime: expect.any(String),
        type: 'AsymmetricX509Cert',
        usage: 'Verify',
      },
    ]);
    // The same object by object id.
    const byId = await get(`/applications/${byAppId.body.id}`);
    expect(byId.body.keyCredentials).toEqual(byAppId.body.keyCredentials);

    await admin.removeAppCertificate('portal', thumbprint.toLowerCase());
    expect(
      (await get(`/applications/${byAppId.body.id}`)).body.keyCredentials,
    ).toEqual([]);
  });

  it("filters by appId eq '…' and honours $select", async () => {
    const { clientId } = emulator.apps.deployApi;
    const { status, body } = await get(
      `/applications?$filter=appId eq '${clientId}'&$select=id,appId,passwordCredentials`,
    );
    expect(status).toBe(200);
    expect(body.value).toHaveLength(1);
    expect(Object.keys(body.value[0]).sort()).toEqual([
      'appId',
      'id',
      'passwordCredentials',
    ]);
    expect(body.value[0].appId).toBe(clientId);
    const all = await get('/applications');
    expect(all.body.value.map((a: { appId: string }) => a.appId)).toEqual(
      expect.arrayContaining([clientId, emulator.apps.portal.clientId]),
    );
  });

  it('serves federated identity credentials as their own resource', async () => {
    await admin.addFederatedCredential('portal', {
      issuer: 'https://oidc.prod-aks.example/tenant/cluster/',
      subject: 'system:serviceaccount:portal:backstage',
    });
    try {
      const app = await get(
        `/applications(appId='${emulator.apps.portal.clientId}')`,
      );
      expect(app.body.federatedIdentityCredentials).toBeUndefined();
      const { status, body } = await get(
        `/applications/${app.body.id}/federatedIdentityCredentials`,
      );
      expect(status).toBe(200);
      expect(body.value).toEqual([
        {
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          name: expect.any(String),
          issuer: 'https://oidc.prod-aks.example/tenant/cluster/',
          subject: 'system:serviceaccount:portal:backstage',
          audiences: ['api://AzureADTokenExchange'],
          description: null,
        },
      ]);
    } finally {
      await admin.clearFederatedCredentials('portal');
    }
  });

  it('refuses callers without Application.Read.All with 403 Authorization_RequestDenied, and unknown apps with 404', async () => {
    // The deploy API app has no Graph roles; a person's delegated token has no app role.
    const deployToken = await graphAppToken(
      emulator,
      emulator.apps.deployApi.clientId,
      'emulator-only-deploy-api-secret',
    );
    const personToken = await delegatedToken(
      emulator,
      ADA,
      'https://graph.microsoft.com/User.Read',
    );
    for (const bearer of [deployToken, personToken]) {
      const { status, body } = await get('/applications', bearer);
      expect(status).toBe(403);
      expect(body.error.code).toBe('Authorization_RequestDenied');
    }
    const missing = await get(
      "/applications(appId='00000000-0000-0000-0000-000000000001')",
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('Request_ResourceNotFound');
    const unauthenticated = await fetch(
      `${emulator.graphBaseUrl}/applications`,
    );
    expect(unauthenticated.status).toBe(401);
  });
});
