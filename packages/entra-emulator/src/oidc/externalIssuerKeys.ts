import { createRemoteJWKSet, JWTVerifyGetKey } from 'jose';

/** How long an issuer's discovery document and keys are reused. */
const CACHE_MS = 60_000;
const FETCH_TIMEOUT_MS = 5_000;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why an external issuer's keys could not be read (Entra: AADSTS50166). */
export class ExternalIssuerError extends Error {}

/**
 * The signing keys of external OIDC issuers (a Kubernetes service-account
 * issuer, GitHub Actions, …), found the way Entra finds them: the issuer's
 * `/.well-known/openid-configuration` names `jwks_uri`. Plain http is
 * accepted on loopback only, for local stand-ins; https uses the process's
 * trusted CAs. A key id not in the cached set makes jose fetch the set again,
 * so an issuer's key rotation is picked up at once.
 */
export class ExternalIssuerKeys {
  private readonly cache = new Map<
    string,
    { keys: JWTVerifyGetKey; fetchedAt: number }
  >();

  async keysOf(issuer: string): Promise<JWTVerifyGetKey> {
    const cached = this.cache.get(issuer);
    if (cached && Date.now() - cached.fetchedAt < CACHE_MS) return cached.keys;
    const jwksUri = await this.discoverJwksUri(issuer);
    const keys = createRemoteJWKSet(jwksUri, {
      timeoutDuration: FETCH_TIMEOUT_MS,
      cooldownDuration: 0,
      cacheMaxAge: CACHE_MS,
    });
    this.cache.set(issuer, { keys, fetchedAt: Date.now() });
    return keys;
  }

  private async discoverJwksUri(issuer: string): Promise<URL> {
    const base = checkedUrl(issuer);
    const url = new URL(
      `${base.href.replace(/\/+$/, '')}/.well-known/openid-configuration`,
    );
    let doc: { jwks_uri?: unknown };
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        headers: { accept: 'application/json' },
      });
      if (!res.ok) throw new Error(`answered ${res.status}`);
      doc = (await res.json()) as { jwks_uri?: unknown };
    } catch (e) {
      throw new ExternalIssuerError(
        `Discovery of ${issuer} failed: ${(e as Error).message}`,
      );
    }
    if (typeof doc.jwks_uri !== 'string') {
      throw new ExternalIssuerError(`Discovery of ${issuer} names no jwks_uri`);
    }
    return checkedUrl(doc.jwks_uri);
  }
}

function checkedUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ExternalIssuerError(`'${value}' is not a URL`);
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ExternalIssuerError(
      `'${value}' must use https (plain http only on loopback)`,
    );
  }
  return url;
}
