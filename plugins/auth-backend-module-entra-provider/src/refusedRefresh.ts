import {
  AuthProviderFactory,
  AuthProviderRouteHandlers,
} from '@backstage/plugin-auth-node';

type Request = Parameters<AuthProviderRouteHandlers['start']>[0];
type Response = Parameters<AuthProviderRouteHandlers['start']>[1];

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** An error that says a service could not answer, rather than refused. */
function isOutage(e: any): boolean {
  const status = e.statusCode ?? e.status ?? e.response?.status;
  return (
    e.name === 'ServiceUnavailableError' ||
    (typeof status === 'number' && status >= 500) ||
    ['FetchError', 'AbortError', 'TimeoutError'].includes(e.name) ||
    NETWORK_ERROR_CODES.has(e.code) ||
    (e.name === 'TypeError' && e.message === 'fetch failed')
  );
}

/**
 * Whether a refresh failed because the session was refused (Entra answered
 * `invalid_grant`: expired, revoked, account disabled; the tenant is not
 * admitted; the person left the catalog, ...) rather than because Entra or
 * the catalog could not answer: an outage must not sign everyone out.
 */
export function isRefusal(error: unknown): boolean {
  for (let e: any = error; e; e = e.cause) {
    if (isOutage(e)) return false;
  }
  return true;
}

/**
 * The response as the provider's logout sees it: cookies reach the browser,
 * its 200 does not, so the refresh's own error answer still goes out.
 */
function cookiesOnly(res: Response): Response {
  const swallowed = new Set(['status', 'end', 'json', 'send', 'sendStatus']);
  const proxy: Response = new Proxy(res, {
    get(target, prop) {
      if (typeof prop === 'string' && swallowed.has(prop)) return () => proxy;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return proxy;
}

/** Removes the session cookies the failed refresh had already set. */
function dropSessionCookies(res: Response, providerId: string) {
  const set = res.getHeader('set-cookie');
  if (set === undefined) return;
  const session = [
    `${providerId}-refresh-token`,
    `${providerId}-granted-scope`,
  ];
  const kept = [set]
    .flat()
    .map(String)
    .filter(
      c =>
        !session.some(
          name => c.startsWith(`${name}=`) || c.startsWith(`${name}-`),
        ),
    );
  res.setHeader('set-cookie', kept);
}

/**
 * Upstream's refresh handler answers a refused refresh with 401 but leaves
 * the refresh-token cookie in place, so the browser keeps presenting a dead
 * session on every page load. This clears it (and the granted-scope cookie)
 * through the provider's own logout, which knows the exact cookie names,
 * chunks, path and domain of each environment.
 */
export function clearSessionOnRefusedRefresh(
  factory: AuthProviderFactory,
): AuthProviderFactory {
  return options => {
    const handlers = factory(options);
    const refresh = handlers.refresh?.bind(handlers);
    const logout = handlers.logout?.bind(handlers);
    const wrapped: AuthProviderRouteHandlers = {
      start: handlers.start.bind(handlers),
      frameHandler: handlers.frameHandler.bind(handlers),
      logout,
    };
    if (refresh) {
      wrapped.refresh = async (req: Request, res: Response) => {
        try {
          await refresh(req, res);
        } catch (error) {
          if (logout && !res.headersSent && isRefusal(error)) {
            // Entra may have rotated the refresh token before the portal
            // refused the person: that new token must not reach the browser.
            dropSessionCookies(res, options.providerId);
            // Best effort: the refusal below is the answer either way.
            await logout(req, cookiesOnly(res)).catch(() => undefined);
          }
          throw error;
        }
      };
    }
    return wrapped;
  };
}
