import {
  AuditorService,
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { UserEntity } from '@backstage/catalog-model';
import { NotAllowedError } from '@backstage/errors';
import { DelegatedIdentity, DelegatedTokenVerifier } from '../delegation';
import { OnBehalfOfClient } from '../onBehalfOf';
import { redactInTaskLog } from '../redaction';
import { auditDeploy, DeployAuditRecord } from '../audit';
import { AGENT_HANDLE_PREFIX, AgentDelegationClient } from '../agentDelegation';

/**
 * The task secret the frontend's `entra-delegated-token` form decorator
 * fills with the person's token for `api://<portal>/access_as_user`.
 */
export const DELEGATED_TOKEN_SECRET = 'entraDelegatedToken';

/** What both actions share: verification, exchange and audit. */
export interface DeployServices {
  verifier: DelegatedTokenVerifier;
  onBehalfOf: OnBehalfOfClient;
  auditor: AuditorService;
  /** Fetches an agent's delegated token (tasks an MCP agent started). */
  agentDelegation?: AgentDelegationClient;
}

/** The agent a deploy ran for, when an MCP agent started the task. */
export interface DeployAgent {
  clientId: string;
  grantId: string;
}

/** The parts of the scaffolder's action context the deploy steps use. */
export interface DeployStepContext {
  logger: LoggerService;
  secrets?: Record<string, string>;
  user?: { entity?: UserEntity; ref?: string };
  task: { id: string };
  templateInfo?: { entityRef?: string };
  signal?: AbortSignal;
  getInitiatorCredentials?: () => Promise<BackstageCredentials>;
}

/**
 * Runs one deploy as the initiator: reads and verifies their delegated
 * token, exchanges it for `scope`, hands the exchanged token to `call`, and
 * audits the outcome. Tokens stay in local variables; the exchanged one is
 * registered with the step logger's redactions before anything can log it.
 */
export async function deployAsInitiator<T extends { deploymentId?: string }>(
  services: DeployServices,
  ctx: DeployStepContext,
  opts: {
    action: string;
    environment?: string;
    /** The deployed catalog entity's ref, when the action names one. */
    component?: string;
    target: string;
    scope: string;
    call: (
      accessToken: string,
      identity: DelegatedIdentity,
      agent?: DeployAgent,
    ) => Promise<T>;
  },
): Promise<T> {
  const record: DeployAuditRecord = {
    action: opts.action,
    initiator: {
      entityRef: ctx.user?.ref ?? null,
      oid: null,
      tid: null,
    },
    template: ctx.templateInfo?.entityRef ?? null,
    ...(opts.component && { component: opts.component }),
    taskId: ctx.task.id,
    environment: opts.environment ?? null,
    target: opts.target,
    deploymentId: null,
    outcome: 'failed',
  };
  try {
    const { token, agent } = await delegatedTokenOf(services, ctx);
    if (agent) record.agent = { ...agent };
    if (!token) {
      throw new NotAllowedError(
        `This task carries no delegated Entra token (task secret '${DELEGATED_TOKEN_SECRET}'), so it cannot deploy as you. ` +
          "The template must list the 'entra-delegated-token' form decorator in spec.formDecorators.",
      );
    }
    const identity = await services.verifier.verify(token, ctx.user?.entity);
    record.initiator.oid = identity.oid;
    record.initiator.tid = identity.tid;
    const exchanged = await services.onBehalfOf.exchange(
      token,
      opts.scope,
      identity.tid,
    );
    redactInTaskLog(ctx.logger, exchanged.accessToken);
    ctx.logger.info(
      `Calling ${opts.target} as ${ctx.user?.ref} (object id ${identity.oid})`,
    );
    const result = await opts.call(exchanged.accessToken, identity, agent);
    record.deploymentId = result.deploymentId ?? null;
    record.outcome = 'succeeded';
    await auditDeploy(services.auditor, record);
    return result;
  } catch (e) {
    await auditDeploy(services.auditor, record, e as Error);
    throw e;
  }
}

/**
 * The person's delegated token: the one the browser's form decorator put
 * in the task, or, when the MCP guard put an agent grant's handle there
 * instead (agents cannot set the secret themselves), one fetched for it.
 */
async function delegatedTokenOf(
  services: DeployServices,
  ctx: DeployStepContext,
): Promise<{ token?: string; agent?: DeployAgent }> {
  const secret = ctx.secrets?.[DELEGATED_TOKEN_SECRET];
  if (!secret?.startsWith(AGENT_HANDLE_PREFIX)) return { token: secret };
  const handle = secret;
  if (!services.agentDelegation || !ctx.getInitiatorCredentials) {
    throw new NotAllowedError(
      'This task was started by an agent, but agent delegation is not available to the deploy actions.',
    );
  }
  const delegated = await services.agentDelegation(
    handle,
    await ctx.getInitiatorCredentials(),
  );
  redactInTaskLog(ctx.logger, delegated.accessToken);
  ctx.logger.info(
    `Deploying for the agent ${delegated.clientId} under its grant ${delegated.grantId}`,
  );
  return {
    token: delegated.accessToken,
    agent: { clientId: delegated.clientId, grantId: delegated.grantId },
  };
}

// A JWT, whole or cut short: header and payload always start with `eyJ`.
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){0,2}/g;

/**
 * A short, token-free description of a target's error answer. A target may
 * echo the request's Authorization header; the step logger redacts the
 * exchanged token only where it appears whole, so anything JWT-like is
 * removed here, before the message is shortened.
 */
export async function describeFailure(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  let message: string | undefined;
  try {
    const body = JSON.parse(text);
    message = body?.error?.message ?? body?.message ?? body?.error;
  } catch {
    message = undefined;
  }
  const shown =
    typeof message === 'string'
      ? message.replace(JWT_LIKE, '***').slice(0, 300)
      : '';
  return `HTTP ${res.status}${shown ? `: ${shown}` : ''}`;
}
