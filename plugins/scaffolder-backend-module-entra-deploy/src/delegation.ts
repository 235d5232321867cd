import { UserEntity } from '@backstage/catalog-model';
import { NotAllowedError, ServiceUnavailableError } from '@backstage/errors';
import {
  ENTRA_TENANT_ID_ANNOTATION,
  ENTRA_USER_ID_ANNOTATION,
  EntraProviderConfig,
} from '@internal/plugin-auth-backend-module-entra-provider';
import {
  createRemoteJWKSet,
  decodeJwt,
  errors as joseErrors,
  JWTPayload,
  jwtVerify,
} from 'jose';
import { SignInAgainError } from './errors';

/** The scope the portal's API exposes for its own frontend. */
export const PORTAL_API_SCOPE = 'access_as_user';

/**
 * Entra sets `nbf` to the moment it issues a token, so a portal whose clock
 * runs a little behind would otherwise refuse fresh tokens.
 */
const CLOCK_TOLERANCE_SECONDS = 60;

/** The claims of a verified delegated token the actions rely on. */
export interface DelegatedIdentity {
  oid: string;
  tid: string;
  name?: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

interface Discovery {
  issuer: string;
  keys: ReturnType<typeof createRemoteJWKSet>;
}

/**
 * Verifies the delegated token a person's browser obtained for the portal's
 * own API: signed by the tenant's keys (from the discovery document of the
 * cloud or authority sign-in uses), issued by the configured tenant, for the
 * portal app, with `access_as_user`, unexpired, and about the very person
 * the scaffolder says started the task.
 */
export class DelegatedTokenVerifier {
  #discovery?: Promise<Discovery>;

  constructor(private readonly entra: EntraProviderConfig) {}

  async verify(token: string, user?: UserEntity): Promise<DelegatedIdentity> {
    const { keys, issuer: issuerTemplate } = await this.#discover();
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new NotAllowedError(
        'The delegated Entra token of this task is not a JWT; the deploy is refused.',
      );
    }
    const tid = String(unverified.tid ?? '');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ['RS256'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) {
        throw new SignInAgainError(
          'Your delegated Entra token expired before the deploy ran.',
        );
      }
      if (e instanceof joseErrors.JWTClaimValidationFailed) {
        throw new NotAllowedError(
          `The delegated Entra token is not valid yet or malformed (${e.claim} claim); check the portal's clock, then sign in again.`,
        );
      }
      if (e instanceof joseErrors.JWKSTimeout) {
        throw new ServiceUnavailableError(
          `Entra's signing keys could not be read in time from ${this.entra.metadataUrl}; try again.`,
        );
      }
      throw new NotAllowedError(
        "The delegated Entra token is not signed by your tenant's keys; the deploy is refused.",
      );
    }

    if (!this.entra.allowedTenantIds.has(tid)) {
      throw new NotAllowedError(
        `The delegated Entra token was issued by tenant ${
          tid || '(none)'
        }, which this portal does not admit; the deploy is refused.`,
      );
    }
    const expectedIssuer = issuerTemplate.replace('{tenantid}', tid);
    if (payload.iss !== expectedIssuer) {
      throw new NotAllowedError(
        `The delegated Entra token's issuer is ${payload.iss}, not ${expectedIssuer}. ` +
          'If it is https://sts.windows.net/…, set "requestedAccessTokenVersion": 2 in the portal app\'s manifest (docs/deploy-identity.md).',
      );
    }
    const audiences = [this.entra.clientId, `api://${this.entra.clientId}`];
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.some(a => a && audiences.includes(String(a)))) {
      throw new NotAllowedError(
        `The delegated Entra token is for another application (aud ${aud.join(
          ', ',
        )}), not the portal (${this.entra.clientId}); the deploy is refused.`,
      );
    }
    if (payload.idtyp === 'app' || payload.scp === undefined) {
      throw new NotAllowedError(
        'The token is an app-only token: a deploy needs a token delegated by the person who started it; the deploy is refused.',
      );
    }
    const scopes = String(payload.scp).split(' ');
    if (!scopes.includes(PORTAL_API_SCOPE)) {
      throw new NotAllowedError(
        `The delegated Entra token lacks the '${PORTAL_API_SCOPE}' scope (it has '${payload.scp}'); the deploy is refused.`,
      );
    }
    const oid = String(payload.oid ?? '');
    this.#checkInitiator(oid, tid, user);
    return {
      oid,
      tid,
      name: typeof payload.name === 'string' ? payload.name : undefined,
      expiresAt: Number(payload.exp),
    };
  }

  /**
   * The token must be the initiator's own: its oid is the catalog User's
   * object id (annotated by org ingestion), and its tenant that User's when
   * annotated. Template parameters never decide this; only `ctx.user` does,
   * which the scaffolder took from the verified Backstage identity.
   */
  #checkInitiator(oid: string, tid: string, user?: UserEntity) {
    if (!user) {
      throw new NotAllowedError(
        'This task has no initiating user in the catalog, so a delegated token cannot be matched to anyone; the deploy is refused.',
      );
    }
    const ref = `user:${user.metadata.namespace ?? 'default'}/${
      user.metadata.name
    }`;
    const annotations = user.metadata.annotations ?? {};
    const userOid = annotations[ENTRA_USER_ID_ANNOTATION];
    if (!userOid) {
      throw new NotAllowedError(
        `${ref} has no ${ENTRA_USER_ID_ANNOTATION} annotation, so the deploy cannot prove the token is theirs; ` +
          'ask a portal admin to check that org ingestion includes this person.',
      );
    }
    const userTid = annotations[ENTRA_TENANT_ID_ANNOTATION];
    if (userOid !== oid || (userTid !== undefined && userTid !== tid)) {
      throw new NotAllowedError(
        `The delegated Entra token belongs to another person (object id ${oid}), not to ${ref} who started this task; the deploy is refused.`,
      );
    }
  }

  #discover(): Promise<Discovery> {
    if (!this.#discovery) {
      this.#discovery = this.#fetchDiscovery().catch(e => {
        // Not cached: the next deploy tries again, e.g. after Entra is back.
        this.#discovery = undefined;
        throw e;
      });
    }
    return this.#discovery;
  }

  async #fetchDiscovery(): Promise<Discovery> {
    const url = this.entra.metadataUrl;
    let doc: { issuer?: string; jwks_uri?: string };
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(this.entra.timeoutMs),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = await res.json();
    } catch (e) {
      throw new ServiceUnavailableError(
        `Could not read Entra's discovery document ${url} (${
          (e as Error).message
        }); check the authority or cloud of the portal's sign-in settings.`,
      );
    }
    if (!doc.issuer || !doc.jwks_uri) {
      throw new ServiceUnavailableError(
        `Entra's discovery document ${url} names no issuer or jwks_uri.`,
      );
    }
    return {
      issuer: doc.issuer,
      keys: createRemoteJWKSet(new URL(doc.jwks_uri), {
        timeoutDuration: this.entra.timeoutMs,
      }),
    };
  }
}
