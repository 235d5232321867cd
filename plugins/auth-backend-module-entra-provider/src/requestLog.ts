import { LoggerService } from '@backstage/backend-plugin-api';
import { AuthProviderRouteHandlers } from '@backstage/plugin-auth-node';

type Request = Parameters<AuthProviderRouteHandlers['start']>[0];
type Response = Parameters<AuthProviderRouteHandlers['start']>[1];
type Handler = (req: Request, res: Response, next: (err?: any) => void) => void;

/**
 * Query parameters of OAuth and OpenID Connect flows whose values grant or
 * prove access: a sign-in callback carries `code` and `state` (and Entra's
 * `session_state`), implicit and form-post flows carry tokens, and token
 * endpoints called by URL would carry client credentials.
 */
export const OAUTH_SECRET_PARAMS: readonly string[] = [
  'code',
  'state',
  'id_token',
  'access_token',
  'refresh_token',
  'session_state',
  'client_secret',
  'client_assertion',
];

const SECRET_PARAMS = new Set(OAUTH_SECRET_PARAMS);

function paramName(raw: string) {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/**
 * The URL with the value of every OAuth secret query parameter replaced by
 * `***`; the path, the other parameters and their order stay as they were,
 * so the log line still says which request it was.
 */
export function redactOAuthSecrets(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const redacted = url
    .slice(query + 1)
    .replace(/(^|[&;])([^=&;#]*)=([^&;#]*)/g, (match, sep, name, value) =>
      value && SECRET_PARAMS.has(paramName(name)) ? `${sep}${name}=***` : match,
    );
  return `${url.slice(0, query + 1)}${redacted}`;
}

/**
 * Backstage's request log (the same line and fields as the root HTTP
 * router's `middleware.logging()`), with OAuth secrets redacted from the URL
 * and the referrer.
 */
export function requestLoggingWithoutOAuthSecrets(
  logger: LoggerService,
): Handler {
  return (req, res, next) => {
    res.on('finish', () => {
      const referrerHeader = req.headers.referer ?? req.headers.referrer;
      const userAgent = req.headers['user-agent'];
      const contentLength = Number(res.getHeader('content-length'));
      const meta: Record<string, string | number> = {
        method: req.method ?? '',
        url: redactOAuthSecrets(req.originalUrl ?? req.url ?? ''),
        status: res.statusCode,
        httpVersion: `${req.httpVersionMajor}.${req.httpVersionMinor}`,
      };
      if (userAgent) meta.userAgent = userAgent;
      if (isFinite(contentLength)) meta.contentLength = contentLength;
      if (referrerHeader) {
        meta.referrer = redactOAuthSecrets(
          Array.isArray(referrerHeader)
            ? referrerHeader.join(', ')
            : referrerHeader,
        );
      }
      logger.info(
        `"${meta.method} ${meta.url} HTTP/${meta.httpVersion}" ${meta.status} ${
          meta.contentLength ?? 0
        } "${meta.referrer ?? '-'}" "${meta.userAgent ?? '-'}"`,
        { type: 'incomingRequest', ...meta },
      );
    });
    next();
  };
}

/**
 * For the root HTTP router's `configure`, before `applyDefaults()`: makes
 * the default middleware chain log requests without OAuth secrets. The
 * sign-in callback's URL carries the authorization code and state, and the
 * upstream request log writes URLs whole.
 *
 * @public
 */
export function logRequestsWithoutOAuthSecrets(context: {
  middleware: { logging(): Handler };
  logger: LoggerService;
}): void {
  // applyDefaults() asks this same middleware factory for its logger.
  context.middleware.logging = () =>
    requestLoggingWithoutOAuthSecrets(context.logger);
}
