import {
  AuditorService,
  AuthService,
  DiscoveryService,
  HttpAuthService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import express, { NextFunction, Request, Response } from 'express';

/** What the auth plugin's agent-access module says of a token. */
export interface Introspection {
  active: boolean;
  grantId?: string;
  clientId?: string;
  clientName?: string;
  userEntityRef?: string;
  /** Present when delegation is on: names the grant to a deploy. */
  delegationHandle?: string;
}

/** The scaffolder's MCP tool that starts a task. */
export const EXECUTE_TEMPLATE_TOOL = 'scaffolder.execute-template';

/**
 * Task secrets an agent may never set: the deploy module trusts
 * `entraDelegatedToken` as the person's delegation (the browser's form
 * decorator fills it; for an agent this guard puts the grant's handle
 * there). `entraDelegation` is reserved likewise.
 */
export const DELEGATION_SECRETS = ['entraDelegatedToken', 'entraDelegation'];
const DELEGATION_SECRET = 'entraDelegatedToken';

/**
 * Removes delegation secrets an agent sent with any tool call and, on
 * execute-template, puts in the handle of the agent's own grant. Returns
 * the names of the secrets removed (for the log; values are never read).
 */
export function rewriteDelegationSecrets(
  call: { name: string; arguments?: any },
  handle: string | undefined,
): string[] {
  const args = call.arguments;
  const secrets =
    args &&
    typeof args === 'object' &&
    args.secrets &&
    typeof args.secrets === 'object'
      ? args.secrets
      : undefined;
  const stripped = secrets
    ? DELEGATION_SECRETS.filter(name => name in secrets)
    : [];
  for (const name of stripped) delete secrets[name];
  if (
    call.name === EXECUTE_TEMPLATE_TOOL &&
    handle &&
    args &&
    typeof args === 'object'
  ) {
    args.secrets = { ...(secrets ?? {}), [DELEGATION_SECRET]: handle };
  }
  return stripped;
}

/** Asks the auth plugin about a token, as the MCP plugin. */
export function createIntrospectClient(options: {
  auth: AuthService;
  discovery: DiscoveryService;
}) {
  return async (token: string): Promise<Introspection> => {
    const [{ token: serviceToken }, base] = await Promise.all([
      options.auth.getPluginRequestToken({
        onBehalfOf: await options.auth.getOwnServiceCredentials(),
        targetPluginId: 'auth',
      }),
      options.discovery.getBaseUrl('auth'),
    ]);
    const res = await fetch(`${base}/agent-access/v1/introspect`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${serviceToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ token }),
    });
    if (!res.ok) throw new Error(`introspect answered ${res.status}`);
    return res.json();
  };
}

/** The JSON-RPC `tools/call` requests in a body (one message or a batch). */
function toolCalls(body: unknown): Array<{ name: string; arguments?: any }> {
  const messages = Array.isArray(body) ? body : [body];
  return messages
    .filter(
      (m: any) =>
        m?.method === 'tools/call' && typeof m?.params?.name === 'string',
    )
    .map((m: any) => m.params);
}

/**
 * In front of the MCP server: a person's token is let through only when an
 * agent holds a live grant for it (a browser's token is not an agent's, and
 * a revoked grant fails the very next call, without a cache); each tool call
 * is audited with the client, the tool and the person. Service principals
 * pass: their rights are their `accessRestrictions`.
 */
export function createAgentGuard(options: {
  httpAuth: HttpAuthService;
  auth: AuthService;
  auditor: AuditorService;
  logger: LoggerService;
  introspect: (token: string) => Promise<Introspection>;
  /** The person's Entra object id and tenant, for the audit record. */
  entraIdentity: (
    userEntityRef: string,
  ) => Promise<{ oid?: string; tid?: string }>;
}) {
  const { httpAuth, auth, auditor, logger, introspect, entraIdentity } =
    options;
  const parseJson = express.json({ limit: '1mb' });

  const refuse = (res: Response, message: string) =>
    res.status(401).json({
      jsonrpc: '2.0',
      error: { code: -32001, message },
      id: null,
    });

  return async (req: Request, res: Response, next: NextFunction) => {
    const token = /^Bearer\s+(\S+)$/i.exec(
      req.headers.authorization ?? '',
    )?.[1];
    if (!token) return next(); // upstream answers 401
    let credentials;
    try {
      credentials = await httpAuth.credentials(req);
    } catch {
      return next(); // upstream answers 401 for an invalid token
    }
    if (!auth.isPrincipal(credentials, 'user')) return next();

    let grant: Introspection;
    try {
      grant = await introspect(token);
    } catch (error) {
      logger.error(`Could not check an agent's grant: ${error}`);
      return res.status(503).json({
        jsonrpc: '2.0',
        error: {
          code: -32603,
          message: 'Could not check the agent access grant',
        },
        id: null,
      });
    }
    if (!grant.active) {
      logger.info(
        `MCP call refused for ${credentials.principal.userEntityRef}: no live agent access grant`,
      );
      return refuse(
        res,
        'This token carries no live agent access grant: it was revoked or expired, or it is not an agent token. Connect the agent again.',
      );
    }

    await new Promise<void>((resolve, reject) =>
      parseJson(req, res, err => (err ? reject(err) : resolve())),
    );
    const calls = toolCalls(req.body);
    const person = calls.length
      ? await entraIdentity(credentials.principal.userEntityRef).catch(
          () => ({} as { oid?: string; tid?: string }),
        )
      : {};
    for (const call of calls) {
      const stripped = rewriteDelegationSecrets(call, grant.delegationHandle);
      if (stripped.length) {
        logger.warn(
          `Agent ${grant.clientId} sent task secrets ${stripped.join(
            ', ',
          )} for ${
            credentials.principal.userEntityRef
          }; removed: only the portal sets them`,
        );
      }
      const event = await auditor.createEvent({
        eventId: 'agent-tool-call',
        severityLevel: 'medium',
        request: req,
        meta: {
          tool: call.name,
          // The portal's auditor makes an event with meta.agent an agent's
          // (kind agent, the person's ref and the client id); the top-level
          // fields stay for the log readers that already match on them.
          agent: {
            clientId: grant.clientId,
            clientName: grant.clientName,
            grantId: grant.grantId,
          },
          clientId: grant.clientId,
          clientName: grant.clientName,
          grantId: grant.grantId,
          entityRef: credentials.principal.userEntityRef,
          oid: person.oid,
          tid: person.tid,
        },
      });
      res.once('finish', () =>
        res.statusCode < 400
          ? event.success()
          : event.fail({ error: new Error(`MCP answered ${res.statusCode}`) }),
      );
    }
    return next();
  };
}
