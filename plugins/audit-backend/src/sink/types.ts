import { AuditActor, AuditEvent } from '@internal/plugin-audit-common';

/**
 * Where the sink delivers batches: the audit plugin's database store. A
 * rejected write keeps the batch in the sink's buffer for the next attempt.
 */
export interface AuditEventWriter {
  write(events: AuditEvent[]): Promise<void>;
}

/**
 * Completes an actor the auditor could only name by entity ref: the Entra
 * object id and tenant of a person, the app id of a pipeline (and whether the
 * User entity is a service principal at all). Answers the actor unchanged
 * when the catalog does not know it.
 */
export interface AuditActorResolver {
  complete(actor: AuditActor): Promise<AuditActor>;
}

/** What the sink reports about itself (GET /api/audit/health). */
export interface AuditSinkStats {
  buffered: number;
  dropped: number;
  written: number;
  /** The last write error's message, until a write succeeds again. */
  lastError?: string;
}

/**
 * The backend-wide queue between every plugin's auditor and the database:
 * `enqueue` never waits and never throws; events are delivered in batches once
 * the audit plugin has attached its store.
 */
export interface AuditSink {
  enqueue(event: AuditEvent): void;
  attach(writer: AuditEventWriter, resolver?: AuditActorResolver): void;
  /** Delivers what is buffered now (tests, shutdown). */
  flush(): Promise<void>;
  stats(): AuditSinkStats;
}
