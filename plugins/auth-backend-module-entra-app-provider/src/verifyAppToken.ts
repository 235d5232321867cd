import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  JWTPayload,
  jwtVerify,
} from 'jose';
import { EntraAppConfig } from './config';

/** Who a verified app token is from. */
export interface VerifiedApp {
  /** The app (client) id: `azp` (v2 tokens) or `appid` (v1). */
  appId: string;
  /** The service principal's object id in the tenant (`oid`). */
  objectId: string;
  tenantId: string;
  /** App roles granted to the app on the portal's API (`roles`). */
  roles: string[];
  /** The Entra token's `exp`, in seconds since the epoch. */
  expiresAt: number;
}

/** The check a refused token failed, named as docs/automation-identity.md lists them. */
export type RefusedCheck =
  | 'format'
  | 'alg'
  | 'signature'
  | 'iss'
  | 'tid'
  | 'aud'
  | 'exp'
  | 'nbf'
  | 'app-only'
  | 'claims';

/** Why a token was refused, with the token's (unverified) ids for the log. */
export interface Refusal {
  check: RefusedCheck;
  /** For the caller and the log; never contains the token. */
  reason: string;
  appId?: string;
  objectId?: string;
  tenantId?: string;
}

export type VerifyResult =
  | { ok: true; app: VerifiedApp }
  | { ok: false; refusal: Refusal };

/** Clock skew tolerated on `exp` and `nbf`, as Entra's own libraries do. */
export const CLOCK_TOLERANCE_SECONDS = 60;

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/**
 * Verifies Entra app-only access tokens for the portal's API, in the order
 * the design fixes: RS256 only; signature by the configured tenant's keys
 * (Entra signs every tenant's tokens with the same keys, so a valid
 * signature says nothing about the tenant); issuer and `tid` of the
 * configured tenant; audience; lifetime; app-only. Which app it is, and
 * whether the portal knows it, is the resolver's concern.
 */
export class AppTokenVerifier {
  readonly #config: EntraAppConfig;
  readonly #keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(config: EntraAppConfig) {
    this.#config = config;
    // jose caches the keys and refetches (at most every 30 s) when a token
    // names a key id it has not seen, which is how Entra's rotation shows.
    this.#keys = createRemoteJWKSet(new URL(config.jwksUrl));
  }

  async verify(token: string): Promise<VerifyResult> {
    let unverified: JWTPayload;
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
      unverified = decodeJwt(token);
    } catch {
      return refuse({
        check: 'format',
        reason: 'the bearer token is not a JWT',
      });
    }
    const ids = {
      appId: str(unverified.azp) ?? str(unverified.appid),
      objectId: str(unverified.oid),
      tenantId: str(unverified.tid),
    };
    const refuseWith = (check: RefusedCheck, reason: string) =>
      refuse({ check, reason, ...ids });

    if (alg !== 'RS256') {
      return refuseWith(
        'alg',
        `alg '${
          alg ?? '(none)'
        }' is not RS256, the only algorithm Entra signs access tokens with`,
      );
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        algorithms: ['RS256'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        return refuseWith('exp', 'the token has expired');
      }
      if (
        error instanceof joseErrors.JWTClaimValidationFailed &&
        error.claim === 'nbf'
      ) {
        return refuseWith('nbf', 'the token is not valid yet (nbf)');
      }
      if (
        error instanceof joseErrors.JWKSNoMatchingKey ||
        error instanceof joseErrors.JWSSignatureVerificationFailed
      ) {
        return refuseWith(
          'signature',
          "the signature is not by the configured tenant's Entra signing keys",
        );
      }
      if (error instanceof joseErrors.JOSEError) {
        return refuseWith('format', `the token is malformed (${error.code})`);
      }
      // The keys could not be fetched: an outage, not the caller's fault.
      throw error;
    }

    const { tenantId, issuers, audiences, requireIdtyp } = this.#config;
    if (typeof payload.iss !== 'string' || !issuers.includes(payload.iss)) {
      return refuseWith(
        'iss',
        `issuer '${payload.iss}' is not the configured tenant's (${issuers.join(
          ' or ',
        )})`,
      );
    }
    if (payload.tid !== tenantId) {
      return refuseWith(
        'tid',
        `tenant '${payload.tid}' is not the configured tenant ${tenantId}`,
      );
    }
    const aud = [payload.aud ?? []].flat();
    if (!aud.some(a => audiences.includes(a))) {
      return refuseWith(
        'aud',
        `audience '${aud.join(', ')}' is not the portal's API (${audiences.join(
          ' or ',
        )})`,
      );
    }
    if (payload.scp !== undefined) {
      return refuseWith(
        'app-only',
        'the token is delegated (it has scp): a person signs in through the browser, a pipeline with its own app token',
      );
    }
    const idtyp = payload.idtyp;
    const appOnly =
      idtyp === 'app' ||
      (!requireIdtyp &&
        idtyp === undefined &&
        !!payload.oid &&
        payload.oid === payload.sub);
    if (!appOnly) {
      return refuseWith(
        'app-only',
        idtyp === undefined
          ? "the token has no idtyp claim; add the optional claim 'idtyp' to the portal app's access tokens (docs/automation-identity.md)"
          : `idtyp '${idtyp}' is not 'app'`,
      );
    }
    const { appId, objectId } = ids;
    if (!appId || !objectId || typeof payload.exp !== 'number') {
      return refuseWith('claims', 'the token lacks azp/appid, oid or exp');
    }
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((r): r is string => typeof r === 'string')
      : [];
    return {
      ok: true,
      app: { appId, objectId, tenantId, roles, expiresAt: payload.exp },
    };
  }
}

function refuse(refusal: Refusal): VerifyResult {
  return { ok: false, refusal };
}
