import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import type {
  AuditEventFilter,
  AuditEventPage,
} from '@internal/plugin-audit-common';

/** The filters the page keeps in its address, in the order it shows them. */
export const FILTER_KEYS = [
  'person',
  'action',
  'outcome',
  'severity',
  'entity',
  'from',
  'to',
] as const;

/** The route refused the signed-in person (403): they are not an auditor. */
export class AuditNotAllowedError extends Error {
  name = 'AuditNotAllowedError';
}

/** Reads the filters from a query string; empty values are no filter. */
export function filterFromParams(params: URLSearchParams): AuditEventFilter {
  const filter: Record<string, string> = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key)?.trim();
    if (value) filter[key] = value;
  }
  return filter as AuditEventFilter;
}

/** The same filters as query parameters, for the route and for the address. */
export function filterToParams(filter: AuditEventFilter): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = filter[key];
    if (value) params.set(key, value);
  }
  return params;
}

/** Why a call failed, from Backstage's error body. */
async function failure(res: Response, what: string): Promise<Error> {
  const body = await res.json().catch(() => undefined);
  const message = `${what} failed (${res.status}): ${
    body?.error?.message ?? res.statusText
  }`;
  return res.status === 403
    ? new AuditNotAllowedError(message)
    : new Error(message);
}

/** `attachment; filename="audit-events.csv"` → `audit-events.csv`. */
export function filenameOf(disposition: string | null, fallback: string) {
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition ?? '');
  return match ? decodeURIComponent(match[1]) : fallback;
}

/** Set by the export route when it stopped at its maximum number of events. */
const TRUNCATED_HEADER = 'x-audit-export-truncated';

export type AuditExportFormat = 'jsonl' | 'csv';

/**
 * The audit plugin's routes, called through fetchApi so the person's
 * Backstage token goes with every request (the routes need `audit.read`).
 */
export class AuditClient {
  constructor(
    private readonly discovery: DiscoveryApi,
    private readonly fetchApi: FetchApi,
  ) {}

  async listEvents(
    filter: AuditEventFilter,
    options: { cursor?: string; limit?: number } = {},
  ): Promise<AuditEventPage> {
    const params = filterToParams(filter);
    if (options.limit) params.set('limit', String(options.limit));
    if (options.cursor) params.set('cursor', options.cursor);
    const res = await this.fetchApi.fetch(
      `${await this.discovery.getBaseUrl('audit')}/events?${params}`,
    );
    if (!res.ok) throw await failure(res, 'Reading the audit trail');
    return res.json();
  }

  /**
   * Every event matching the filters, as the file the route streams. The
   * body is read here rather than by a plain link because a link would not
   * carry the Backstage token.
   */
  async exportEvents(
    filter: AuditEventFilter,
    format: AuditExportFormat,
  ): Promise<{ blob: Blob; filename: string; truncated: boolean }> {
    const params = filterToParams(filter);
    params.set('format', format);
    const res = await this.fetchApi.fetch(
      `${await this.discovery.getBaseUrl('audit')}/events/export?${params}`,
    );
    if (!res.ok) throw await failure(res, 'Exporting the audit trail');
    return {
      blob: await res.blob(),
      filename: filenameOf(
        res.headers.get('content-disposition'),
        `audit-events.${format}`,
      ),
      // The route stops at audit.export.maxEvents and says so in a header.
      truncated: res.headers.get(TRUNCATED_HEADER) === 'true',
    };
  }
}
