import { AsyncLocalStorage } from 'node:async_hooks';
import { AuditorService, LoggerService } from '@backstage/backend-plugin-api';
import { isError, NotAllowedError } from '@backstage/errors';
import {
  AuthProviderFactory,
  AuthProviderRouteHandlers,
  createOAuthRouteHandlers,
  decodeOAuthState,
  OAuthAuthenticator,
  OAuthEnvironmentHandler,
  readDeclarativeSignInResolver,
  SignInResolver,
  SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { isRefusal } from './refusedRefresh';

type Request = Parameters<AuthProviderRouteHandlers['start']>[0];
type Response = Parameters<AuthProviderRouteHandlers['start']>[1];
type FactoryOptions = Parameters<AuthProviderFactory>[0];

/**
 * Why a sign-in or a refresh was refused, as the audit trail's `meta.reason`:
 * short and stable, so a review can count and filter them; the error's
 * message says the rest.
 */
export type SignInRefusalReason =
  /** No catalog User carries the person's object id (or verified email). */
  | 'not-in-catalog'
  /** The catalog marks the User disabled, or Entra says the account is. */
  | 'account-disabled'
  /** The token's tenant is not one this portal admits. */
  | 'tenant-not-admitted'
  /** The ID token failed verification (signature, issuer, audience, expiry, nonce, oid). */
  | 'token-invalid'
  /** The callback's state does not belong to this browser (nonce cookie). */
  | 'state-mismatch'
  /** The state is not a sign-in this portal started, or was already used or expired. */
  | 'flow-unknown'
  /** The callback lacks its code or state, or its state cannot be read. */
  | 'callback-invalid'
  /** The callback names an app origin or redirect this portal does not allow. */
  | 'origin-not-allowed'
  /** The callback names no configured auth environment. */
  | 'environment-unknown'
  /** Entra answered the sign-in with an error (the person cancelled, consent missing...). */
  | 'entra-refused'
  /** Entra refused the authorization code (replayed, PKCE or redirect mismatch). */
  | 'code-refused'
  /** Entra refused the refresh token (expired, revoked). */
  | 'refresh-token-refused'
  /** Entra refused the portal's own app credential: the operator's to fix. */
  | 'app-credential-refused'
  /** Entra or the catalog could not answer. */
  | 'unavailable'
  /** The email resolver: Entra does not mark the email verified. */
  | 'email-unverified'
  /** The email resolver: the email's domain is not an allowed one. */
  | 'email-domain-not-allowed'
  /** The email resolver: a B2B guest. */
  | 'guest-not-allowed'
  /** The email resolver: more than one User carries the email. */
  | 'email-ambiguous'
  /** Anything else. */
  | 'sign-in-failed';

const reasons = new WeakMap<object, SignInRefusalReason>();

/**
 * Marks `error` with the reason a sign-in is refused for, and returns it
 * (`throw refusal('flow-unknown', new AuthenticationError(...))`). Kept
 * beside the error, not on it: the error itself is serialized to the browser.
 */
export function refusal<E extends Error>(
  reason: SignInRefusalReason,
  error: E,
): E {
  reasons.set(error, reason);
  return error;
}

/** The reason of an error: its mark, else by its name. */
function reasonOf(error: unknown): SignInRefusalReason {
  if (typeof error === 'object' && error !== null) {
    const marked = reasons.get(error);
    if (marked) return marked;
  }
  if (!isRefusal(error)) return 'unavailable';
  const name = isError(error) ? error.name : undefined;
  if (name === 'NotFoundError') return 'not-in-catalog';
  return 'sign-in-failed';
}

/**
 * What one sign-in callback or refresh found out on its way: filled in by
 * the authenticator and the sign-in resolver as it passes them, read once at
 * the end to emit the one event of the attempt.
 */
interface Attempt {
  /** The callback passed upstream's state and nonce checks. */
  authenticating?: boolean;
  /** Object id and tenant of an ID token that passed verification. */
  verified?: { oid: string; tid: string };
  /** The User the person resolved to (or was refused as, when disabled). */
  entityRef?: string;
  /** The error the person is shown, with its reason. */
  failure?: { error: Error; reason: SignInRefusalReason };
  /** The reason of the last declarative resolver that found no User. */
  resolverReason?: SignInRefusalReason;
}

const attempts = new AsyncLocalStorage<Attempt>();

/** The authenticator starts redeeming the callback (or the refresh token). */
export function noteAuthenticating() {
  const attempt = attempts.getStore();
  if (attempt) attempt.authenticating = true;
}

/** The ID token passed verification: its object id and tenant are facts. */
export function noteVerified(claims: { oid?: unknown; tid?: unknown }) {
  const attempt = attempts.getStore();
  if (attempt && typeof claims.oid === 'string' && claims.oid) {
    attempt.verified = { oid: claims.oid, tid: String(claims.tid ?? '') };
  }
}

/** The person resolved to (or was refused as) this catalog User. */
export function noteEntityRef(entityRef: string) {
  const attempt = attempts.getStore();
  if (attempt) attempt.entityRef = entityRef;
}

/** What the authenticator or the sign-in resolver threw to upstream. */
export function noteFailure(error: unknown) {
  const attempt = attempts.getStore();
  if (attempt && isError(error)) {
    attempt.failure = { error, reason: reasonOf(error) };
  }
}

/** Runs `fn`, noting its error as the attempt's failure. */
export async function noting<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    noteFailure(error);
    throw error;
  }
}

/**
 * The `sub` of the Backstage token the auth plugin just issued in-process
 * (its signature is the plugin's own; nothing outside chose it).
 */
function userEntityRefOf(token: string): string | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    );
    return typeof payload?.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The resolver upstream calls, observed: its result names the User, its
 * error is the one the person sees. When every declarative resolver found
 * no User, upstream throws a generic Error of its own; the reason is then
 * the resolvers'.
 */
function observedResolver<T>(resolver: SignInResolver<T>): SignInResolver<T> {
  return async (info, ctx) => {
    try {
      const result = await resolver(info, ctx);
      const ref = userEntityRefOf(result.token);
      if (ref) noteEntityRef(ref);
      return result;
    } catch (error) {
      const attempt = attempts.getStore();
      if (attempt && isError(error)) {
        attempt.failure = {
          error,
          reason:
            reasons.get(error) ??
            (error.name === 'Error' ? attempt.resolverReason : undefined) ??
            reasonOf(error),
        };
      }
      throw error;
    }
  };
}

/** A resolver factory whose resolvers record why they found no User. */
function observedFactory<T>(
  factory: SignInResolverFactory<T, any>,
): SignInResolverFactory<T, any> {
  return options => {
    const resolver = factory(options);
    return async (info, ctx) => {
      try {
        return await resolver(info, ctx);
      } catch (error) {
        const attempt = attempts.getStore();
        if (attempt) attempt.resolverReason = reasonOf(error);
        throw error;
      }
    };
  };
}

/**
 * Upstream's `createOAuthProviderFactory`, with the sign-in resolver it
 * picks observed: the declarative resolver upstream builds from config wraps
 * the configured ones, so only here is the resolver whose error the person
 * sees within reach.
 */
export function createObservedOAuthProviderFactory<TProfile>(options: {
  authenticator: OAuthAuthenticator<unknown, TProfile>;
  signInResolver?: SignInResolver<any>;
  signInResolverFactories?: { [name: string]: SignInResolverFactory<any, any> };
}): AuthProviderFactory {
  const factories = Object.fromEntries(
    Object.entries(options.signInResolverFactories ?? {}).map(
      ([name, factory]) => [name, observedFactory(factory)],
    ),
  );
  return ctx =>
    OAuthEnvironmentHandler.mapConfig(ctx.config, envConfig => {
      const resolver =
        readDeclarativeSignInResolver({
          config: envConfig,
          signInResolverFactories: factories,
        }) ?? options.signInResolver;
      return createOAuthRouteHandlers<TProfile>({
        authenticator: options.authenticator,
        appUrl: ctx.appUrl,
        baseUrl: ctx.baseUrl,
        config: envConfig,
        isOriginAllowed: ctx.isOriginAllowed,
        cookieConfigurer: ctx.cookieConfigurer,
        providerId: ctx.providerId,
        resolverContext: ctx.resolverContext,
        signInResolver: resolver && observedResolver(resolver),
      });
    });
}

/**
 * Why upstream's frame handler refused a callback before the authenticator
 * saw it: the same checks, in the same order, with the same messages as
 * `createOAuthRouteHandlers`, which answers the browser itself and tells its
 * caller nothing.
 */
function refusedBeforeAuthenticating(
  req: Request,
  options: FactoryOptions,
): Error {
  let state: Record<string, string | undefined>;
  try {
    state = decodeOAuthState(req.query.state?.toString() ?? '');
  } catch (error) {
    return refusal('callback-invalid', error as Error);
  }
  if (state.flow === 'redirect') {
    let url: URL | undefined;
    try {
      url = new URL(state.redirectUrl ?? '');
    } catch {
      url = undefined;
    }
    if (!url || !options.isOriginAllowed(url.origin)) {
      return refusal(
        'origin-not-allowed',
        new NotAllowedError('Redirect URL is not an allowed origin'),
      );
    }
  }
  if (state.origin) {
    let origin: string | undefined;
    try {
      origin = new URL(state.origin).origin;
    } catch {
      origin = undefined;
    }
    if (!origin || !options.isOriginAllowed(origin)) {
      return refusal(
        'origin-not-allowed',
        new NotAllowedError(
          `Origin '${origin ?? state.origin}' is not allowed`,
        ),
      );
    }
  }
  const cookieNonce = req.cookies?.[`${options.providerId}-nonce`];
  if (!cookieNonce) {
    return refusal(
      'state-mismatch',
      new NotAllowedError('Auth response is missing cookie nonce'),
    );
  }
  if (cookieNonce !== state.nonce) {
    return refusal('state-mismatch', new NotAllowedError('Invalid nonce'));
  }
  return refusal(
    'sign-in-failed',
    new NotAllowedError('The sign-in callback was refused before it was read'),
  );
}

// A JWT, whole or cut short: header and payload always start with `eyJ`.
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){0,2}/g;

/**
 * The error as the event carries it: name and message only (a cause, a
 * response or an OAuth error's body may hold tokens), and the message with
 * anything token-like removed, whatever the auditor downstream redacts.
 */
function publicError(error: Error): Error {
  const safe = new Error(
    error.message
      .replace(JWT_LIKE, '[redacted]')
      .replace(/\b(Bearer)\s+[^\s,;"']+/gi, '$1 [redacted]'),
  );
  safe.name = error.name;
  return safe;
}

/**
 * The request as the auditor sees it: without its query, which on the
 * callback carries the authorization code and state (upstream's auditor
 * logs `originalUrl` whole).
 */
function withoutQuery(req: Request): Request {
  const path = (url: string | undefined) => (url ?? '').split('?')[0];
  const overrides: Record<string, unknown> = {
    originalUrl: path(req.originalUrl),
    url: path(req.url),
    query: {},
  };
  return new Proxy(req, {
    get(target, prop) {
      if (typeof prop === 'string' && prop in overrides) {
        return overrides[prop];
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The explicit actor (the audit trail's `AuditActor`): the person is not
 * signed in yet, so the request says nothing of them. Object id and tenant
 * only from a verified ID token; without one, anonymous.
 */
function actorOf(attempt: Attempt) {
  if (!attempt.verified) return { kind: 'anonymous' };
  return {
    kind: 'person',
    ...(attempt.entityRef && { entityRef: attempt.entityRef }),
    oid: attempt.verified.oid,
    ...(attempt.verified.tid && { tid: attempt.verified.tid }),
  };
}

async function emit(
  deps: { auditor: AuditorService; logger: LoggerService },
  eventId: 'sign-in' | 'session-refused',
  req: Request,
  attempt: Attempt,
  failure?: { error: Error; reason: SignInRefusalReason },
) {
  try {
    const event = await deps.auditor.createEvent({
      eventId,
      severityLevel: failure ? 'medium' : 'low',
      request: withoutQuery(req),
      meta: {
        actor: actorOf(attempt),
        ...(failure && { reason: failure.reason }),
      },
    });
    if (failure) {
      await event.fail({
        meta: { reason: failure.reason },
        error: publicError(failure.error),
      });
    } else {
      await event.success();
    }
  } catch (error) {
    // The audit trail must not decide whether someone can sign in.
    deps.logger.error(`Could not audit a ${eventId} event: ${error}`);
  }
}

/**
 * The sign-in callback's outcome: one event per callback that reaches the
 * provider, whether upstream, the authenticator or the resolver refused it.
 */
function signInOutcome(
  req: Request,
  attempt: Attempt,
  options: FactoryOptions,
  thrown?: unknown,
): { error: Error; reason: SignInRefusalReason } | undefined {
  if (attempt.failure) return attempt.failure;
  if (thrown !== undefined) {
    // Thrown past the frame handler: the environment handler could not
    // read the callback's state or has no such environment.
    const error = isError(thrown) ? thrown : new Error(String(thrown));
    let reason: SignInRefusalReason = 'environment-unknown';
    try {
      decodeOAuthState(req.query.state?.toString() ?? '');
    } catch {
      reason = 'callback-invalid';
    }
    return { error, reason: reasons.get(error) ?? reason };
  }
  if (!attempt.authenticating) {
    const error = refusedBeforeAuthenticating(req, options);
    return { error, reason: reasonOf(error) };
  }
  if (!attempt.entityRef) {
    return {
      error: new Error('Sign-in did not complete'),
      reason: 'sign-in-failed',
    };
  }
  return undefined;
}

/**
 * Audits the provider's sign-ins and refused sessions:
 * - `sign-in`, once per callback: succeeded with the person (entity ref and
 *   the verified token's oid and tid), or failed with `meta.reason` and the
 *   error the person is shown;
 * - `session-refused`, once per refresh refused because access is gone
 *   (Entra said invalid_grant, the person left the catalog or is disabled).
 *   A refresh without a session cookie (a visitor not signed in) and one
 *   that failed for an outage are not refusals and emit nothing.
 * Never a token, code, state or nonce: meta is the actor and the reason.
 */
export function auditSignIns(
  factory: AuthProviderFactory,
  deps: { auditor: AuditorService; logger: LoggerService },
): AuthProviderFactory {
  return options => {
    const handlers = factory(options);
    const frameHandler = handlers.frameHandler.bind(handlers);
    const refresh = handlers.refresh?.bind(handlers);
    const wrapped: AuthProviderRouteHandlers = {
      start: handlers.start.bind(handlers),
      logout: handlers.logout?.bind(handlers),
      async frameHandler(req: Request, res: Response) {
        const attempt: Attempt = {};
        try {
          await attempts.run(attempt, () => frameHandler(req, res));
        } catch (error) {
          await emit(
            deps,
            'sign-in',
            req,
            attempt,
            signInOutcome(req, attempt, options, error),
          );
          throw error;
        }
        await emit(
          deps,
          'sign-in',
          req,
          attempt,
          signInOutcome(req, attempt, options),
        );
      },
    };
    if (refresh) {
      wrapped.refresh = async (req: Request, res: Response) => {
        const attempt: Attempt = {};
        try {
          await attempts.run(attempt, () => refresh(req, res));
        } catch (error) {
          if (attempt.authenticating && isRefusal(error)) {
            await emit(deps, 'session-refused', req, attempt, {
              error: isError(error) ? error : new Error(String(error)),
              reason: attempt.failure?.reason ?? reasonOf(error),
            });
          }
          throw error;
        }
      };
    }
    return wrapped;
  };
}
