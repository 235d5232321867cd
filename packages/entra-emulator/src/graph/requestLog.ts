import { NextFunction, Request, Response } from 'express';
import { EmulatorContext } from '../context';
import { GraphRequest } from '../types';
import { verifyJwt } from '../oidc/jwt';

/**
 * The most requests kept. A long `yarn dev` session would otherwise grow the
 * log without end; 100,000 covers several full ingestion rounds of a
 * 50,000-person tenant, which is more than any test counts.
 */
export const GRAPH_REQUEST_LOG_LIMIT = 100_000;

/**
 * Records every request under the Graph base path before faults or
 * authentication run, so that a test in another process can count the reads
 * an ingestion made (throttled and refused ones included). The caller is
 * named by the `appid` of a bearer token this emulator signed; a forged or
 * expired token names nobody.
 */
export function graphRequestLog(ctx: EmulatorContext) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const entry: GraphRequest = {
      method: req.method,
      path: req.originalUrl,
      at: new Date().toISOString(),
    };
    const clientId = callerOf(ctx, req);
    if (clientId) entry.clientId = clientId;
    ctx.graphRequests.push(entry);
    if (ctx.graphRequests.length > GRAPH_REQUEST_LOG_LIMIT) {
      ctx.graphRequests.splice(
        0,
        ctx.graphRequests.length - GRAPH_REQUEST_LOG_LIMIT,
      );
    }
    next();
  };
}

function callerOf(ctx: EmulatorContext, req: Request): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!match) return undefined;
  try {
    const claims = verifyJwt(ctx.key, match[1].trim());
    const appId = claims.appid ?? claims.azp;
    return typeof appId === 'string' ? appId : undefined;
  } catch {
    return undefined;
  }
}
