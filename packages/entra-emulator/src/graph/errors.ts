import { randomUUID } from 'node:crypto';
import { Request, Response } from 'express';

/** An error answered in Microsoft Graph's shape: `{"error":{"code","message",…}}`. */
export class GraphError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Sends a Graph error; `client-request-id` is echoed as Graph does. */
export function sendGraphError(req: Request, res: Response, e: GraphError) {
  const requestId = randomUUID();
  const clientRequestId =
    (req.headers['client-request-id'] as string | undefined) ?? requestId;
  res
    .status(e.status)
    .set({ 'request-id': requestId, 'client-request-id': clientRequestId })
    .json({
      error: {
        code: e.code,
        message: e.message,
        innerError: {
          date: new Date().toISOString().slice(0, 19),
          'request-id': requestId,
          'client-request-id': clientRequestId,
        },
      },
    });
}

/** The Graph errors the emulator reproduces. */
export const graphErrors = {
  emptyToken: () =>
    new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.'),
  invalidToken: (why: string) =>
    new GraphError(401, 'InvalidAuthenticationToken', why),
  forbidden: () =>
    new GraphError(
      403,
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
    ),
  notFound: (id: string) =>
    new GraphError(
      404,
      'Request_ResourceNotFound',
      `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
    ),
  noRoute: (path: string) =>
    new GraphError(
      400,
      'BadRequest',
      `Resource not found for the segment '${path}'.`,
    ),
  imageNotFound: () =>
    new GraphError(
      404,
      'ImageNotFound',
      "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.",
    ),
  pageSize: (top: string) =>
    new GraphError(
      400,
      'Request_BadRequest',
      `Invalid page size specified: '${top}'. Must be between 1 and 999 inclusive.`,
    ),
  advancedOperator: (op: string) =>
    new GraphError(
      400,
      'Request_UnsupportedQuery',
      `Operator '${op}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
    ),
  searchNeedsConsistency: () =>
    new GraphError(
      400,
      'Request_BadRequest',
      "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
    ),
  countNeedsConsistency: () =>
    new GraphError(
      400,
      'Request_BadRequest',
      '$count is not currently supported.',
    ),
  badRequest: (message: string) => new GraphError(400, 'BadRequest', message),
  meNeedsDelegated: () =>
    new GraphError(
      400,
      'BadRequest',
      '/me request is only valid with delegated authentication flow.',
    ),
  badSkipToken: () =>
    new GraphError(
      400,
      'Directory_ExpiredPageToken',
      'The specified page token value has expired and can no longer be included in your request.',
    ),
  pageFault: (status: number) =>
    status === 429
      ? new GraphError(
          429,
          'TooManyRequests',
          'Too many requests. Please retry later.',
        )
      : new GraphError(
          status,
          status === 503 ? 'serviceNotAvailable' : 'generalException',
          'Injected failure while reading this page.',
        ),
};
