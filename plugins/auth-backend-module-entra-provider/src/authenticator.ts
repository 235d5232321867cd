import {
  AuthenticationError,
  InputError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  createOAuthAuthenticator,
  OAuthAuthenticatorResult,
  OAuthSession,
} from '@backstage/plugin-auth-node';
import {
  Client,
  custom,
  errors as oidcErrors,
  generators,
  IdTokenClaims,
  Issuer,
  TokenSet,
} from 'openid-client';
import { LoggerService } from '@backstage/backend-plugin-api';
import { describeCredentialText } from '@internal/entra-credentials';
import { isGraphScope } from './cloud';
import { EntraProviderConfig, readEntraProviderConfig } from './providerConfig';
import {
  noteAuthenticating,
  noteVerified,
  noting,
  refusal,
  SignInRefusalReason,
} from './signInAudit';
import { SignInFlowStore } from './signInFlows';
import { refuseUnlessAdmitted, TenantIssuers } from './tenantIssuer';

/** The verified claims of an Entra ID token that identity is built from. */
export interface EntraIdTokenClaims extends IdTokenClaims {
  /** Object id of the person in their home tenant: the identity key. */
  oid: string;
  /** Tenant id: checked against the configured tenant(s). */
  tid: string;
  name?: string;
  preferred_username?: string;
  /** Email domain owner verified (optional claim). */
  xms_edov?: boolean | string;
  /** Account type (optional claim): 0 member, 1 guest. */
  acct?: number | string;
  /** Where a guest authenticated: their home tenant's issuer or a provider. */
  idp?: string;
}

/**
 * What sign-in resolvers receive: claims of a verified ID token only. Tokens
 * are kept out so a resolver or log line cannot leak them.
 */
export interface EntraAuthResult {
  claims: EntraIdTokenClaims;
  /** The person's photo as a data: URL, when Graph has one. */
  picture?: string;
}

interface EntraClients {
  /** Starts flows and redeems codes and refresh tokens at the authority. */
  client: Client;
  /** Where codes and refresh tokens are redeemed: the client assertion's audience. */
  tokenEndpoint: string;
  /** Set for `common`/`organizations`: verifies each token as its tenant's. */
  tenants?: TenantIssuers;
}

interface EntraContext {
  config: EntraProviderConfig;
  callbackUrl: string;
  clients(): Promise<EntraClients>;
  flows: SignInFlowStore;
}

const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/**
 * A scope of a resource other than Graph, e.g. `api://<app>/access_as_user`.
 * Entra issues one access token per resource, so such scopes are never mixed
 * with Graph's in one request.
 */
function isResourceScope(scope: string) {
  return scope.includes('/') && !isGraphScope(scope);
}

/**
 * Discovers the authority lazily and retries after a failure: an unreachable
 * Entra must not stop the portal from starting, and must not stay cached.
 */
function lazyClients(config: EntraProviderConfig, callbackUrl: string) {
  let pending: Promise<EntraClients> | undefined;
  const httpOptions = (_url: URL, options: any) => ({
    ...options,
    timeout: config.timeoutMs,
  });
  const newClient = (issuer: Issuer<Client>) => {
    issuer[custom.http_options] = httpOptions;
    // The client authentication (secret or assertion) goes into each token
    // request's body (see clientAuth below): openid-client's own methods
    // cannot put Entra's x5t headers on an assertion or read a rotated file.
    const client = new issuer.Client({
      client_id: config.clientId,
      redirect_uris: [callbackUrl],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'RS256',
    });
    client[custom.http_options] = httpOptions;
    return client;
  };
  return () => {
    pending ??= Issuer.discover(config.metadataUrl)
      .then(issuer => ({
        client: newClient(issuer),
        tokenEndpoint: issuer.metadata.token_endpoint!,
        tenants: TenantIssuers.of(issuer, config, newClient),
      }))
      .catch(error => {
        pending = undefined;
        throw new ServiceUnavailableError(
          `Microsoft Entra ID cannot be reached at ${config.metadataUrl} (${error.message}). ` +
            'Sign-in works again once it answers; check the network and auth.providers.microsoft.',
        );
      });
    return pending;
  };
}

/** The body parameters that authenticate the portal's app to the token endpoint. */
function clientAuth(config: EntraProviderConfig, clients: EntraClients) {
  return config.credential.tokenEndpointAuth(clients.tokenEndpoint);
}

/**
 * Entra's refusal of the portal's own credential (wrong or expired secret,
 * unregistered certificate, federated token it does not trust) is the
 * operator's to fix, not the person's: say which credential it was, by kind,
 * file and thumbprint only.
 */
function credentialRefused(
  error: unknown,
  config: EntraProviderConfig,
): string | undefined {
  if (
    error instanceof oidcErrors.OPError &&
    (error.error === 'invalid_client' || error.error === 'unauthorized_client')
  ) {
    return `Entra refused the portal's app credential (${describeCredentialText(
      config.credential.describe(),
    )}): ${
      error.message
    }. An admin must register that credential on the app registration or configure the right one.`;
  }
  return undefined;
}

/** Admits only tokens of the configured tenant(s) that carry an oid. */
function checkedClaims(
  tokenset: TokenSet,
  config: EntraProviderConfig,
): EntraIdTokenClaims {
  const claims = tokenset.claims() as EntraIdTokenClaims;
  // Verified by now (openid-client, or TenantIssuers): what the audit event
  // may name, whether or not the tenant is admitted.
  noteVerified(claims);
  refuseUnlessAdmitted(claims.tid, config);
  if (!claims.oid) {
    throw refusal(
      'token-invalid',
      new AuthenticationError(
        'Sign-in refused: the ID token has no oid claim (personal Microsoft accounts are not supported).',
      ),
    );
  }
  return claims;
}

/**
 * The person's photo from Graph, as a data: URL for the profile. Only with a
 * Graph token (the sign-in's User.Read one); never fails the sign-in: a
 * person without a photo, or a slow Graph, just has no picture.
 */
async function readPhoto(
  tokenset: TokenSet,
  config: EntraProviderConfig,
): Promise<string | undefined> {
  const scopes = (tokenset.scope ?? '').split(' ');
  if (!config.loadPhoto || scopes.some(isResourceScope)) return undefined;
  try {
    const res = await fetch(`${config.graphUrl}/me/photos/96x96/$value`, {
      headers: { authorization: `Bearer ${tokenset.access_token}` },
      signal: AbortSignal.timeout(3000),
    });
    if (!res.ok) return undefined;
    const type = res.headers.get('content-type') ?? 'image/jpeg';
    const bytes = Buffer.from(await res.arrayBuffer());
    return `data:${type};base64,${bytes.toString('base64')}`;
  } catch {
    return undefined;
  }
}

function toSession(tokenset: TokenSet, refreshToken?: string): OAuthSession {
  return {
    accessToken: tokenset.access_token!,
    tokenType: tokenset.token_type ?? 'Bearer',
    scope: tokenset.scope ?? '',
    expiresInSeconds: tokenset.expires_in,
    idToken: tokenset.id_token,
    refreshToken: tokenset.refresh_token ?? refreshToken,
  };
}

/**
 * Microsoft Entra ID authenticator: authorization code flow with PKCE (S256),
 * state and nonce, on openid-client. The ID token's signature (tenant keys,
 * RS256 only), issuer, audience, expiry and nonce are verified by
 * openid-client (for `common`/`organizations`, with the issuer of the
 * token's admitted tenant: see TenantIssuers); the tenant and oid are
 * checked here. The profile comes from
 * the ID token, never from userinfo (which fails for resource tokens).
 */
function entraAuthenticator(deps: {
  flows: SignInFlowStore;
  logger: LoggerService;
}) {
  return createOAuthAuthenticator<EntraContext, EntraAuthResult>({
    defaultProfileTransform: async (
      result: OAuthAuthenticatorResult<EntraAuthResult>,
    ) => ({
      profile: {
        displayName: result.fullProfile.claims.name,
        picture: result.fullProfile.picture,
        // Shown to the person; never used to decide who they are.
        email:
          (result.fullProfile.claims.email as string | undefined) ??
          result.fullProfile.claims.preferred_username,
      },
    }),
    scopes: {
      persist: true,
      required: OIDC_SCOPES,
      transform({ requested, granted, required, additional }) {
        const asked = [...requested];
        const resource = asked.filter(isResourceScope);
        if (resource.length > 0) {
          return [...OIDC_SCOPES, ...resource];
        }
        return new Set([
          ...required,
          ...additional,
          ...[...granted].filter(s => !isResourceScope(s)),
          ...asked,
        ]);
      },
    },

    initialize({ callbackUrl, config }) {
      const entra = readEntraProviderConfig(config, { logger: deps.logger });
      deps.logger.info(
        `Entra sign-in authenticates the portal's app with its ${describeCredentialText(
          entra.credential.describe(),
        )}`,
      );
      return {
        config: entra,
        // Backstage passes `callbackUrl` from config when set, else its default.
        callbackUrl,
        clients: lazyClients(entra, callbackUrl),
        flows: deps.flows,
      };
    },

    async start(input, ctx) {
      const { client } = await ctx.clients();
      const { nonce, codeVerifier } = await ctx.flows.begin(input.state);
      const url = client.authorizationUrl({
        scope: input.scope,
        state: input.state,
        nonce,
        code_challenge: generators.codeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        response_mode: 'query',
        ...(ctx.config.domainHint
          ? { domain_hint: ctx.config.domainHint }
          : {}),
      });
      return { url };
    },

    async authenticate(input, ctx) {
      const clients = await ctx.clients();
      const { client, tenants } = clients;
      const params = client.callbackParams(input.req);
      if (params.error) {
        throw refusal(
          /AADSTS50057/.test(String(params.error_description))
            ? 'account-disabled'
            : 'entra-refused',
          new AuthenticationError(
            `Microsoft Entra ID refused sign-in: ${params.error}${
              params.error_description ? ` (${params.error_description})` : ''
            }`,
          ),
        );
      }
      if (!params.state || !params.code) {
        throw refusal(
          'callback-invalid',
          new InputError('Sign-in callback is missing its code or state'),
        );
      }
      const flow = await ctx.flows.take(params.state);
      if (!flow) {
        throw refusal(
          'flow-unknown',
          new AuthenticationError(
            'Sign-in refused: this sign-in was not started here, was already completed, or took longer than 10 minutes. Sign in again.',
          ),
        );
      }
      const { nonce, codeVerifier } = flow;
      let tokenset: TokenSet;
      try {
        const auth = await clientAuth(ctx.config, clients);
        tokenset = tenants
          ? await tenants.verify(
              await client.grant({
                grant_type: 'authorization_code',
                code: params.code,
                redirect_uri: ctx.callbackUrl,
                code_verifier: codeVerifier,
                ...auth,
              }),
              nonce,
            )
          : await client.callback(
              ctx.callbackUrl,
              params,
              {
                state: params.state,
                nonce,
                code_verifier: codeVerifier,
                response_type: 'code',
              },
              { exchangeBody: auth },
            );
      } catch (error) {
        if (error instanceof AuthenticationError) throw error;
        const refused = credentialRefused(error, ctx.config);
        if (refused) {
          throw refusal(
            'app-credential-refused',
            new AuthenticationError(
              `Sign-in with Microsoft Entra ID failed: ${refused}`,
            ),
          );
        }
        throw refusal(
          exchangeRefusal(error),
          new AuthenticationError(
            `Sign-in with Microsoft Entra ID failed: ${
              (error as Error).message
            }`,
          ),
        );
      }
      const claims = checkedClaims(tokenset, ctx.config);
      return {
        fullProfile: { claims, picture: await readPhoto(tokenset, ctx.config) },
        session: toSession(tokenset),
      };
    },

    async refresh(input, ctx) {
      const clients = await ctx.clients();
      const { client, tenants } = clients;
      let tokenset: TokenSet;
      try {
        const auth = await clientAuth(ctx.config, clients);
        // Entra needs the scope on refresh; it selects the resource.
        tokenset = tenants
          ? await tenants.verify(
              await client.grant({
                grant_type: 'refresh_token',
                refresh_token: input.refreshToken,
                scope: input.scope,
                ...auth,
              }),
              undefined,
            )
          : await client.refresh(input.refreshToken, {
              exchangeBody: { scope: input.scope, ...auth },
            });
      } catch (error) {
        if (error instanceof AuthenticationError) throw error;
        // The portal's credential refused is the operator's problem: the
        // session stays (as in an outage) until they fix it.
        const refused = credentialRefused(error, ctx.config);
        if (refused) {
          throw new ServiceUnavailableError(
            `Refreshing the Microsoft Entra ID session failed: ${refused}`,
          );
        }
        // Entra's answer (invalid_grant: expired, revoked) ends the session; a
        // network failure, or Entra saying it cannot answer now (5xx,
        // temporarily_unavailable), does not, so the session survives an outage.
        if (
          isEntraUnavailable(error) ||
          (!(error instanceof oidcErrors.OPError) &&
            !(error instanceof oidcErrors.RPError))
        ) {
          throw new ServiceUnavailableError(
            `Microsoft Entra ID cannot be reached to refresh the session (${
              (error as Error).message
            }). Try again once it answers.`,
          );
        }
        throw refusal(
          refreshRefusal(error),
          new AuthenticationError(
            `Refreshing the Microsoft Entra ID session failed: ${
              (error as Error).message
            }`,
          ),
        );
      }
      if (!tokenset.id_token) {
        throw refusal(
          'token-invalid',
          new AuthenticationError(
            'Microsoft Entra ID returned no ID token on refresh',
          ),
        );
      }
      const claims = checkedClaims(tokenset, ctx.config);
      return {
        fullProfile: { claims, picture: await readPhoto(tokenset, ctx.config) },
        session: toSession(tokenset, input.refreshToken),
      };
    },
  });
}

/**
 * The Entra authenticator, telling the sign-in and refresh audit events
 * what they need of the token exchange: that it started (the callback
 * passed upstream's state checks) and the error it ended with.
 */
export function createEntraAuthenticator(deps: {
  flows: SignInFlowStore;
  logger: LoggerService;
}) {
  const authenticator = entraAuthenticator(deps);
  return {
    ...authenticator,
    authenticate: (input, ctx) =>
      noting(() => {
        noteAuthenticating();
        return authenticator.authenticate(input, ctx);
      }),
    refresh: (input, ctx) =>
      noting(() => {
        noteAuthenticating();
        return authenticator.refresh(input, ctx);
      }),
  } satisfies typeof authenticator;
}

/**
 * Why Entra's answer ended the session: the account is disabled
 * (AADSTS50057), the refresh token is expired or revoked, or the new ID
 * token failed openid-client's checks.
 */
function refreshRefusal(error: unknown): SignInRefusalReason {
  if (error instanceof oidcErrors.RPError) return 'token-invalid';
  if (/AADSTS50057/.test((error as Error).message)) return 'account-disabled';
  return 'refresh-token-refused';
}

/**
 * Why redeeming a sign-in's code failed: Entra refused the code (replayed,
 * PKCE or redirect mismatch), the ID token failed openid-client's checks,
 * or Entra could not answer.
 */
function exchangeRefusal(error: unknown): SignInRefusalReason {
  if (isEntraUnavailable(error)) return 'unavailable';
  if (error instanceof oidcErrors.OPError) return 'code-refused';
  if (error instanceof oidcErrors.RPError) return 'token-invalid';
  return 'unavailable';
}

/**
 * Whether Entra answered, but only to say it cannot serve the request now:
 * a 5xx, or the OAuth errors for that (`temporarily_unavailable`,
 * `server_error`). Such an answer is an outage, not a refusal of the session.
 */
function isEntraUnavailable(error: unknown): boolean {
  if (!(error instanceof oidcErrors.OPError)) return false;
  const status = error.response?.statusCode;
  return (
    (typeof status === 'number' && status >= 500) ||
    error.error === 'temporarily_unavailable' ||
    error.error === 'server_error'
  );
}
