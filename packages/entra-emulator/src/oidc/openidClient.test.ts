import { generators, Issuer } from 'openid-client';
import { EntraEmulator } from '../emulator';
import {
  recordConnections,
  startTestEmulator,
} from '../testUtils/testEmulator';
import { signInThroughBrowser } from '../testUtils/browser';

const ADA = 'f8efe4b8-7e3a-44e7-b513-87eab4796311';
const NOAH = '624c2e31-89ca-4f90-97d7-07c6c7c29a6a';
const MAYA = '6ea9abb1-6a4b-4b9e-bc96-767dfd4606a2';

describe('openid-client v5 against the emulator', () => {
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

  async function client() {
    const issuer = await Issuer.discover(emulator.metadataUrl);
    const { portal } = emulator.apps;
    return new issuer.Client({
      client_id: portal.clientId,
      client_secret: portal.clientSecret,
      redirect_uris: [portal.redirectUris[0]],
      response_types: ['code'],
    });
  }

  async function signIn(
    user: string,
    scope = 'openid profile email offline_access',
  ) {
    const c = await client();
    const codeVerifier = generators.codeVerifier();
    const nonce = generators.nonce();
    const state = generators.state();
    const url = c.authorizationUrl({
      scope,
      code_challenge: generators.codeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      nonce,
      state,
    });
    const res = await signInThroughBrowser(url, user);
    expect(res.status).toBe(302);
    const redirect = res.headers.get('location')!;
    const params = c.callbackParams(redirect);
    const tokens = await c.callback(
      emulator.apps.portal.redirectUris[0],
      params,
      {
        code_verifier: codeVerifier,
        nonce,
        state,
      },
    );
    return { c, tokens };
  }

  it('discovers Entra-shaped metadata with browser endpoints on http', async () => {
    const issuer = await Issuer.discover(emulator.metadataUrl);
    expect(issuer.metadata.issuer).toBe(emulator.issuer);
    expect(issuer.metadata.authorization_endpoint).toBe(
      `${emulator.httpUrl}/${emulator.tenantId}/oauth2/v2.0/authorize`,
    );
    expect(issuer.metadata.end_session_endpoint).toMatch(
      /^http:\/\/localhost:\d+\//,
    );
    expect(issuer.metadata.token_endpoint).toMatch(
      /^https:\/\/localhost:\d+\//,
    );
    expect(issuer.metadata.jwks_uri).toMatch(/^https:\/\//);
    expect(issuer.metadata.x_entra_emulator).toBe(true);
    // The same document on the http listener, still naming the https issuer.
    const viaHttp = await Issuer.discover(
      `${emulator.httpUrl}/${emulator.tenantId}/v2.0/.well-known/openid-configuration`,
    );
    expect(viaHttp.metadata.issuer).toBe(emulator.issuer);
  });

  it('signs in with code + PKCE (S256) + nonce and validates the ID token', async () => {
    const { tokens } = await signIn(ADA);
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      iss: emulator.issuer,
      aud: emulator.apps.portal.clientId,
      tid: emulator.tenantId,
      oid: ADA,
      name: 'Ada Admin',
      preferred_username: 'ada.admin@contoso.example',
      upn: 'ada.admin@contoso.example',
      email: 'ada.admin@contoso.example',
      ver: '2.0',
    });
    expect(claims.sub).not.toBe(ADA);
    expect(claims.groups).toEqual(
      expect.arrayContaining([
        '1589d284-0219-4e52-a398-382f1750e29f', // platform-admins
        '58418877-d05a-4a34-8b41-598fa41e1420', // production-deployers, through nesting
      ]),
    );
    expect(tokens.refresh_token).toBeTruthy();
  });

  it('leaves out email for a person without mail', async () => {
    const { tokens } = await signIn(MAYA);
    expect(tokens.claims().email).toBeUndefined();
    expect(tokens.claims().oid).toBe(MAYA);
  });

  it('sends the groups overage marker past 200 groups', async () => {
    const { tokens } = await signIn(NOAH);
    const claims = tokens.claims() as any;
    expect(claims.groups).toBeUndefined();
    expect(claims._claim_names).toEqual({ groups: 'src1' });
    expect(claims._claim_sources.src1.endpoint).toBe(
      `${emulator.graphBaseUrl}/users/${NOAH}/getMemberObjects`,
    );
  });

  it('refreshes with rotation and refuses the superseded refresh token', async () => {
    const { c, tokens } = await signIn(ADA);
    const refreshed = await c.refresh(tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims().oid).toBe(ADA);
    await expect(c.refresh(tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const again = await c.refresh(refreshed.refresh_token!);
    expect(again.access_token).toBeTruthy();
  });

  it('answers userinfo for the Graph access token', async () => {
    const { c, tokens } = await signIn(ADA);
    const info = await c.userinfo(tokens.access_token!);
    expect(info).toMatchObject({
      name: 'Ada Admin',
      email: 'ada.admin@contoso.example',
    });
    expect(info.sub).toBe(tokens.claims().sub);
  });

  it('issues a token for the portal API scope (a resource scope)', async () => {
    const { tokens } = await signIn(
      ADA,
      `openid offline_access ${emulator.apps.portal.apiScope}`,
    );
    const payload = JSON.parse(
      Buffer.from(tokens.access_token!.split('.')[1], 'base64url').toString(),
    );
    expect(payload).toMatchObject({
      aud: emulator.apps.portal.clientId,
      scp: 'access_as_user',
      oid: ADA,
      tid: emulator.tenantId,
    });
    expect(tokens.scope).toContain(emulator.apps.portal.apiScope);
  });

  // Declared last, so it runs after every request of the suite was made.
  it('sent no request off loopback', () => {
    expect(connections.hosts.length).toBeGreaterThan(0);
    expect(connections.nonLoopback()).toEqual([]);
  });
});
