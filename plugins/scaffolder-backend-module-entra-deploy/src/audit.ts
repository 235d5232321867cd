import { AuditorService } from '@backstage/backend-plugin-api';
import { JsonObject } from '@backstage/types';

/**
 * Who a deploy ran as, in the shape of the audit trail's `AuditActor`
 * (`@internal/plugin-audit-common`): the verified initiator, or the MCP
 * agent that deployed for them (`entityRef`/`oid`/`tid` are then the
 * person's, `clientId` the agent's).
 */
export type DeployAuditActor = JsonObject &
  (
    | { kind: 'person'; entityRef?: string; oid?: string; tid?: string }
    | {
        kind: 'agent';
        entityRef?: string;
        oid?: string;
        tid?: string;
        clientId: string;
      }
    | { kind: 'anonymous' }
  );

/** What every deploy audit event names. Never a token. */
export interface DeployAuditRecord extends JsonObject {
  action: string;
  initiator: {
    entityRef: string | null;
    oid: string | null;
    tid: string | null;
  };
  template: string | null;
  /**
   * The deployed catalog entity, when the action names one (`entra:deploy`'s
   * `component` input).
   */
  component?: string | null;
  /** Null when refused before a task existed. */
  taskId: string | null;
  environment: string | null;
  /** The target's URL; null when refused before one was chosen. */
  target: string | null;
  deploymentId: string | null;
  outcome: 'succeeded' | 'failed';
  /** The MCP agent the person let deploy as them, if one did. */
  agent?: { clientId: string; grantId: string };
}

/**
 * The record as the event's meta: plus the explicit actor (the scaffolder's
 * worker runs the deploy, so the request, if any, is not who deployed) and
 * the entity-ref keys the audit trail indexes (`templateRef`,
 * `componentRef`, `entityRefs`), beside the names log readers already use.
 */
export function deployAuditMeta(record: DeployAuditRecord): JsonObject {
  const { entityRef, oid, tid } = record.initiator;
  const person = {
    ...(entityRef && { entityRef }),
    ...(oid && { oid }),
    ...(tid && { tid }),
  };
  let actor: DeployAuditActor;
  if (record.agent) {
    actor = { kind: 'agent', ...person, clientId: record.agent.clientId };
  } else if (entityRef || oid) {
    actor = { kind: 'person', ...person };
  } else {
    actor = { kind: 'anonymous' };
  }
  const refs = [record.component, record.template].filter(
    (ref): ref is string => typeof ref === 'string' && ref !== '',
  );
  return {
    ...record,
    actor,
    ...(record.template && { templateRef: record.template }),
    ...(record.component && { componentRef: record.component }),
    entityRefs: refs,
  };
}

// A JWT, whole or cut short: header and payload always start with `eyJ`.
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){0,2}/g;

/**
 * One auditor event per deploy once its outcome is known: severity medium
 * when it went through, high when it did not, since a failed deploy with a
 * person's identity is what a security review looks for first.
 */
export async function auditDeploy(
  auditor: AuditorService,
  record: DeployAuditRecord,
  error?: Error,
) {
  const meta = deployAuditMeta(record);
  const event = await auditor.createEvent({
    eventId: 'deploy',
    severityLevel: error ? 'high' : 'medium',
    meta,
  });
  if (error) {
    // Only the name and message: they are the ones the task shows the
    // person. A message carries its cause's (@backstage/errors appends it),
    // and a cause may quote a token a target echoed: anything JWT-like or
    // after "Bearer" goes, whatever the auditor downstream would redact.
    const safe = new Error(
      error.message
        .replace(JWT_LIKE, '[redacted]')
        .replace(/\b(Bearer)\s+[^\s,;"']+/gi, '$1 [redacted]'),
    );
    safe.name = error.name;
    await event.fail({ meta, error: safe });
  } else {
    await event.success({ meta });
  }
}
