import { Request, Response } from 'express';
import { EmulatorContext } from '../context';
import { graphErrors } from './errors';
import { ODataError, parseFilter } from './odataFilter';
import { parseSearch } from './search';
import { GraphObject, project } from './representations';

/** Graph's default page size for directory collections. */
const DEFAULT_TOP = 100;
const MAX_TOP = 999;

/** The query options Graph reads for a collection. */
export interface CollectionQuery {
  select?: string[];
  expand?: string;
}

/** Reads `$select` (comma-separated, case-insensitive). */
export function readSelect(req: Request): string[] | undefined {
  const s = req.query.$select;
  return typeof s === 'string' && s.trim()
    ? s
        .split(',')
        .map(x => x.trim())
        .filter(Boolean)
    : undefined;
}

function isAdvanced(req: Request): boolean {
  return (
    hasEventualConsistency(req) &&
    String(req.query.$count).toLowerCase() === 'true'
  );
}

/**
 * Answers a collection request: `$filter`, `$search`, `$count`, `$select`,
 * `$top` and `$skiptoken` paging with an absolute `@odata.nextLink`, plus the
 * page-level faults (fail page K, empty directory).
 */
export function sendCollection(
  ctx: EmulatorContext,
  req: Request,
  items: GraphObject[],
  opts: {
    keepType: boolean;
    expand?: (obj: GraphObject, expand: string) => Record<string, unknown>;
  },
): Record<string, unknown> {
  const q = req.query as Record<string, string | undefined>;
  const top = q.$top === undefined ? DEFAULT_TOP : Number(q.$top);
  if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) {
    throw graphErrors.pageSize(String(q.$top));
  }
  if (q.$count !== undefined && !hasEventualConsistency(req))
    throw graphErrors.countNeedsConsistency();
  let result = applyFilterAndSearch(req, items, isAdvanced(req));

  // Fault routes are matched on the full path (`/v1.0/users`), as everywhere else.
  const path = `${req.baseUrl}${req.path}`;
  if (ctx.faults.take(path, req.method, ['emptyDirectory'])) result = [];

  let offset = 0;
  if (q.$skiptoken !== undefined) {
    offset = decodeSkipToken(q.$skiptoken);
    if (offset < 0 || offset > result.length) throw graphErrors.badSkipToken();
  }
  const page = Math.floor(offset / top) + 1;
  const pageFault = ctx.faults.take(
    path,
    req.method,
    ['failPage'],
    r => r.page === page,
  );
  if (pageFault) throw graphErrors.pageFault(pageFault.status ?? 503);

  const select = readSelect(req);
  const slice = result.slice(offset, offset + top).map(o => {
    const projected = project(o, select, opts.keepType);
    return q.$expand && opts.expand
      ? { ...projected, ...opts.expand(o, q.$expand) }
      : projected;
  });
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.urls.graphBaseUrl}/$metadata`,
  };
  if (String(q.$count).toLowerCase() === 'true')
    body['@odata.count'] = result.length;
  if (offset + top < result.length) {
    body['@odata.nextLink'] = nextLink(req, offset + top);
  }
  body.value = slice;
  return body;
}

/**
 * Answers a `/$count` segment (`/users/$count`) as Graph does: the size of
 * the collection after `$filter`/`$search`, as a bare integer in
 * `text/plain`. Like every directory count it needs `ConsistencyLevel:
 * eventual`, which also enables the advanced filter operators.
 */
export function sendCount(
  ctx: EmulatorContext,
  req: Request,
  res: Response,
  items: GraphObject[],
): undefined {
  if (!hasEventualConsistency(req)) throw graphErrors.countNeedsConsistency();
  let result = applyFilterAndSearch(req, items, true);
  if (
    ctx.faults.take(`${req.baseUrl}${req.path}`, req.method, ['emptyDirectory'])
  )
    result = [];
  res.type('text/plain').send(String(result.length));
  return undefined;
}

function hasEventualConsistency(req: Request): boolean {
  return (
    String(req.headers.consistencylevel ?? '').toLowerCase() === 'eventual'
  );
}

function applyFilterAndSearch(
  req: Request,
  items: GraphObject[],
  advanced: boolean,
): GraphObject[] {
  const q = req.query as Record<string, string | undefined>;
  let result = items;
  try {
    if (q.$filter) {
      const filter = parseFilter(q.$filter);
      if (filter.advancedOperators.length && !advanced) {
        throw graphErrors.advancedOperator(filter.advancedOperators[0]);
      }
      result = result.filter(o => filter.matches(o));
    }
    if (q.$search !== undefined) {
      if (!hasEventualConsistency(req))
        throw graphErrors.searchNeedsConsistency();
      const search = parseSearch(q.$search);
      result = result.filter(o => search(o));
    }
  } catch (e) {
    if (e instanceof ODataError)
      throw graphErrors.badRequest(`Invalid filter clause: ${e.message}`);
    throw e;
  }
  return result;
}

function nextLink(req: Request, nextOffset: number): string {
  // Absolute, on the origin the client used, as Graph's are.
  const url = new URL(req.originalUrl, `${req.protocol}://${req.headers.host}`);
  url.searchParams.set('$skiptoken', encodeSkipToken(nextOffset));
  return url.toString();
}

function encodeSkipToken(offset: number): string {
  return `RFNwdAIA${Buffer.from(JSON.stringify({ o: offset })).toString(
    'base64url',
  )}`;
}

function decodeSkipToken(token: string): number {
  try {
    const parsed = JSON.parse(
      Buffer.from(token.replace(/^RFNwdAIA/, ''), 'base64url').toString('utf8'),
    );
    if (typeof parsed.o === 'number') return parsed.o;
  } catch {
    // fall through
  }
  throw graphErrors.badSkipToken();
}
