import { AuditEvent } from '@internal/plugin-audit-common';

/** The CSV export's columns, in order (CONTRACT). */
export const CSV_COLUMNS = [
  'time',
  'action',
  'outcome',
  'severity',
  'actor_kind',
  'actor_ref',
  'actor_oid',
  'actor_tid',
  'actor_app_id',
  'actor_client_id',
  'method',
  'route',
  'entity_refs',
  'meta',
  'error',
] as const;

/**
 * One CSV cell (RFC 4180). A cell a spreadsheet would run as a formula (it
 * starts with = + - @, or a tab or carriage return that some strip first)
 * gets a leading single quote: meta and routes carry what callers typed.
 */
export function csvCell(value: string | undefined): string {
  let cell = value ?? '';
  if (/^[=+\-@\t\r]/.test(cell)) {
    cell = `'${cell}`;
  }
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/** The CSV line of an event, CRLF-terminated. */
export function csvLine(values: readonly (string | undefined)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

export function csvRow(event: AuditEvent): string {
  const actor = event.actor;
  return csvLine([
    event.time,
    event.action,
    event.outcome,
    event.severity,
    actor.kind,
    // Who, for actors without a User entity too: plugin:<id> or the subject.
    actor.entityRef ??
      (actor.plugin ? `plugin:${actor.plugin}` : actor.subject),
    actor.oid,
    actor.tid,
    actor.appId,
    actor.clientId,
    event.request?.method,
    event.request?.route,
    event.entityRefs.join(' '),
    JSON.stringify(event.meta),
    event.error ? JSON.stringify(event.error) : undefined,
  ]);
}

/** One JSON Lines record: JSON.stringify escapes newlines inside strings. */
export function jsonLine(event: AuditEvent): string {
  return `${JSON.stringify(event)}\n`;
}
