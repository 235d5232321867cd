import { EntraEmulator } from '../emulator';
import { startTestEmulator } from '../testUtils/testEmulator';
import { signInThroughBrowser } from '../testUtils/browser';
import {
  authorizeUrl,
  decodeJwt,
  graphAppToken,
  obtainCode,
  postToken,
  redeem,
} from '../testUtils/tokens';

const ADA = 'f8efe4b8-7e3a-44e7-b513-87eab4796311';
const PETE = '43aeecff-cc0a-490a-a15c-7ae6ed9eec7b';

/** Entra's error body: error, AADSTS description, error_codes, trace_id. */
function expectEntraError(body: any, error: string, code: number) {
  expect(body).toMatchObject({ error, error_codes: [code] });
  expect(body.error_description).toMatch(
    new RegExp(`^AADSTS${code}: .*Trace ID: [0-9a-f-]{36}`),
  );
  expect(body.trace_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(body.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
}

describe('Entra error shapes', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator.close());

  it('wrong client secret: invalid_client AADSTS7000215', async () => {
    const res = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.apps.portal.clientId,
      client_secret: 'wrong',
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(res.status).toBe(401);
    expectEntraError(res.body, 'invalid_client', 7000215);
  });

  it('unknown application: unauthorized_client AADSTS700016', async () => {
    const res = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: '00000000-0000-4000-8000-000000000000',
      client_secret: 'x',
      scope: 'https://graph.microsoft.com/.default',
    });
    expectEntraError(res.body, 'unauthorized_client', 700016);
  });

  it('unregistered redirect URI: an error page with AADSTS50011, no redirect', async () => {
    const { url } = authorizeUrl(emulator, {
      redirect_uri: 'https://evil.example/cb',
    });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('AADSTS50011');
  });

  it('redirect URI differing at the token endpoint: AADSTS50011', async () => {
    const { code, verifier } = await obtainCode(emulator, ADA);
    const res = await redeem(emulator, code, verifier, {
      redirect_uri: emulator.apps.portal.redirectUris[1],
    });
    expectEntraError(res.body, 'invalid_request', 50011);
  });

  it('reused code: invalid_grant AADSTS54005', async () => {
    const { code, verifier } = await obtainCode(emulator, ADA);
    expect((await redeem(emulator, code, verifier)).status).toBe(200);
    const again = await redeem(emulator, code, verifier);
    expect(again.status).toBe(400);
    expectEntraError(again.body, 'invalid_grant', 54005);
  });

  it('expired code: invalid_grant AADSTS70008', async () => {
    const { code, verifier } = await obtainCode(emulator, ADA);
    const later = Date.now() + 11 * 60 * 1000;
    const spy = jest.spyOn(Date, 'now').mockReturnValue(later);
    try {
      const res = await redeem(emulator, code, verifier);
      expectEntraError(res.body, 'invalid_grant', 70008);
    } finally {
      spy.mockRestore();
    }
  });

  it('PKCE mismatch: invalid_grant AADSTS501481', async () => {
    const { code } = await obtainCode(emulator, ADA);
    const res = await redeem(
      emulator,
      code,
      'not-the-verifier-not-the-verifier-not-the-verifier',
    );
    expectEntraError(res.body, 'invalid_grant', 501481);
  });

  it('unknown scope at authorize: redirected invalid_scope AADSTS70011', async () => {
    const { url } = authorizeUrl(emulator, {
      scope: `openid api://${emulator.apps.portal.clientId}/no_such_scope`,
    });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_scope');
    expect(location.searchParams.get('error_description')).toMatch(
      /^AADSTS70011:/,
    );
    expect(location.searchParams.get('state')).toBe('st');
  });

  it('unknown resource: invalid_resource AADSTS500011', async () => {
    const res = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.apps.portal.clientId,
      client_secret: emulator.apps.portal.clientSecret,
      scope: 'api://no-such-api/.default',
    });
    expectEntraError(res.body, 'invalid_resource', 500011);
  });

  it('client credentials without /.default: invalid_scope AADSTS1002012', async () => {
    const res = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.apps.portal.clientId,
      client_secret: emulator.apps.portal.clientSecret,
      scope: 'User.Read',
    });
    expectEntraError(res.body, 'invalid_scope', 1002012);
  });

  it('unsupported grant: AADSTS70003', async () => {
    const res = await postToken(emulator, {
      grant_type: 'password',
      client_id: emulator.apps.portal.clientId,
      client_secret: emulator.apps.portal.clientSecret,
    });
    expectEntraError(res.body, 'unsupported_grant_type', 70003);
  });

  it('unknown tenant: invalid_tenant AADSTS90002', async () => {
    const res = await fetch(
      `${emulator.httpUrl}/00000000-0000-4000-8000-000000000001/v2.0/.well-known/openid-configuration`,
    );
    expectEntraError(await res.json(), 'invalid_tenant', 90002);
  });

  it('disabled account: the login page refuses with AADSTS50057', async () => {
    const { url } = authorizeUrl(emulator);
    const res = await signInThroughBrowser(url, PETE);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(
      'AADSTS50057: The user account is disabled.',
    );
  });

  it('prompt=none without a session: login_required AADSTS50058; with one: a code', async () => {
    const { url } = authorizeUrl(emulator, { prompt: 'none' });
    const res = await fetch(url, { redirect: 'manual' });
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('login_required');
    expect(location.searchParams.get('error_description')).toMatch(
      /^AADSTS50058:/,
    );

    const { cookie } = await obtainCode(emulator, ADA);
    const silent = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: cookie!.split(';')[0] },
    });
    expect(
      new URL(silent.headers.get('location')!).searchParams.get('code'),
    ).toBeTruthy();
  });

  it('login page lists people with accessible names and honours login_hint and domain_hint', async () => {
    const { url } = authorizeUrl(emulator, {
      login_hint: 'grace.green@contoso.example',
    });
    const html = await (await fetch(url)).text();
    expect(html).toContain('aria-label="Sign in as Ada Admin"');
    expect(html).toContain('data-testid="sign-in-ada-admin"');
    expect(html).toContain('value="grace.green@contoso.example"');
    expect(html).toMatch(
      /<li class="hinted"><button[^>]*aria-label="Sign in as Grace Green"/,
    );
    const other = await (
      await fetch(
        authorizeUrl(emulator, { domain_hint: 'partner.example' }).url,
      )
    ).text();
    expect(other).toContain('Sign in as Ada Admin'); // no one in that domain: full list
    // Typing a UPN in the username field signs that person in.
    const typed = await signInThroughBrowser(
      url,
      'Grace.Green@contoso.example',
      {
        typed: true,
      },
    );
    expect(typed.status).toBe(302);
    expect(
      new URL(typed.headers.get('location')!).searchParams.get('code'),
    ).toBeTruthy();
  });

  it('on-behalf-of with an assertion for another audience: AADSTS50013', async () => {
    const graphToken = await graphAppToken(emulator);
    const res = await postToken(emulator, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      client_id: emulator.apps.portal.clientId,
      client_secret: emulator.apps.portal.clientSecret,
      assertion: graphToken,
      scope: emulator.apps.deployApi.scope,
    });
    expectEntraError(res.body, 'invalid_grant', 50013);
  });

  it('on-behalf-of with an ID token as assertion: invalid_request AADSTS240002', async () => {
    const { code, verifier } = await obtainCode(emulator, ADA);
    const { body: signedIn } = await redeem(emulator, code, verifier);
    const res = await postToken(emulator, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      client_id: emulator.apps.portal.clientId,
      client_secret: emulator.apps.portal.clientSecret,
      assertion: signedIn.id_token,
      scope: emulator.apps.deployApi.scope,
    });
    expect(res.status).toBe(400);
    expectEntraError(res.body, 'invalid_request', 240002);
    expect(res.body.error_description).toContain(
      "Input id_token cannot be used as 'urn:ietf:params:oauth:grant-type:jwt-bearer' grant.",
    );
    expect(res.body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  });

  it('tokens carry pairwise sub, kid and Entra v2 claims', async () => {
    const { code, verifier } = await obtainCode(emulator, ADA);
    const { body } = await redeem(emulator, code, verifier);
    const header = JSON.parse(
      Buffer.from(body.id_token.split('.')[0], 'base64url').toString(),
    );
    const keys = await (
      await fetch(
        `${emulator.httpUrl}/${emulator.tenantId}/discovery/v2.0/keys`,
      )
    ).json();
    expect(header).toMatchObject({ alg: 'RS256', kid: keys.keys[0].kid });
    const access = decodeJwt(body.access_token);
    const id = decodeJwt(body.id_token);
    expect(access.aud).toBe('00000003-0000-0000-c000-000000000000');
    expect(access.sub).not.toBe(id.sub);
    expect(id).toMatchObject({ nonce: 'n0', tid: emulator.tenantId, oid: ADA });
    expect(id.exp - id.iat).toBe(3600);
  });
});
