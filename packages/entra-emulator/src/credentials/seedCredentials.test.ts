import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { EntraEmulator } from '../emulator';
import { loadSeed } from '../seed/loadSeed';
import { startTestEmulator } from '../testUtils/testEmulator';
import { graphAppToken, postToken } from '../testUtils/tokens';
import { JWT_BEARER_ASSERTION } from '../oidc/clientAuth';
import {
  startWorkloadIdentityIssuer,
  WorkloadIdentityIssuer,
} from '../workloadIdentity/issuer';
import { createSelfSignedCertificate } from './certificates';

const SUBJECT = 'system:serviceaccount:ci:deployer';

describe('credentials registered in the seed', () => {
  const cert = createSelfSignedCertificate({ commonName: 'seeded' });
  let issuer: WorkloadIdentityIssuer;
  let emulator: EntraEmulator;

  beforeAll(async () => {
    issuer = await startWorkloadIdentityIssuer();
    const seed = loadSeed();
    const deployApi = seed.apps.find(a => a.key === 'deployApi')!;
    Object.assign(deployApi, {
      clientSecrets: [
        {
          value: 'long-gone',
          endDateTime: '2020-01-01T00:00:00Z',
          displayName: 'old',
        },
      ],
      certificates: [{ certificatePem: cert.certificatePem }],
      federatedIdentityCredentials: [
        {
          name: 'ci',
          issuer: issuer.issuer,
          subject: SUBJECT,
          audiences: ['api://custom-exchange'],
        },
      ],
    });
    emulator = await startTestEmulator({ seed });
  });
  afterAll(async () => {
    await emulator.close();
    await issuer.close();
  });

  function clientCredentials(form: Record<string, string>) {
    return postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.apps.deployApi.clientId,
      scope: `api://${emulator.apps.portal.clientId}/.default`,
      ...form,
    });
  }

  it('refuses a seeded secret past its endDateTime (AADSTS7000222) and shows that date in Graph', async () => {
    const { body } = await clientCredentials({ client_secret: 'long-gone' });
    expect(body.error_codes).toEqual([7000222]);
    const res = await fetch(
      `${emulator.graphBaseUrl}/applications(appId='${emulator.apps.deployApi.clientId}')`,
      {
        headers: {
          authorization: `Bearer ${await graphAppToken(emulator)}`,
        },
      },
    );
    const app = await res.json();
    expect(app.passwordCredentials).toEqual([
      expect.objectContaining({
        displayName: 'old',
        hint: 'lon',
        endDateTime: '2020-01-01T00:00:00.000Z',
      }),
    ]);
    expect(app.keyCredentials).toEqual([
      expect.objectContaining({
        customKeyIdentifier: cert.thumbprintSha1Hex,
        displayName: 'CN=seeded',
      }),
    ]);
  });

  it('accepts an assertion signed by the seeded certificate', async () => {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({
      iss: emulator.apps.deployApi.clientId,
      sub: emulator.apps.deployApi.clientId,
      aud: `${emulator.httpsUrl}/contoso.example/oauth2/v2.0/token`,
      jti: randomUUID(),
      exp: now + 300,
    })
      .setProtectedHeader({
        alg: 'RS256',
        'x5t#S256': cert.thumbprintSha256Base64Url,
      })
      .sign(createPrivateKey(cert.privateKeyPem));
    const { status } = await clientCredentials({
      client_assertion_type: JWT_BEARER_ASSERTION,
      client_assertion: assertion,
    });
    expect(status).toBe(200);
  });

  it("accepts a federated token only for the seeded credential's own audience", async () => {
    const send = async (audience?: string) =>
      clientCredentials({
        client_assertion_type: JWT_BEARER_ASSERTION,
        client_assertion: await issuer.mintToken({
          subject: SUBJECT,
          audience,
        }),
      });
    expect((await send('api://custom-exchange')).status).toBe(200);
    // The default audience is not trusted when the credential names another.
    expect((await send()).body.error_codes).toEqual([700212]);
  });

  it('refuses a seed whose secret or federated credential is incomplete, naming the app and entry', () => {
    const seed = loadSeed();
    seed.apps[0].clientSecrets = [
      'ok',
      { value: 'x', endDateTime: 'soon' } as never,
    ];
    expect(() => loadSeed(seed)).toThrow(
      "Seed app 'portal' clientSecrets[1] must be a string or { value, endDateTime (ISO 8601), displayName? }",
    );
    const other = loadSeed();
    other.apps[1].federatedIdentityCredentials = [
      { issuer: 'https://issuer.example' } as never,
    ];
    expect(() => loadSeed(other)).toThrow(
      "Seed app 'deployApi' federatedIdentityCredentials[0] must set issuer and subject",
    );
  });

  it('refuses to start with a seeded certificate that is not one, naming the app and entry', async () => {
    const seed = loadSeed();
    seed.apps[0].certificates = [{ certificatePem: cert.pem }];
    await expect(startTestEmulator({ seed })).rejects.toThrow(
      "Seed app 'portal' certificates[0]: Send the certificate only",
    );
  });
});
