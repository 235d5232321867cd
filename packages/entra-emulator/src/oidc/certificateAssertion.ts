import { compactVerify, errors as joseErrors } from 'jose';
import { EmulatorContext } from '../context';
import { AppCredentials, KeyCredential } from '../credentials/appCredentials';
import {
  audiencesOf,
  checkAssertionTime,
  DecodedAssertion,
} from './assertionClaims';
import { aadsts } from './errors';

/** The algorithms MSAL and @azure/identity sign certificate assertions with. */
const ALGORITHMS = ['RS256', 'PS256'];

/**
 * Verifies a client assertion signed with one of the app's certificates
 * (private_key_jwt), as Entra does: the header's `x5t#S256` or `x5t` names a
 * registered certificate, its public key verifies the signature, `iss` and
 * `sub` are the client id, `aud` is this tenant's token endpoint and the
 * assertion is within its lifetime.
 *
 * A `jti` is required but may repeat: MSAL reuses one assertion for up to
 * ten minutes, and Entra accepts that.
 */
export async function verifyCertificateAssertion(
  ctx: EmulatorContext,
  creds: AppCredentials,
  assertion: string,
  decoded: DecodedAssertion,
): Promise<void> {
  const { header, claims } = decoded;
  const clientId = creds.app.clientId;
  const alg = String(header.alg ?? '');
  if (!ALGORITHMS.includes(alg))
    throw aadsts.unsupportedAssertionAlgorithm(alg);
  if (claims.iss !== clientId || claims.sub !== clientId) {
    throw aadsts.assertionClientMismatch();
  }
  const key = findKey(creds, header);
  if (!key) {
    throw aadsts.certificateNotRegistered(clientId, thumbprintHexOf(header));
  }
  try {
    await compactVerify(assertion, key.publicKey, { algorithms: ALGORITHMS });
  } catch (e) {
    if (e instanceof joseErrors.JOSEError) {
      throw aadsts.assertionBadSignature(
        key.thumbprintSha1Hex,
        key.notBefore,
        key.notAfter,
      );
    }
    throw e;
  }
  const now = new Date();
  if (key.notAfter < now || key.notBefore > now) {
    throw aadsts.assertionKeyExpired(
      key.thumbprintSha1Hex,
      key.notBefore,
      key.notAfter,
    );
  }
  if (!audiencesOf(claims).some(a => tokenEndpoints(ctx).has(normalize(a)))) {
    throw aadsts.clientAssertionAudience();
  }
  checkAssertionTime(claims, now);
  if (typeof claims.jti !== 'string' || !claims.jti) {
    throw aadsts.assertionMissingClaim('jti');
  }
}

function findKey(
  creds: AppCredentials,
  header: Record<string, unknown>,
): KeyCredential | undefined {
  const s256 = header['x5t#S256'];
  if (typeof s256 === 'string') {
    return creds.keys.find(k => k.thumbprintSha256Base64Url === s256);
  }
  const x5t = header.x5t;
  if (typeof x5t === 'string') {
    return creds.keys.find(k => k.thumbprintSha1Base64Url === x5t);
  }
  return undefined;
}

/** The thumbprint the client named, in Entra's hex rendering, for the error. */
function thumbprintHexOf(header: Record<string, unknown>): string | undefined {
  const value = header['x5t#S256'] ?? header.x5t;
  if (typeof value !== 'string') return undefined;
  return Buffer.from(value, 'base64url').toString('hex').toUpperCase();
}

/**
 * Every URL an assertion's `aud` may name: the v2.0 (and v1) token endpoint
 * of the home tenant by id or domain, and of `/common` and `/organizations`,
 * on either listener.
 */
function tokenEndpoints(ctx: EmulatorContext): Set<string> {
  const tenant = ctx.directory.seed.tenant;
  const segments = [tenant.id, ...tenant.domains, 'common', 'organizations'];
  const urls = new Set<string>();
  const origins = [ctx.urls.httpUrl, ctx.urls.httpsUrl].flatMap(o => [
    o,
    o.replace('//localhost:', '//127.0.0.1:'),
  ]);
  for (const origin of origins) {
    for (const segment of segments) {
      urls.add(normalize(`${origin}/${segment}/oauth2/v2.0/token`));
      urls.add(normalize(`${origin}/${segment}/oauth2/token`));
    }
  }
  return urls;
}

function normalize(url: string): string {
  return url.trim().replace(/\/+$/, '').toLowerCase();
}
