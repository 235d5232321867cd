/**
 * The test-only opt-in that lets a production-mode backend talk to the Entra
 * emulator on this machine (`yarn test:replicas` runs the built backend with
 * the production configuration against it). It admits nothing but an
 * https origin on `localhost` or `127.0.0.1`: the emulator binds 127.0.0.1
 * only, so any other host, however it is spelled, is not the emulator.
 */

/** The environment variable that turns the opt-in on; only the value `1` does. */
export const ALLOW_LOOPBACK_ENTRA_ENV = 'PORTAL_TEST_ALLOW_LOOPBACK_ENTRA';

const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1']);

/** True when the opt-in is set in `env` (exactly `1`). */
export function isLoopbackEntraAllowed(
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return env[ALLOW_LOOPBACK_ENTRA_ENV] === '1';
}

/**
 * True only for `https://localhost[:port]/...` or `https://127.0.0.1[:port]/...`
 * without user info. Parsed with the WHATWG URL parser Node's fetch uses, so
 * the host checked is the host a request would go to:
 * `https://login.microsoftonline.com@127.0.0.1` has user info and is refused,
 * `https://localhost.evil.example` and `https://127.0.0.1.nip.io` are other
 * hosts, `[::1]` is not where the emulator listens.
 */
export function isLoopbackHttpsUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === 'https:' &&
    parsed.username === '' &&
    parsed.password === '' &&
    LOOPBACK_HOSTNAMES.has(parsed.hostname)
  );
}
