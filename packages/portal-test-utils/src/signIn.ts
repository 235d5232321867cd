import type { EntraEmulator } from '@internal/entra-emulator';
import { signInThroughBrowser } from '@internal/entra-emulator/testUtils';

/** The callback URL registered for the portal app in the emulator's seed. */
const CALLBACK_URL = 'http://localhost:7007/api/auth/microsoft/handler/frame';

/**
 * The `auth` config block of a backend that signs in against the emulator's
 * portal app (environment `development`); `provider` adds or overrides keys
 * of the `microsoft.development` provider config, e.g. `loadPhoto: false`.
 */
export function emulatorAuthConfig(
  emulator: EntraEmulator,
  provider: object = {},
) {
  const { portal } = emulator.apps;
  return {
    environment: 'development',
    providers: {
      microsoft: {
        development: {
          clientId: portal.clientId,
          clientSecret: portal.clientSecret,
          tenantId: emulator.tenantId,
          authority: emulator.authority,
          callbackUrl: CALLBACK_URL,
          ...provider,
        },
      },
    },
  };
}

/** The JSON the sign-in popup page posts back to the app. */
export function readPopupResponse(html: string): any {
  const encoded = /decodeURIComponent\('([^']*)'\)/.exec(html)?.[1];
  if (!encoded) throw new Error(`No auth response in popup page:\n${html}`);
  return JSON.parse(decodeURIComponent(encoded));
}

/**
 * The Cookie header a browser would send back: Backstage first clears a
 * cookie (for older cookie paths) and then sets it, so the last value wins.
 */
export function cookieHeader(res: Response): string {
  const jar = new Map<string, string>();
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    const [name, value] = [pair.slice(0, i), pair.slice(i + 1)];
    if (value) jar.set(name, value);
    else jar.delete(name);
  }
  return [...jar].map(([n, v]) => `${n}=${v}`).join('; ');
}

/** Changes a test makes to the sign-in flow, as an attacker or a broken proxy might. */
export interface SignInTamper {
  /** Replaces the `state` the emulator sends back to the callback. */
  state?: (state: string) => string;
  /** Runs just before the browser follows the callback. */
  beforeCallback?: (callback: URL) => Promise<void>;
}

/**
 * What the browser saw of a sign-in: the popup page (or the start route's
 * answer, with no `callback`, when sign-in did not start).
 */
export interface SignInPopup {
  status: number;
  body: string;
  /** The callback URL the emulator redirected to. */
  callback?: URL;
  /** The Cookie header sent to the callback (the nonce cookie). */
  cookie?: string;
  /** The Cookie header the browser holds afterwards (the refresh-token cookie). */
  sessionCookie?: string;
  /** Where the start route sent the browser. */
  authorizeUrl?: string;
}

/**
 * What a browser does between "Sign in" and the popup closing:
 * `/api/auth/microsoft/start`, the emulator's login page as `person`, then
 * `handler/frame`. Nothing is checked, so a test can assert on failures.
 */
export async function signInPopup(
  baseUrl: string,
  person: string,
  tamper: SignInTamper = {},
): Promise<SignInPopup> {
  const start = await fetch(
    `${baseUrl}/api/auth/microsoft/start?env=development`,
    { redirect: 'manual' },
  );
  if (start.status !== 302) {
    return {
      status: start.status,
      body: await start.text(),
      callback: undefined,
    };
  }
  const cookie = cookieHeader(start);
  const authorizeUrl = start.headers.get('location')!;
  const login = await signInThroughBrowser(authorizeUrl, person);
  const callback = new URL(login.headers.get('location')!);
  if (tamper.state) {
    callback.searchParams.set(
      'state',
      tamper.state(callback.searchParams.get('state')!),
    );
  }
  await tamper.beforeCallback?.(callback);
  const frame = await fetch(
    `${baseUrl}/api/auth/microsoft/handler/frame${callback.search}`,
    { headers: { cookie }, redirect: 'manual' },
  );
  const body = await frame.text();
  return {
    status: frame.status,
    body,
    callback,
    cookie,
    sessionCookie: cookieHeader(frame),
    authorizeUrl,
  };
}

/** What a successful {@link signIn} gives the browser. */
export interface SignedIn {
  /** The Backstage token. */
  token: string;
  /** The Cookie header the browser then holds (the refresh-token cookie). */
  sessionCookie: string;
  /** The ownership refs sign-in gave the person. */
  ownershipEntityRefs: string[];
}

/**
 * Signs a seeded person in to the backend at `baseUrl` as the browser does
 * ({@link signInPopup}); throws with the popup's error when sign-in fails.
 */
export async function signIn(baseUrl: string, upn: string): Promise<SignedIn> {
  const popup = await signInPopup(baseUrl, upn);
  if (!popup.callback) {
    throw new Error(`Sign-in start answered ${popup.status}: ${popup.body}`);
  }
  const { response, error } = readPopupResponse(popup.body);
  if (!response) {
    throw new Error(`Sign-in of ${upn} failed: ${JSON.stringify(error)}`);
  }
  return {
    token: response.backstageIdentity.token as string,
    sessionCookie: popup.sessionCookie!,
    ownershipEntityRefs: response.backstageIdentity.identity
      .ownershipEntityRefs as string[],
  };
}
