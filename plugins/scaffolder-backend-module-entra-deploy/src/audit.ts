import { AuditorService } from '@backstage/backend-plugin-api';
import { JsonObject } from '@backstage/types';

/** What every deploy audit event names. Never a token. */
export interface DeployAuditRecord extends JsonObject {
  action: string;
  initiator: {
    entityRef: string | null;
    oid: string | null;
    tid: string | null;
  };
  template: string | null;
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
 * One auditor event per deploy once its outcome is known: severity medium
 * when it went through, high when it did not, since a failed deploy with a
 * person's identity is what a security review looks for first.
 */
export async function auditDeploy(
  auditor: AuditorService,
  record: DeployAuditRecord,
  error?: Error,
) {
  const event = await auditor.createEvent({
    eventId: 'deploy',
    severityLevel: error ? 'high' : 'medium',
    meta: record,
  });
  if (error) {
    // Only the name and message: they are the ones the task shows the person.
    const safe = new Error(error.message);
    safe.name = error.name;
    await event.fail({ meta: record, error: safe });
  } else {
    await event.success({ meta: record });
  }
}
