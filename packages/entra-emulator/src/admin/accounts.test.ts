import { EntraEmulator } from '../emulator';
import { EmulatorAdminClient } from '../testUtils/adminClient';
import { signInThroughBrowser } from '../testUtils/browser';
import { startTestEmulator } from '../testUtils/testEmulator';
import {
  authorizeUrl,
  graphAppToken,
  obtainCode,
  postToken,
  redeem,
} from '../testUtils/tokens';

const GRACE = 'c8558aa8-c7bb-437e-972d-3c5bb7172679';
const GRACE_UPN = 'grace.green@contoso.example';

describe('disabling an account at runtime', () => {
  let emulator: EntraEmulator;
  let admin: EmulatorAdminClient;
  let appToken: string;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    admin = new EmulatorAdminClient(emulator);
    appToken = await graphAppToken(emulator);
  });
  afterAll(() => emulator.close());
  afterEach(() => emulator.directory.setAccountEnabled(GRACE, true));

  async function graphAccountEnabled(): Promise<boolean> {
    const one = await fetch(
      `${emulator.graphBaseUrl}/users/${GRACE}?$select=id,accountEnabled`,
      { headers: { authorization: `Bearer ${appToken}` } },
    );
    const listed = await fetch(
      `${emulator.graphBaseUrl}/users?$filter=id eq '${GRACE}'&$select=accountEnabled`,
      { headers: { authorization: `Bearer ${appToken}` } },
    );
    const fromList = (await listed.json()).value[0].accountEnabled;
    const fromOne = (await one.json()).accountEnabled;
    expect(fromList).toBe(fromOne);
    return fromOne;
  }

  function refresh(refreshToken: string) {
    return postToken(emulator, {
      grant_type: 'refresh_token',
      client_id: emulator.apps.portal.clientId,
      client_secret: emulator.apps.portal.clientSecret,
      refresh_token: refreshToken,
    });
  }

  it('refuses sign-in and refresh with AADSTS50057, shows accountEnabled false, and undoes it on re-enable', async () => {
    const { code, verifier, cookie } = await obtainCode(emulator, GRACE);
    const signedIn = await redeem(emulator, code, verifier);
    const refreshToken: string = signedIn.body.refresh_token;
    expect(refreshToken).toBeTruthy();
    expect(await graphAccountEnabled()).toBe(true);

    await expect(admin.disableAccount(GRACE_UPN)).resolves.toEqual({
      id: GRACE,
      accountEnabled: false,
    });
    expect(await graphAccountEnabled()).toBe(false);

    const refused = await refresh(refreshToken);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect(refused.body.error_codes).toEqual([50057]);
    expect(refused.body.error_description).toMatch(
      /^AADSTS50057: The user account is disabled\./,
    );

    const page = await signInThroughBrowser(authorizeUrl(emulator).url, GRACE);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('AADSTS50057');

    // A browser session from before the change does not sign in silently either.
    const silent = await signInThroughBrowser(
      authorizeUrl(emulator, { prompt: 'none' }).url,
      GRACE,
      { cookie: cookie!.split(';')[0] },
    );
    const location = new URL(silent.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('login_required');

    await admin.enableAccount(GRACE);
    expect(await graphAccountEnabled()).toBe(true);
    // The refused refresh did not spend the token.
    const again = await refresh(refreshToken);
    expect(again.status).toBe(200);
    expect(again.body.access_token).toBeTruthy();
    const { code: code2, verifier: verifier2 } = await obtainCode(
      emulator,
      GRACE,
    );
    expect((await redeem(emulator, code2, verifier2)).status).toBe(200);
  });

  it('an authorization code issued before the account was disabled is refused', async () => {
    const { code, verifier } = await obtainCode(emulator, GRACE);
    emulator.directory.setAccountEnabled(GRACE, false);
    const res = await redeem(emulator, code, verifier);
    expect(res.status).toBe(400);
    expect(res.body.error_codes).toEqual([50057]);
  });

  it('the admin route answers 404 for an unknown person and 400 for anything but accountEnabled', async () => {
    await expect(
      admin.disableAccount('nobody@contoso.example'),
    ).rejects.toThrow(/404/);
    const res = await fetch(`${emulator.httpUrl}/_emulator/users/${GRACE}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accountEnabled: false, displayName: 'X' }),
    });
    expect(res.status).toBe(400);
    expect(await graphAccountEnabled()).toBe(true);
  });
});
