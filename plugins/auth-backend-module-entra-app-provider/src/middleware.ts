import type { Server } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  LoggerService,
  RootConfigService,
} from '@backstage/backend-plugin-api';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { CONFIG_KEY } from './config';
import { Exchanged, ExchangeCache } from './exchangeCache';

import {
  AuthProviderRouteHandlers,
  getBearerTokenFromAuthorizationHeader,
} from '@backstage/plugin-auth-node';

type Request = Parameters<AuthProviderRouteHandlers['start']>[0];
type Response = Parameters<AuthProviderRouteHandlers['start']>[1];
type Handler = (req: Request, res: Response, next: (err?: any) => void) => void;

/** Options of {@link acceptEntraAppTokens}. */
export interface AcceptEntraAppTokensOptions {
  /** Exchanged tokens kept at most. Default 10,000. */
  cacheSize?: number;
  /** The clock, for tests. */
  now?: () => number;
}

const PROVIDER_PATH = '/api/auth/entra-app/';

/**
 * An Entra token rather than a Backstage one: Backstage's own tokens say so
 * in their header (`typ: vnd.backstage.*`), and Entra's carry a `tid`.
 * Unverified: this only chooses where the token is verified.
 */
function isEntraToken(token: string): boolean {
  try {
    const { typ } = decodeProtectedHeader(token);
    if (typeof typ === 'string' && typ.startsWith('vnd.backstage'))
      return false;
    return typeof decodeJwt(token).tid === 'string';
  } catch {
    return false;
  }
}

/** Where this backend answers itself: its listening address, loopback for a wildcard. */
function loopbackOrigin(server: Server): string {
  const address = server.address() as AddressInfo | null;
  if (!address) throw new Error('the backend is not listening yet');
  const wildcard = ['0.0.0.0', '::', ''].includes(address.address);
  let host = address.address;
  if (wildcard) host = '127.0.0.1';
  else if (address.family === 'IPv6') host = `[${address.address}]`;
  const protocol = server instanceof HttpsServer ? 'https' : 'http';
  return `${protocol}://${host}:${address.port}`;
}

/** Plain Node response calls: this runs before any router adds Express' helpers. */
function sendJson(res: Response, status: number, body: unknown) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

type Outcome =
  | { ok: true; exchanged: Exchanged; expiresAtMs: number[] }
  | { ok: false; status: number; body: unknown };

/**
 * For the root HTTP router's `configure`, before `applyDefaults()`: a
 * pipeline calls any portal API with its Entra app token. A bearer token
 * that is an Entra token is exchanged at `/api/auth/entra-app/refresh`
 * (over loopback: the auth plugin's provider is not reachable from the root
 * router) for a Backstage token of the service principal's catalog entity,
 * which replaces the `Authorization` header; so every plugin sees a user
 * principal and the ownership policy decides. A refused token answers 401
 * at once with the reason. Each call is logged as `pipeline-call` with the
 * verified identity, never the token.
 *
 * Runs after the request log, CORS and the rate limit (it wraps the rate
 * limit middleware), and only when `auth.providers.entra-app` is set.
 *
 * @public
 */
export function acceptEntraAppTokens(
  context: {
    middleware: { rateLimit(): Handler };
    server: Server;
    config: RootConfigService;
    logger: LoggerService;
  },
  options: AcceptEntraAppTokensOptions = {},
): void {
  if (!context.config.has(CONFIG_KEY)) return;
  const exchange = createExchangeHandler(context, options);
  const rateLimit = context.middleware.rateLimit.bind(context.middleware);
  context.middleware.rateLimit = () => {
    const limit = rateLimit();
    return (req, res, next) =>
      limit(req, res, (err?: any) =>
        err ? next(err) : exchange(req, res, next),
      );
  };
}

function createExchangeHandler(
  context: { server: Server; logger: LoggerService },
  options: AcceptEntraAppTokensOptions,
): Handler {
  const now = options.now ?? Date.now;
  const cache = new ExchangeCache(options.cacheSize ?? 10_000, now);
  const inFlight = new Map<string, Promise<Outcome>>();
  const logger = context.logger;

  async function exchangeAtProvider(token: string): Promise<Outcome> {
    const res = await fetch(
      `${loopbackOrigin(context.server)}${PROVIDER_PATH}refresh`,
      { method: 'POST', headers: { authorization: `Bearer ${token}` } },
    );
    const body: any = await res.json().catch(() => undefined);
    if (res.status !== 200) {
      return {
        ok: false,
        status: res.status,
        body: body?.error
          ? { error: { name: body.error.name, message: body.error.message } }
          : {
              error: {
                name: 'Error',
                message: `Token exchange answered ${res.status}`,
              },
            },
      };
    }
    const identity = body.backstageIdentity;
    const info = body.providerInfo;
    return {
      ok: true,
      exchanged: {
        backstageToken: identity.token,
        entityRef: identity.identity.userEntityRef,
        appId: info.appId,
        objectId: info.objectId,
        tenantId: info.tenantId,
      },
      expiresAtMs: [
        info.expiresAt * 1000,
        now() + (identity.expiresInSeconds ?? 0) * 1000,
      ],
    };
  }

  async function exchangeCached(token: string): Promise<Outcome> {
    const key = ExchangeCache.keyOf(token);
    const cached = cache.get(key);
    if (cached) return { ok: true, exchanged: cached, expiresAtMs: [] };
    let pending = inFlight.get(key);
    if (!pending) {
      // Concurrent calls with one new token share one exchange.
      pending = exchangeAtProvider(token).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
      pending
        .then(outcome => {
          if (outcome.ok)
            cache.set(key, outcome.exchanged, outcome.expiresAtMs);
        })
        .catch(() => {});
    }
    return pending;
  }

  return (req, res, next) => {
    const token = getBearerTokenFromAuthorizationHeader(
      req.headers.authorization,
    );
    // The path as the client sent it, without the query (which is not logged).
    const path = (req.originalUrl ?? req.url ?? '').split('?')[0];
    if (
      !token ||
      !path.startsWith('/api/') ||
      // The provider reads the Entra token itself (and is where the
      // exchange goes: no loop).
      path.toLowerCase().startsWith(PROVIDER_PATH) ||
      !isEntraToken(token)
    ) {
      next();
      return;
    }
    exchangeCached(token).then(
      outcome => {
        if (!outcome.ok) {
          sendJson(res, outcome.status, outcome.body);
          return;
        }
        const { exchanged } = outcome;
        req.headers.authorization = `Bearer ${exchanged.backstageToken}`;
        res.on('finish', () => {
          logger.info(
            `pipeline-call ${exchanged.entityRef} (appid ${exchanged.appId}, oid ${exchanged.objectId}, tid ${exchanged.tenantId}) ` +
              `${req.method} ${path} ${res.statusCode}`,
            {
              type: 'pipeline-call',
              entityRef: exchanged.entityRef,
              appid: exchanged.appId,
              oid: exchanged.objectId,
              tid: exchanged.tenantId,
              method: req.method,
              path,
              status: res.statusCode,
            },
          );
        });
        next();
      },
      error => {
        logger.error(`Could not exchange an Entra app token: ${error}`);
        sendJson(res, 503, {
          error: {
            name: 'ServiceUnavailableError',
            message: 'The Entra app token could not be exchanged; try again',
          },
        });
      },
    );
  };
}
