import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  AUDIT_SEVERITIES,
  AuditEventFilter,
  AuditOutcome,
  AuditSeverity,
} from '@internal/plugin-audit-common';
import { Request } from 'express';
import { MAX_PAGE_LIMIT } from '../database/AuditStore';

const FILTER_PARAMETERS = [
  'person',
  'action',
  'outcome',
  'severity',
  'entity',
  'from',
  'to',
] as const;
const OUTCOMES: readonly AuditOutcome[] = ['succeeded', 'failed', 'initiated'];
const ACTION = /^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/;
// ISO 8601 as the Audit page sends it: a date, optionally a time and a zone.
const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export type ExportFormat = 'jsonl' | 'csv';

/**
 * The query parameters a route takes, each given at most once. An unknown
 * parameter is refused: a misspelt filter (`actor=` for `person=`) would
 * otherwise answer every event, and an auditor would read it as a result.
 */
function single(
  req: Request,
  allowed: readonly string[],
): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.query)) {
    if (!allowed.includes(name)) {
      throw new InputError(
        `Unknown query parameter ${name}: use ${allowed.join(', ')}`,
      );
    }
    if (typeof value !== 'string') {
      throw new InputError(`Invalid ${name}: give it once, as a plain value`);
    }
    // An empty field of the page's form means "no filter".
    result[name] = value.trim() === '' ? undefined : value.trim();
  }
  return result;
}

function entityRef(
  name: string,
  value: string,
  defaultKind: string | undefined,
  example: string,
): string {
  try {
    return stringifyEntityRef(
      parseEntityRef(value, { defaultKind, defaultNamespace: 'default' }),
    ).toLocaleLowerCase('en-US');
  } catch {
    throw new InputError(
      `Invalid ${name}: give an entity ref such as ${example}`,
    );
  }
}

function time(name: string, value: string): string {
  const parsed = new Date(value);
  if (!ISO_TIME.test(value) || Number.isNaN(parsed.getTime())) {
    throw new InputError(
      `Invalid ${name}: give an ISO 8601 time such as 2026-12-01T00:00:00Z`,
    );
  }
  return parsed.toISOString();
}

function filterOf(params: Record<string, string | undefined>) {
  const filter: AuditEventFilter = {};
  if (params.person) {
    filter.person = entityRef(
      'person',
      params.person,
      'user',
      'user:default/jane.doe',
    );
  }
  if (params.action) {
    if (params.action.length > 255 || !ACTION.test(params.action)) {
      throw new InputError(
        'Invalid action: give <plugin>.<eventId> such as scaffolder.deploy, or an event id such as deploy',
      );
    }
    filter.action = params.action;
  }
  if (params.outcome) {
    if (!OUTCOMES.includes(params.outcome as AuditOutcome)) {
      throw new InputError(`Invalid outcome: use ${OUTCOMES.join(', ')}`);
    }
    filter.outcome = params.outcome as AuditOutcome;
  }
  if (params.severity) {
    if (!AUDIT_SEVERITIES.includes(params.severity as AuditSeverity)) {
      throw new InputError(
        `Invalid severity: use ${AUDIT_SEVERITIES.join(
          ', ',
        )} (at least that severity)`,
      );
    }
    filter.severity = params.severity as AuditSeverity;
  }
  if (params.entity) {
    filter.entity = entityRef(
      'entity',
      params.entity,
      undefined,
      'component:default/shop',
    );
  }
  if (params.from) {
    filter.from = time('from', params.from);
  }
  if (params.to) {
    filter.to = time('to', params.to);
  }
  if (filter.from && filter.to && filter.from >= filter.to) {
    throw new InputError('Invalid to: it must be later than from');
  }
  return filter;
}

/** `GET /events`: the filters and the page. */
export function parseEventsQuery(req: Request): {
  filter: AuditEventFilter;
  limit?: number;
  cursor?: string;
} {
  const params = single(req, [...FILTER_PARAMETERS, 'limit', 'cursor']);
  let limit: number | undefined;
  if (params.limit !== undefined) {
    limit = /^\d{1,4}$/.test(params.limit) ? Number(params.limit) : NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE_LIMIT)) {
      throw new InputError(
        `Invalid limit: give a whole number from 1 to ${MAX_PAGE_LIMIT}`,
      );
    }
  }
  return { filter: filterOf(params), limit, cursor: params.cursor };
}

/** `GET /events/export`: the filters and the format. */
export function parseExportQuery(req: Request): {
  filter: AuditEventFilter;
  format: ExportFormat;
} {
  const params = single(req, [...FILTER_PARAMETERS, 'format']);
  const format = params.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'csv') {
    throw new InputError('Invalid format: use jsonl or csv');
  }
  return { filter: filterOf(params), format };
}
