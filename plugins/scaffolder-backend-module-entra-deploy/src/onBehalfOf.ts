import {
  AuthError,
  ConfidentialClientApplication,
  LogLevel,
} from '@azure/msal-node';
import { LoggerService } from '@backstage/backend-plugin-api';
import { NotAllowedError, ServiceUnavailableError } from '@backstage/errors';
import { isMicrosoftLoginUrl } from '@internal/entra-cloud';
import { describeCredentialText } from '@internal/entra-credentials';
import { EntraProviderConfig } from '@internal/plugin-auth-backend-module-entra-provider';
import { aadstsCode, SignInAgainError } from './errors';

/** A token obtained on behalf of a person, and whether MSAL's cache had it. */
export interface OnBehalfOfToken {
  accessToken: string;
  fromCache: boolean;
}

// Entra's answers that mean the person's delegation is gone or needs them:
// AADSTS50173/50133/700082 (revoked or expired grant), 50076/50079 (MFA),
// 50057 (account disabled). Consent is the admin's business, not theirs.
const CONSENT_CODES = new Set(['AADSTS65001', 'AADSTS650057']);
const MULTI_TENANT_AUTHORITY = /\/(common|organizations)$/i;

/**
 * Exchanges a person's delegated token for a target's scope with MSAL's
 * on-behalf-of flow, as the portal's confidential client. One client per
 * backend, so MSAL's in-memory cache serves repeated deploys of the same
 * person with the same token without asking Entra again. The portal app's
 * credential (secret, certificate or federated token) comes from the auth
 * provider's config; when its file rotates, the MSAL client is built anew.
 */
export class OnBehalfOfClient {
  readonly #create: () => ConfidentialClientApplication;
  readonly #cacheLifetimeMs: number;
  readonly #now: () => number;
  #msal: ConfidentialClientApplication;
  #createdAt: number;
  #credentialVersion: number;
  readonly #authority: string;
  readonly #entra: EntraProviderConfig;

  constructor(
    entra: EntraProviderConfig,
    logger: LoggerService,
    options: {
      /**
       * How long one MSAL cache is kept. MSAL's in-memory cache never drops
       * expired entries, and every person adds one per delegated token
       * (about one an hour), so the cache is started afresh this often.
       * Default one hour, Entra's default access token lifetime.
       */
      cacheLifetimeMs?: number;
      now?: () => number;
    } = {},
  ) {
    this.#authority = entra.authority;
    this.#entra = entra;
    this.#cacheLifetimeMs = options.cacheLifetimeMs ?? 60 * 60 * 1000;
    this.#now = options.now ?? Date.now;
    this.#create = () => this.#newClient(entra, logger);
    this.#credentialVersion = entra.credential.currentVersion();
    this.#msal = this.#create();
    this.#createdAt = this.#now();
  }

  #newClient(entra: EntraProviderConfig, logger: LoggerService) {
    const authority = entra.authority;
    return new ConfidentialClientApplication({
      auth: {
        clientId: entra.clientId,
        ...entra.credential.msalAuth(),
        authority,
        // Microsoft's clouds are known to MSAL; any other authority (the
        // emulator) is trusted as its own host, so MSAL reads its metadata
        // from it instead of calling the public instance discovery.
        knownAuthorities: isMicrosoftLoginUrl(authority)
          ? []
          : [new URL(authority).host],
      },
      system: {
        loggerOptions: {
          // MSAL's own messages never carry tokens at Warning without PII.
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (_level, message) => logger.warn(`MSAL: ${message}`),
        },
      },
    });
  }

  #client(): ConfidentialClientApplication {
    // A rotated secret or certificate needs a new client: MSAL keeps the
    // credential it was built with.
    const version = this.#entra.credential.currentVersion();
    if (
      version !== this.#credentialVersion ||
      this.#now() - this.#createdAt >= this.#cacheLifetimeMs
    ) {
      this.#credentialVersion = version;
      this.#msal = this.#create();
      this.#createdAt = this.#now();
    }
    return this.#msal;
  }

  /**
   * The person's token for `scope`; errors say what to do and never carry a
   * token. `tenantId` is the person's (`tid`): with a multi-tenant
   * (`common`/`organizations`) configuration the exchange goes to their own
   * tenant, since on-behalf-of issues tokens of one tenant.
   */
  async exchange(
    assertion: string,
    scope: string,
    tenantId?: string,
  ): Promise<OnBehalfOfToken> {
    let result;
    try {
      result = await this.#client().acquireTokenOnBehalfOf({
        oboAssertion: assertion,
        scopes: [scope],
        ...(tenantId &&
          MULTI_TENANT_AUTHORITY.test(this.#authority) && {
            authority: this.#authority.replace(
              MULTI_TENANT_AUTHORITY,
              `/${tenantId}`,
            ),
          }),
      });
    } catch (e) {
      throw this.#explain(e, scope);
    }
    if (!result?.accessToken) {
      throw new ServiceUnavailableError(
        `Entra answered the on-behalf-of exchange for ${scope} without a token; try again.`,
      );
    }
    return { accessToken: result.accessToken, fromCache: result.fromCache };
  }

  #explain(e: unknown, scope: string): Error {
    if (!(e instanceof AuthError)) {
      return new ServiceUnavailableError(
        `The on-behalf-of exchange for ${scope} failed: ${
          (e as Error)?.name ?? 'error'
        }; check that the portal reaches its Entra authority.`,
      );
    }
    const code = aadstsCode(e.errorMessage);
    const detail = [e.errorCode, code].filter(Boolean).join(', ');
    if (code && CONSENT_CODES.has(code)) {
      return new NotAllowedError(
        `The portal app may not act for people on ${scope} (${detail}): an Entra admin must grant the portal that delegated permission with admin consent (docs/deploy-identity.md).`,
      );
    }
    if (
      e.errorCode === 'invalid_grant' ||
      e.errorCode === 'interaction_required' ||
      e.errorCode === 'consent_required' ||
      e.errorCode === 'login_required'
    ) {
      return new SignInAgainError(
        `Entra no longer accepts your sign-in for this deploy (${detail}).`,
      );
    }
    if (
      e.errorCode === 'invalid_client' ||
      e.errorCode === 'unauthorized_client'
    ) {
      return new ServiceUnavailableError(
        `Entra refused the portal's client credentials for the on-behalf-of exchange (${detail}); check the portal's client id and its ${describeCredentialText(
          this.#entra.credential.describe(),
        )}.`,
      );
    }
    return new ServiceUnavailableError(
      `The on-behalf-of exchange for ${scope} failed (${
        detail || 'no error code'
      }).`,
    );
  }
}
