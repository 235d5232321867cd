import { createHash, randomBytes } from 'node:crypto';
import { EntraEmulator } from '../emulator';
import { signInThroughBrowser } from './browser';

/** Decodes a JWT's payload without verifying it (tests only). */
export function decodeJwt(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

/** Posts a form to the emulator's token endpoint over plain http. */
export async function postToken(
  emulator: EntraEmulator,
  form: Record<string, string>,
): Promise<{ status: number; body: any }> {
  const res = await fetch(
    `${emulator.httpUrl}/${emulator.tenantId}/oauth2/v2.0/token`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    },
  );
  return { status: res.status, body: await res.json() };
}

/** Builds an authorize URL for the portal app with PKCE. */
export function authorizeUrl(
  emulator: EntraEmulator,
  extra: Record<string, string> = {},
) {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    client_id: emulator.apps.portal.clientId,
    redirect_uri: emulator.apps.portal.redirectUris[0],
    response_type: 'code',
    scope: 'openid profile offline_access',
    state: 'st',
    nonce: 'n0',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  });
  return {
    url: `${emulator.httpUrl}/${emulator.tenantId}/oauth2/v2.0/authorize?${params}`,
    verifier,
  };
}

/** Signs `user` in through the login page and returns the code and PKCE verifier. */
export async function obtainCode(
  emulator: EntraEmulator,
  user: string,
  extra: Record<string, string> = {},
) {
  const { url, verifier } = authorizeUrl(emulator, extra);
  const res = await signInThroughBrowser(url, user);
  const location = new URL(res.headers.get('location')!);
  return {
    code: location.searchParams.get('code')!,
    verifier,
    location,
    cookie: res.headers.get('set-cookie'),
  };
}

/** Redeems a code for the portal app. */
export function redeem(
  emulator: EntraEmulator,
  code: string,
  verifier: string,
  overrides: Record<string, string> = {},
) {
  return postToken(emulator, {
    grant_type: 'authorization_code',
    client_id: emulator.apps.portal.clientId,
    client_secret: emulator.apps.portal.clientSecret,
    redirect_uri: emulator.apps.portal.redirectUris[0],
    code,
    code_verifier: verifier,
    ...overrides,
  });
}

/** An app-only Graph token of the portal app. */
export async function graphAppToken(
  emulator: EntraEmulator,
  clientId?: string,
  secret?: string,
) {
  const { body } = await postToken(emulator, {
    grant_type: 'client_credentials',
    client_id: clientId ?? emulator.apps.portal.clientId,
    client_secret: secret ?? emulator.apps.portal.clientSecret,
    scope: 'https://graph.microsoft.com/.default',
  });
  return body.access_token as string;
}

/**
 * A delegated access token for `scope` (default: the portal's own API,
 * `api://<portal>/access_as_user`), obtained as the portal's frontend does:
 * `user` signs in on the login page and the portal redeems the code.
 */
export async function delegatedToken(
  emulator: EntraEmulator,
  user: string,
  scope: string = emulator.apps.portal.apiScope,
): Promise<string> {
  const { code, verifier } = await obtainCode(emulator, user, {
    scope: `openid ${scope}`,
  });
  const { status, body } = await redeem(emulator, code, verifier);
  if (status !== 200) {
    throw new Error(
      `Token request for ${user} failed: ${JSON.stringify(body)}`,
    );
  }
  return body.access_token as string;
}
