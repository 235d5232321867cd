import { ConfidentialClientApplication } from '@azure/msal-node';
import { generators, Issuer } from 'openid-client';
import { EntraEmulator } from '../emulator';
import { loadSeed } from '../seed/loadSeed';
import { signInThroughBrowser } from '../testUtils/browser';
import { startTestEmulator } from '../testUtils/testEmulator';
import { decodeJwt } from '../testUtils/tokens';

const FABRIKAM = '0b583716-e27a-46fe-bfd6-34162f9d604e';
const FARAH = '059c67b4-8853-45c3-aed8-d2c149899386';
const ADA = 'f8efe4b8-7e3a-44e7-b513-87eab4796311';

describe('multi-tenant authorities: /common, /organizations and a second tenant', () => {
  let emulator: EntraEmulator;

  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator.close());

  function authorizeAt(
    segment: string,
    extra: Record<string, string> = {},
  ): { url: string; verifier: string } {
    const verifier = generators.codeVerifier();
    const params = new URLSearchParams({
      client_id: emulator.apps.portal.clientId,
      redirect_uri: emulator.apps.portal.redirectUris[0],
      response_type: 'code',
      scope: 'openid profile offline_access',
      code_challenge: generators.codeChallenge(verifier),
      code_challenge_method: 'S256',
      ...extra,
    });
    return {
      url: `${emulator.httpUrl}/${segment}/oauth2/v2.0/authorize?${params}`,
      verifier,
    };
  }

  async function tokenAt(segment: string, form: Record<string, string>) {
    const res = await fetch(
      `${emulator.httpUrl}/${segment}/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: emulator.apps.portal.clientId,
          client_secret: emulator.apps.portal.clientSecret,
          ...form,
        }).toString(),
      },
    );
    return { status: res.status, body: await res.json() };
  }

  async function codeAt(segment: string, user: string) {
    const { url, verifier } = authorizeAt(segment);
    const res = await signInThroughBrowser(url, user);
    expect(res.status).toBe(302);
    const code = new URL(res.headers.get('location')!).searchParams.get(
      'code',
    )!;
    return { code, verifier };
  }

  function redeemAt(segment: string, code: string, verifier: string) {
    return tokenAt(segment, {
      grant_type: 'authorization_code',
      redirect_uri: emulator.apps.portal.redirectUris[0],
      code,
      code_verifier: verifier,
      client_info: '1',
    });
  }

  it.each(['common', 'organizations'])(
    '/%s discovery has the templated issuer and endpoints under that path',
    async segment => {
      const doc = await (
        await fetch(
          `${emulator.httpsUrl}/${segment}/v2.0/.well-known/openid-configuration`,
        )
      ).json();
      expect(doc.issuer).toBe(`${emulator.httpsUrl}/{tenantid}/v2.0`);
      expect(doc.authorization_endpoint).toBe(
        `${emulator.httpUrl}/${segment}/oauth2/v2.0/authorize`,
      );
      expect(doc.token_endpoint).toBe(
        `${emulator.httpsUrl}/${segment}/oauth2/v2.0/token`,
      );
      expect(doc.jwks_uri).toBe(
        `${emulator.httpsUrl}/${segment}/discovery/v2.0/keys`,
      );
      expect(doc.tenant_region_scope).toBeNull();
      const keys = await (await fetch(doc.jwks_uri)).json();
      const homeKeys = await (
        await fetch(`${emulator.authority}/discovery/v2.0/keys`)
      ).json();
      expect(keys).toEqual(homeKeys);
    },
  );

  it('the second tenant has its own discovery document and issuer, by id or domain', async () => {
    for (const segment of [FABRIKAM, 'fabrikam.example']) {
      const doc = await (
        await fetch(
          `${emulator.httpsUrl}/${segment}/v2.0/.well-known/openid-configuration`,
        )
      ).json();
      expect(doc.issuer).toBe(`${emulator.httpsUrl}/${FABRIKAM}/v2.0`);
      expect(doc.token_endpoint).toBe(
        `${emulator.httpsUrl}/${FABRIKAM}/oauth2/v2.0/token`,
      );
    }
  });

  it.each(['common', 'organizations'])(
    'signing in through /%s issues tokens with the person’s own tenant in iss and tid',
    async segment => {
      const farah = await codeAt(segment, FARAH);
      const { status, body } = await redeemAt(
        segment,
        farah.code,
        farah.verifier,
      );
      expect(status).toBe(200);
      for (const token of [body.id_token, body.access_token]) {
        expect(decodeJwt(token)).toMatchObject({
          iss: `${emulator.httpsUrl}/${FABRIKAM}/v2.0`,
          tid: FABRIKAM,
          oid: FARAH,
        });
      }
      expect(
        JSON.parse(Buffer.from(body.client_info, 'base64url').toString()),
      ).toEqual({ uid: FARAH, utid: FABRIKAM });

      const ada = await codeAt(segment, ADA);
      const home = await redeemAt(segment, ada.code, ada.verifier);
      expect(decodeJwt(home.body.id_token)).toMatchObject({
        iss: emulator.issuer,
        tid: emulator.tenantId,
        oid: ADA,
      });
    },
  );

  it("a refresh token of another tenant's person works at /common or that tenant, not at the home tenant", async () => {
    const farah = await codeAt('common', FARAH);
    const { body } = await redeemAt('common', farah.code, farah.verifier);
    const atHome = await tokenAt(emulator.tenantId, {
      grant_type: 'refresh_token',
      refresh_token: body.refresh_token,
    });
    expect(atHome.status).toBe(400);
    expect(atHome.body.error).toBe('invalid_grant');
    const atFabrikam = await tokenAt(FABRIKAM, {
      grant_type: 'refresh_token',
      refresh_token: body.refresh_token,
    });
    expect(atFabrikam.status).toBe(200);
    expect(decodeJwt(atFabrikam.body.id_token).tid).toBe(FABRIKAM);
  });

  it("the home tenant's login page does not list other tenants' people and refuses them with AADSTS50020", async () => {
    const { url } = authorizeAt(emulator.tenantId);
    const page = await (await fetch(url)).text();
    expect(page).not.toContain('Farah Field');
    const common = await (await fetch(authorizeAt('common').url)).text();
    expect(common).toContain('Farah Field');
    expect(common).toContain('Ada Admin');
    const refused = await signInThroughBrowser(
      url,
      'farah.field@fabrikam.example',
      {
        typed: true,
      },
    );
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('AADSTS50020');
  });

  it('client credentials over /common: AADSTS50059, an app-only token needs a tenant', async () => {
    const res = await tokenAt('common', {
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: 'invalid_request',
      error_codes: [50059],
    });
  });

  it('openid-client verifies a /common ID token against the issuer template filled with its tid', async () => {
    const discovered = await Issuer.discover(
      `${emulator.httpsUrl}/common/v2.0/.well-known/openid-configuration`,
    );
    const { portal } = emulator.apps;
    const clientFor = (issuer: Issuer) =>
      new issuer.Client({
        client_id: portal.clientId,
        client_secret: portal.clientSecret,
        redirect_uris: [portal.redirectUris[0]],
        response_types: ['code'],
      });
    const signIn = async () => {
      const verifier = generators.codeVerifier();
      const url = clientFor(discovered).authorizationUrl({
        scope: 'openid profile',
        code_challenge: generators.codeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const res = await signInThroughBrowser(url, FARAH);
      return {
        params: clientFor(discovered).callbackParams(
          res.headers.get('location')!,
        ),
        verifier,
      };
    };

    // openid-client 5 fills `{tenantid}` only for login.microsoftonline.com's
    // own discovery URLs; for any other host the template is compared as is.
    const first = await signIn();
    await expect(
      clientFor(discovered).callback(portal.redirectUris[0], first.params, {
        code_verifier: first.verifier,
      }),
    ).rejects.toThrow(/unexpected iss value/);

    const second = await signIn();
    const perTenant = new Issuer({
      ...discovered.metadata,
      issuer: discovered.metadata.issuer.replace('{tenantid}', FABRIKAM),
    });
    const tokens = await clientFor(perTenant).callback(
      portal.redirectUris[0],
      second.params,
      { code_verifier: second.verifier },
    );
    expect(tokens.claims()).toMatchObject({ tid: FABRIKAM, oid: FARAH });
  });

  it('msal-node signs in through /organizations and exchanges on-behalf-of for a person of another tenant', async () => {
    const { portal } = emulator.apps;
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: portal.clientId,
        clientSecret: portal.clientSecret,
        authority: `${emulator.httpsUrl}/organizations`,
        knownAuthorities: [new URL(emulator.httpsUrl).host],
      },
    });
    const { verifier, url } = authorizeAt('organizations', {
      scope: `openid profile ${portal.apiScope}`,
    });
    const res = await signInThroughBrowser(url, FARAH);
    const code = new URL(res.headers.get('location')!).searchParams.get(
      'code',
    )!;
    const result = await app.acquireTokenByCode({
      code,
      codeVerifier: verifier,
      redirectUri: portal.redirectUris[0],
      scopes: [portal.apiScope],
    });
    expect(result.tenantId).toBe(FABRIKAM);
    expect(result.account?.tenantId).toBe(FABRIKAM);

    const fabrikamApp = new ConfidentialClientApplication({
      auth: {
        clientId: portal.clientId,
        clientSecret: portal.clientSecret,
        authority: `${emulator.httpsUrl}/${FABRIKAM}`,
        knownAuthorities: [new URL(emulator.httpsUrl).host],
      },
    });
    const obo = await fabrikamApp.acquireTokenOnBehalfOf({
      oboAssertion: result.accessToken,
      scopes: [emulator.apps.deployApi.scope],
    });
    expect(decodeJwt(obo!.accessToken)).toMatchObject({
      tid: FABRIKAM,
      oid: FARAH,
      iss: `${emulator.httpsUrl}/${FABRIKAM}/v2.0`,
    });
  });

  it("Graph serves the home directory only: another tenant's token gets 401; userinfo answers", async () => {
    const farah = await codeAt('common', FARAH);
    const { body } = await redeemAt('common', farah.code, farah.verifier);
    const res = await fetch(`${emulator.graphBaseUrl}/me`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(res.status).toBe(401);
    // userinfo is the identity platform's, and serves every tenant's people.
    const info = await fetch(`${emulator.httpsUrl}/oidc/userinfo`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({
      name: 'Farah Field',
      sub: decodeJwt(body.id_token).sub,
    });
  });
});

describe('a single-tenant app and the multi-tenant authorities', () => {
  let emulator: EntraEmulator;

  beforeAll(async () => {
    const seed = loadSeed();
    delete seed.apps.find(a => a.key === 'portal')!.signInAudience;
    emulator = await startTestEmulator({ seed });
  });
  afterAll(() => emulator.close());

  it('is refused over /common with AADSTS50194 and works at its own tenant', async () => {
    const { portal } = emulator.apps;
    const params = new URLSearchParams({
      client_id: portal.clientId,
      redirect_uri: portal.redirectUris[0],
      response_type: 'code',
      scope: 'openid',
    });
    const common = await fetch(
      `${emulator.httpUrl}/common/oauth2/v2.0/authorize?${params}`,
    );
    expect(common.status).toBe(400);
    expect(await common.text()).toContain('AADSTS50194');
    const other = await fetch(
      `${emulator.httpUrl}/${FABRIKAM}/oauth2/v2.0/authorize?${params}`,
    );
    expect(other.status).toBe(400);
    expect(await other.text()).toContain('AADSTS700016');
    const home = await fetch(
      `${emulator.authority}/oauth2/v2.0/authorize?${params}`,
    );
    expect(home.status).toBe(200);

    const token = await fetch(`${emulator.httpUrl}/common/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: portal.clientId,
        client_secret: portal.clientSecret,
        refresh_token: 'anything',
      }).toString(),
    });
    expect(token.status).toBe(400);
    expect((await token.json()).error_codes).toEqual([50194]);
  });
});
