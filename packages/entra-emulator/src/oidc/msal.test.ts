import { ClientSecretCredential } from '@azure/identity';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { generators, Issuer } from 'openid-client';
import { EntraEmulator } from '../emulator';
import {
  recordConnections,
  startTestEmulator,
} from '../testUtils/testEmulator';
import { signInThroughBrowser } from '../testUtils/browser';

const ADA = 'f8efe4b8-7e3a-44e7-b513-87eab4796311';

function decode(token: string) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

describe('Microsoft clients against the emulator', () => {
  let emulator: EntraEmulator;
  let connections: ReturnType<typeof recordConnections>;

  // Sockets are kept alive between tests, so connections are recorded for
  // the whole suite and checked once at the end.
  beforeAll(async () => {
    connections = recordConnections();
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator.close();
    connections.restore();
  });

  function msalApp() {
    const { portal } = emulator.apps;
    return new ConfidentialClientApplication({
      auth: {
        clientId: portal.clientId,
        clientSecret: portal.clientSecret,
        authority: emulator.authority,
        // Routes instance discovery to the emulator instead of login.microsoftonline.com.
        knownAuthorities: [new URL(emulator.httpsUrl).host],
      },
    });
  }

  /** A delegated token for the portal's API, as the portal's frontend obtains it. */
  async function portalApiTokenForAda(): Promise<string> {
    const issuer = await Issuer.discover(emulator.metadataUrl);
    const { portal } = emulator.apps;
    const client = new issuer.Client({
      client_id: portal.clientId,
      client_secret: portal.clientSecret,
      redirect_uris: [portal.redirectUris[0]],
      response_types: ['code'],
    });
    const verifier = generators.codeVerifier();
    const url = client.authorizationUrl({
      scope: `openid ${portal.apiScope}`,
      code_challenge: generators.codeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const res = await signInThroughBrowser(url, ADA);
    const tokens = await client.callback(
      portal.redirectUris[0],
      client.callbackParams(res.headers.get('location')!),
      { code_verifier: verifier },
    );
    return tokens.access_token!;
  }

  it('@azure/identity ClientSecretCredential gets a Graph app token', async () => {
    const credential = new ClientSecretCredential(
      emulator.tenantId,
      emulator.apps.portal.clientId,
      emulator.apps.portal.clientSecret,
      { authorityHost: emulator.httpsUrl, disableInstanceDiscovery: true },
    );
    const token = await credential.getToken(
      'https://graph.microsoft.com/.default',
    );
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now());
    expect(decode(token.token)).toMatchObject({
      aud: '00000003-0000-0000-c000-000000000000',
      iss: emulator.issuer,
      tid: emulator.tenantId,
      roles: ['User.Read.All', 'GroupMember.Read.All', 'Application.Read.All'],
      idtyp: 'app',
    });
  });

  it('@azure/identity gets a token for the scope the msgraph client asks for', async () => {
    const credential = new ClientSecretCredential(
      emulator.tenantId,
      emulator.apps.portal.clientId,
      emulator.apps.portal.clientSecret,
      { authorityHost: emulator.httpsUrl, disableInstanceDiscovery: true },
    );
    // The upstream msgraph client asks for `<graph origin>/.default`.
    const token = await credential.getToken('https://localhost/.default');
    expect(decode(token.token).aud).toBe(
      '00000003-0000-0000-c000-000000000000',
    );
  });

  it("msal-node takes cloud discovery metadata from the emulator's instance discovery", async () => {
    const discovery = await fetch(
      `${emulator.httpsUrl}/common/discovery/instance?api-version=1.1&authorization_endpoint=${emulator.authority}/oauth2/v2.0/authorize`,
    );
    const { portal } = emulator.apps;
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: portal.clientId,
        clientSecret: portal.clientSecret,
        authority: emulator.authority,
        cloudDiscoveryMetadata: await discovery.text(),
      },
    });
    const result = await app.acquireTokenByClientCredential({
      scopes: ['https://graph.microsoft.com/.default'],
    });
    expect(decode(result!.accessToken).iss).toBe(emulator.issuer);
  });

  it('msal-node acquireTokenByClientCredential returns roles', async () => {
    const result = await msalApp().acquireTokenByClientCredential({
      scopes: ['https://graph.microsoft.com/.default'],
    });
    expect(decode(result!.accessToken).roles).toEqual([
      'User.Read.All',
      'GroupMember.Read.All',
      'Application.Read.All',
    ]);
    expect(decode(result!.accessToken).tid).toBe(emulator.tenantId);
  });

  it('msal-node acquireTokenOnBehalfOf keeps the user and calls the deploy API', async () => {
    const userToken = await portalApiTokenForAda();
    const result = await msalApp().acquireTokenOnBehalfOf({
      oboAssertion: userToken,
      scopes: [emulator.apps.deployApi.scope],
    });
    const claims = decode(result!.accessToken);
    expect(claims).toMatchObject({
      aud: emulator.apps.deployApi.clientId,
      oid: ADA,
      tid: emulator.tenantId,
      scp: 'deploy',
      azp: emulator.apps.portal.clientId,
      name: 'Ada Admin',
    });
    const res = await fetch(`${emulator.deployApiUrl}/deployments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${result!.accessToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ service: 'payments', environment: 'production' }),
    });
    expect(res.status).toBe(202);
    expect(emulator.deployCalls()).toEqual([
      expect.objectContaining({
        oid: ADA,
        name: 'Ada Admin',
        clientId: emulator.apps.portal.clientId,
        payload: { service: 'payments', environment: 'production' },
      }),
    ]);
  });

  it('msal-node on-behalf-of is refused for an app-only assertion', async () => {
    const app = msalApp();
    const appToken = await app.acquireTokenByClientCredential({
      scopes: [`api://${emulator.apps.portal.clientId}/.default`],
    });
    await expect(
      app.acquireTokenOnBehalfOf({
        oboAssertion: appToken!.accessToken,
        scopes: [emulator.apps.deployApi.scope],
      }),
    ).rejects.toMatchObject({
      errorCode: 'invalid_grant',
      errorMessage: expect.stringContaining('AADSTS7000114'),
    });
  });

  it('msal-node on-behalf-of with an ID token as assertion gets AADSTS240002, as from Entra', async () => {
    const issuer = await Issuer.discover(emulator.metadataUrl);
    const { portal } = emulator.apps;
    const client = new issuer.Client({
      client_id: portal.clientId,
      client_secret: portal.clientSecret,
      redirect_uris: [portal.redirectUris[0]],
      response_types: ['code'],
    });
    const verifier = generators.codeVerifier();
    const nonce = generators.nonce();
    const url = client.authorizationUrl({
      scope: 'openid profile',
      nonce,
      code_challenge: generators.codeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const res = await signInThroughBrowser(url, ADA);
    const tokens = await client.callback(
      portal.redirectUris[0],
      client.callbackParams(res.headers.get('location')!),
      { code_verifier: verifier, nonce },
    );
    // An ID token's audience is the portal itself, the caller of the exchange.
    expect(decode(tokens.id_token!).aud).toBe(portal.clientId);
    await expect(
      msalApp().acquireTokenOnBehalfOf({
        oboAssertion: tokens.id_token!,
        scopes: [emulator.apps.deployApi.scope],
      }),
    ).rejects.toMatchObject({
      errorCode: 'invalid_request',
      errorMessage: expect.stringContaining(
        "AADSTS240002: Input id_token cannot be used as 'urn:ietf:params:oauth:grant-type:jwt-bearer' grant.",
      ),
    });
  });

  // Declared last, so it runs after every request of the suite was made.
  it('sent no request off loopback', () => {
    expect(connections.hosts.length).toBeGreaterThan(0);
    expect(connections.nonLoopback()).toEqual([]);
  });
});
