import { AuditorService, LoggerService } from '@backstage/backend-plugin-api';
import { UserEntity } from '@backstage/catalog-model';
import { NotAllowedError } from '@backstage/errors';
import { DelegatedIdentity, DelegatedTokenVerifier } from '../delegation';
import { OnBehalfOfClient } from '../onBehalfOf';
import { redactInTaskLog } from '../redaction';
import { auditDeploy, DeployAuditRecord } from '../audit';

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
}

/** The parts of the scaffolder's action context the deploy steps use. */
export interface DeployStepContext {
  logger: LoggerService;
  secrets?: Record<string, string>;
  user?: { entity?: UserEntity; ref?: string };
  task: { id: string };
  templateInfo?: { entityRef?: string };
  signal?: AbortSignal;
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
    target: string;
    scope: string;
    call: (accessToken: string, identity: DelegatedIdentity) => Promise<T>;
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
    taskId: ctx.task.id,
    environment: opts.environment ?? null,
    target: opts.target,
    deploymentId: null,
    outcome: 'failed',
  };
  try {
    const token = ctx.secrets?.[DELEGATED_TOKEN_SECRET];
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
    const result = await opts.call(exchanged.accessToken, identity);
    record.deploymentId = result.deploymentId ?? null;
    record.outcome = 'succeeded';
    await auditDeploy(services.auditor, record);
    return result;
  } catch (e) {
    await auditDeploy(services.auditor, record, e as Error);
    throw e;
  }
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
