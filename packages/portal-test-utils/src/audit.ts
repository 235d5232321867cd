import {
  coreServices,
  createServiceFactory,
  LoggerService,
} from '@backstage/backend-plugin-api';
import auditPlugin, {
  auditorServiceFactory,
} from '@internal/plugin-audit-backend';
import type {
  AuditEvent,
  AuditEventFilter,
  AuditEventPage,
} from '@internal/plugin-audit-common';

/**
 * A static external-access token the audit routes accept as a service
 * principal (service principals are allowed `audit.read` like every
 * permission), so a test reads the trail without signing an admin in.
 */
export const AUDIT_READER_TOKEN = 'audit-reader-test-token-8f3c1e2a';

const serialise = (value: unknown): unknown =>
  value instanceof Error
    ? { name: value.name, message: value.message, stack: value.stack }
    : value;

/** A logger that keeps every line, child fields included, as JSON. */
class CapturingLogger implements LoggerService {
  constructor(
    readonly lines: string[],
    private readonly fields: Record<string, unknown> = {},
  ) {}
  #log(level: string, message: string, meta?: Error | object) {
    const extra =
      meta instanceof Error
        ? { error: serialise(meta) }
        : Object.fromEntries(
            Object.entries(meta ?? {}).map(([k, v]) => [k, serialise(v)]),
          );
    this.lines.push(
      JSON.stringify({ level, message, ...this.fields, ...extra }),
    );
  }
  error(message: string, meta?: Error | object) {
    this.#log('error', message, meta);
  }
  warn(message: string, meta?: Error | object) {
    this.#log('warn', message, meta);
  }
  info(message: string, meta?: Error | object) {
    this.#log('info', message, meta);
  }
  debug(message: string, meta?: Error | object) {
    this.#log('debug', message, meta);
  }
  child(meta: object): LoggerService {
    return new CapturingLogger(this.lines, { ...this.fields, ...meta });
  }
}

/**
 * A root logger that keeps every line the backend logs (child fields
 * included) in `lines` as JSON, for a test to search the logs for secrets.
 */
export function capturingRootLogger(lines: string[]) {
  return createServiceFactory({
    service: coreServices.rootLogger,
    deps: {},
    factory: () => new CapturingLogger(lines),
  });
}

/**
 * The audit trail as packages/backend runs it (the portal's auditor for every
 * plugin and the audit plugin), and the config it needs in a test: the
 * reader's token and a short flush interval so events are stored quickly.
 * Merge `config` into the test backend's root config. With `captureLogs`,
 * the features also replace the root logger with one that keeps every line
 * (audit events' `debug` lines too) in `logLines` as JSON, for a test to
 * search the logs for secrets.
 */
export function auditTrail(options: { captureLogs?: boolean } = {}) {
  const logLines: string[] = [];
  return {
    features: [
      auditorServiceFactory,
      auditPlugin,
      ...(options.captureLogs ? [capturingRootLogger(logLines)] : []),
    ],
    logLines,
    config: {
      backend: {
        auth: {
          externalAccess: [
            {
              type: 'static',
              options: { token: AUDIT_READER_TOKEN, subject: 'audit-test' },
            },
          ],
        },
      },
      audit: { buffer: { flushIntervalMs: 50 } },
    },
  };
}

/**
 * The stored events matching `filter`, read through `GET /api/audit/events`
 * (every page) once the trail has settled: the sink writes asynchronously,
 * so this waits until at least `atLeast` match and a further read a flush
 * later finds the same events, so "exactly one" is not judged too early.
 */
export async function settledAuditEvents(
  baseUrl: string,
  filter: AuditEventFilter & { eventId?: string },
  options: {
    atLeast?: number;
    timeoutMs?: number;
    /** Another reader, e.g. `mockCredentials.service.header()` with mock auth. */
    authorization?: string;
  } = {},
): Promise<AuditEvent[]> {
  const {
    atLeast = 1,
    timeoutMs = 20_000,
    authorization = `Bearer ${AUDIT_READER_TOKEN}`,
  } = options;
  const { eventId, ...query } = filter;
  const read = async () => {
    const items: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const params = new URLSearchParams({
        ...(query as Record<string, string>),
        limit: '500',
        ...(cursor && { cursor }),
      });
      const res = await fetch(`${baseUrl}/api/audit/events?${params}`, {
        headers: { authorization },
      });
      if (!res.ok) {
        throw new Error(
          `GET /api/audit/events answered ${res.status}: ${await res.text()}`,
        );
      }
      const page = (await res.json()) as AuditEventPage;
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return eventId ? items.filter(e => e.eventId === eventId) : items;
  };
  const deadline = Date.now() + timeoutMs;
  let previous: AuditEvent[] | undefined;
  for (;;) {
    const current = await read();
    const settled =
      previous !== undefined &&
      current.length >= atLeast &&
      current.map(e => e.id).join() === previous.map(e => e.id).join();
    if (settled || Date.now() > deadline) return current;
    previous = current.length >= atLeast ? current : undefined;
    await new Promise(r => setTimeout(r, 300));
  }
}
