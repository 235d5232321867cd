import {
  AuthError,
  ConfidentialClientApplication,
  CryptoProvider,
  InteractionRequiredAuthError,
  LogLevel,
} from '@azure/msal-node';
import { LoggerService } from '@backstage/backend-plugin-api';
import { isMicrosoftLoginUrl } from '@internal/entra-cloud';
import { EntraProviderConfig } from '@internal/plugin-auth-backend-module-entra-provider';

/** Entra said the person's refresh token is gone: they must connect again. */
export class DelegationExpiredError extends Error {
  name = 'DelegationExpiredError';
}

/** A delegated token for the portal's own API, and the cache it came from. */
export interface DelegatedAccess {
  accessToken: string;
  /** The serialized MSAL cache, changed when the token was refreshed. */
  cache: string;
  expiresAt?: Date;
}

/**
 * The portal app's side of "deploy as me" for an agent, with MSAL: the
 * authorize URL the person follows, redeeming Entra's code, and fresh
 * access tokens from the stored cache. Each delegation has its own MSAL
 * cache, so one person's refresh token never serves another request.
 */
export class EntraDelegationClient {
  readonly #crypto = new CryptoProvider();

  constructor(
    private readonly entra: EntraProviderConfig,
    private readonly options: {
      /** e.g. api://<portal>/access_as_user */
      scope: string;
      /** Our callback, as registered on the portal app. */
      redirectUri: string;
      logger: LoggerService;
    },
  ) {}

  get scopes() {
    return [this.options.scope, 'offline_access', 'openid', 'profile'];
  }

  async authorizeUrl(options: { state: string; loginHint?: string }) {
    const { verifier, challenge } = await this.#crypto.generatePkceCodes();
    const url = await this.#client().getAuthCodeUrl({
      scopes: this.scopes,
      redirectUri: this.options.redirectUri,
      state: options.state,
      loginHint: options.loginHint,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      responseMode: 'query' as any,
    });
    return { url, verifier };
  }

  /** Redeems the code; the ID token's oid and tid say whose it is. */
  async redeem(code: string, codeVerifier: string) {
    const msal = this.#client();
    const result = await msal.acquireTokenByCode({
      code,
      codeVerifier,
      scopes: this.scopes,
      redirectUri: this.options.redirectUri,
    });
    const claims = (result.idTokenClaims ?? {}) as Record<string, unknown>;
    return {
      oid: String(claims.oid ?? result.account?.localAccountId ?? ''),
      tid: String(claims.tid ?? result.account?.tenantId ?? ''),
      cache: msal.getTokenCache().serialize(),
    };
  }

  /** A valid access token from the cache, refreshed with Entra if needed. */
  async acquire(cache: string, oid: string): Promise<DelegatedAccess> {
    const msal = this.#client();
    const tokenCache = msal.getTokenCache();
    tokenCache.deserialize(cache);
    const account = (await tokenCache.getAllAccounts()).find(
      a => a.localAccountId === oid,
    );
    if (!account) {
      throw new DelegationExpiredError(
        'the stored delegation names no account',
      );
    }
    try {
      const result = await msal.acquireTokenSilent({
        account,
        scopes: [this.options.scope],
      });
      if (!result?.accessToken) {
        throw new DelegationExpiredError('Entra returned no access token');
      }
      return {
        accessToken: result.accessToken,
        cache: tokenCache.serialize(),
        expiresAt: result.expiresOn ?? undefined,
      };
    } catch (e) {
      if (
        e instanceof InteractionRequiredAuthError ||
        (e instanceof AuthError && /invalid_grant/.test(e.errorCode))
      ) {
        throw new DelegationExpiredError(
          `Entra refused the stored delegation (${(e as AuthError).errorCode})`,
        );
      }
      throw e;
    }
  }

  #client() {
    const { entra } = this;
    return new ConfidentialClientApplication({
      auth: {
        clientId: entra.clientId,
        ...entra.credential.msalAuth(),
        authority: entra.authority,
        // As the deploy module: the emulator is trusted as its own host.
        knownAuthorities: isMicrosoftLoginUrl(entra.authority)
          ? []
          : [new URL(entra.authority).host],
      },
      system: {
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (_level, message) =>
            this.options.logger.warn(`MSAL: ${message}`),
        },
      },
    });
  }
}
