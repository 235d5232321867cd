import { NextFunction, Request, Response } from 'express';
import { FaultSwitch } from './faultSwitch';
import { FaultRule } from '../types';

/** Renders a throttle rule's Retry-After header value, if it has one. */
export function retryAfterValue(
  rule: Extract<FaultRule, { type: 'throttle' }>,
  now = Date.now(),
): string | undefined {
  const r = rule.retryAfter;
  if (r === undefined) return undefined;
  if (typeof r === 'number') return String(r);
  return new Date(now + r.httpDateInSeconds * 1000).toUTCString();
}

/**
 * Applies request-level faults before any route runs: latency, 429, 503 and
 * connection resets. Error bodies use Graph's shape on Graph routes and
 * Entra's on identity routes, as the real services do.
 */
export function faultMiddleware(faults: FaultSwitch) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const path = req.path;
    const latency = faults.take(path, req.method, ['latency']);
    if (latency) await new Promise(r => setTimeout(r, latency.ms));

    const fault = faults.take(path, req.method, [
      'throttle',
      'unavailable',
      'reset',
    ]);
    if (!fault) {
      next();
      return;
    }
    if (fault.type === 'reset') {
      req.socket.destroy();
      return;
    }
    const isGraph = path.startsWith('/v1.0/');
    if (fault.type === 'throttle') {
      const retryAfter = retryAfterValue(fault);
      if (retryAfter !== undefined) res.set('Retry-After', retryAfter);
      res
        .status(429)
        .json(
          isGraph
            ? graphError(
                'TooManyRequests',
                'Too many requests. Please retry later.',
              )
            : entraLikeError('temporarily_unavailable', 'Too many requests.'),
        );
      return;
    }
    res
      .status(503)
      .json(
        isGraph
          ? graphError(
              'serviceNotAvailable',
              'Service is temporarily unavailable.',
            )
          : entraLikeError(
              'temporarily_unavailable',
              'The service is temporarily unavailable.',
            ),
      );
  };
}

function graphError(code: string, message: string) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString(),
        'request-id': crypto.randomUUID(),
      },
    },
  };
}

function entraLikeError(error: string, description: string) {
  return {
    error,
    error_description: `AADSTS90033: ${description}`,
    error_codes: [90033],
    trace_id: crypto.randomUUID(),
  };
}
