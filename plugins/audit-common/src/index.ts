/**
 * What the audit backend, the Audit page and the ownership policy share: the
 * permission that guards the trail and the shape of one stored event (the
 * JSON the route answers and each line of the JSON Lines export).
 *
 * @packageDocumentation
 */
import { createPermission } from '@backstage/plugin-permission-common';
import { JsonObject } from '@backstage/types';

/**
 * Reading the audit trail (`GET /api/audit/events`, its export and the Audit
 * page). The ownership policy grants it to admins only.
 *
 * @public
 */
export const auditReadPermission = createPermission({
  name: 'audit.read',
  attributes: { action: 'read' },
});

/** @public */
export const auditPermissions = [auditReadPermission];

/**
 * Who did it, as verified: never a name or an email someone typed.
 * - `person`: a signed-in person (their User entity, Entra object id and tenant);
 * - `pipeline`: a service principal calling with its Entra app token;
 * - `agent`: an MCP client acting for a person (`entityRef`/`oid`/`tid` are
 *   the person's, `clientId` the agent's);
 * - `plugin`: a backend plugin acting on its own (`plugin`);
 * - `service`: another service principal (external access), by `subject`;
 * - `anonymous`: no valid credentials (a refused sign-in before the person is
 *   known carries the token's `oid`/`tid` when it had verified ones).
 *
 * @public
 */
export type AuditActorKind =
  | 'person'
  | 'pipeline'
  | 'agent'
  | 'plugin'
  | 'service'
  | 'anonymous';

/** @public */
export interface AuditActor {
  kind: AuditActorKind;
  /** The User entity (person, pipeline's service principal, agent's person). */
  entityRef?: string;
  /** Entra object id and tenant id (person, agent's person, pipeline). */
  oid?: string;
  tid?: string;
  /** The Entra application (client) id of a pipeline. */
  appId?: string;
  /** The MCP client id of an agent. */
  clientId?: string;
  /** The plugin that acted (kind `plugin`). */
  plugin?: string;
  /** Any other service principal's subject (kind `service`). */
  subject?: string;
  ip?: string;
  userAgent?: string;
}

/** @public */
export type AuditSeverity = 'low' | 'medium' | 'high' | 'critical';

/**
 * The severities from lowest to highest, for "at least" filters.
 *
 * @public
 */
export const AUDIT_SEVERITIES: readonly AuditSeverity[] = [
  'low',
  'medium',
  'high',
  'critical',
];

/**
 * `initiated` only for an event whose outcome never came (the process stopped).
 *
 * @public
 */
export type AuditOutcome = 'succeeded' | 'failed' | 'initiated';

/**
 * One stored audit event. Also one line of the JSON Lines export, and the
 * fields of the `isAuditEvent` log lines.
 *
 * @public
 */
export interface AuditEvent {
  /** Unique id of the event (UUID). */
  id: string;
  /** When it was initiated, ISO 8601 UTC. */
  time: string;
  /** The plugin that emitted it, e.g. `catalog`. */
  plugin: string;
  /** The plugin's event id, e.g. `entity-mutate`. */
  eventId: string;
  /** `<plugin>.<eventId>`, what the Audit page calls the action. */
  action: string;
  severity: AuditSeverity;
  outcome: AuditOutcome;
  actor: AuditActor;
  /** The request that caused it, without its query string. */
  request?: { method: string; route: string };
  /** Entities the event is about (lowercase refs). */
  entityRefs: string[];
  /** The event's own fields, secrets and tokens removed. */
  meta: JsonObject;
  /** Name and message of the error of a failed event. */
  error?: { name: string; message: string };
}

/**
 * The answer of `GET /api/audit/events`: newest first.
 *
 * @public
 */
export interface AuditEventPage {
  items: AuditEvent[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

/**
 * The filters of `GET /api/audit/events` and its export, as query parameters.
 * All optional; combined with AND.
 *
 * @public
 */
export interface AuditEventFilter {
  /** An actor's entity ref (person, pipeline, or the person an agent acted for). */
  person?: string;
  /** `<plugin>.<eventId>` (e.g. `scaffolder.deploy`) or a bare event id (`deploy`). */
  action?: string;
  outcome?: AuditOutcome;
  /**
   * At least this severity: `medium` leaves out the `low` reads (catalog
   * fetches, task views) and keeps changes, denials and sign-ins.
   */
  severity?: AuditSeverity;
  /** An entity ref the event is about. */
  entity?: string;
  /** ISO 8601 times, inclusive `from`, exclusive `to`. */
  from?: string;
  to?: string;
}
