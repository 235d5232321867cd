import { InputError } from '@backstage/errors';
import { normalizeRef } from './callerReads';

/**
 * Stands in for a relation filter value the caller may not read. Every
 * relation target is a full entity ref (`kind:namespace/name`), so a value
 * without a colon matches nothing: the filter answers as it does for a ref
 * that does not exist.
 */
export const UNREADABLE_TARGET = 'no-readable-entity';

const RELATION_KEY = /^relations\./i;

export function isRelationKey(key: unknown): boolean {
  return typeof key === 'string' && RELATION_KEY.test(key.trim());
}

/** Maps one relation filter value; collecting and rewriting are two passes. */
export type VisitValue = (value: string) => string;

function refuse(what: string, key: string): never {
  throw new InputError(
    `${what} on ${key.trim()} is not available to people whose catalog reads are limited by the permission policy; ` +
      `filter on a relation target instead, e.g. ${key.trim()}=<kind>:<namespace>/<name>`,
  );
}

/**
 * The `filter` query parameter (`a=b,c=d`, repeatable), as the catalog
 * parses it: statements split on commas, key and value on the first `=`.
 */
export function mapFilterParam(param: unknown, visit: VisitValue): unknown {
  if (param === undefined) return param;
  if (Array.isArray(param)) return param.map(p => mapFilterParam(p, visit));
  if (typeof param !== 'string') return param;
  return param
    .split(',')
    .map(statement => {
      const i = statement.indexOf('=');
      const key = i === -1 ? statement : statement.slice(0, i);
      if (!isRelationKey(key)) return statement;
      if (i === -1) refuse('Filtering on whether a relation exists', key);
      return `${key}=${visit(statement.slice(i + 1).trim())}`;
    })
    .join(',');
}

/**
 * A structured filter: filter predicates (`$all`, `$any`, `$not`,
 * `{ field: value | { $in | $contains | $exists | $hasPrefix } }`) and the
 * older `{ key, values } | { allOf | anyOf | not }` form cursors carry.
 * Rewritten in place.
 */
export function mapStructuredFilter(node: unknown, visit: VisitValue): void {
  if (Array.isArray(node)) {
    node.forEach(n => mapStructuredFilter(n, visit));
    return;
  }
  if (!node || typeof node !== 'object') return;
  const obj = node as Record<string, any>;
  const keys = Object.keys(obj);
  if (
    typeof obj.key === 'string' &&
    keys.every(k => k === 'key' || k === 'values')
  ) {
    if (isRelationKey(obj.key)) {
      if (!Array.isArray(obj.values)) {
        refuse('Filtering on whether a relation exists', obj.key);
      }
      obj.values = obj.values.map((v: unknown) =>
        typeof v === 'string' ? visit(v) : v,
      );
    }
    return;
  }
  for (const key of keys) {
    if (['$all', '$any', '$not', 'allOf', 'anyOf', 'not'].includes(key)) {
      mapStructuredFilter(obj[key], visit);
    } else if (isRelationKey(key)) {
      obj[key] = mapPredicateValue(key, obj[key], visit);
    } else if (key.trim().toLocaleLowerCase('en-US') === 'relations') {
      mapContainsRelation(obj[key], visit);
    }
  }
}

/** `{ relations: { $contains: { type, targetRef } } }`, rewritten in place. */
function mapContainsRelation(value: unknown, visit: VisitValue) {
  const contains = (value as { $contains?: unknown } | undefined)?.$contains;
  if (!contains || typeof contains !== 'object') return;
  const relation = contains as Record<string, any>;
  const refKey = Object.keys(relation).find(
    k => k.toLocaleLowerCase('en-US') === 'targetref',
  );
  const type = `relations.${relation.type ?? '<type>'}`;
  if (!refKey) refuse('Filtering on whether a relation exists', type);
  const ref = relation[refKey];
  if (typeof ref === 'string') {
    relation[refKey] = visit(ref);
  } else if (Array.isArray(ref?.$in)) {
    ref.$in = ref.$in.map((v: unknown) =>
      typeof v === 'string' ? visit(v) : v,
    );
  }
}

function mapPredicateValue(key: string, value: unknown, visit: VisitValue) {
  if (typeof value === 'string') return visit(value);
  if (Array.isArray(value)) {
    return value.map(v => (typeof v === 'string' ? visit(v) : v));
  }
  if (!value || typeof value !== 'object') return value;
  const ops = { ...(value as Record<string, any>) };
  if ('$exists' in ops) refuse('Filtering on whether a relation exists', key);
  if ('$hasPrefix' in ops) refuse('Prefix matching', key);
  if (Array.isArray(ops.$in)) {
    ops.$in = ops.$in.map((v: unknown) =>
      typeof v === 'string' ? visit(v) : v,
    );
  }
  if (typeof ops.$contains === 'string') ops.$contains = visit(ops.$contains);
  return ops;
}

/**
 * Full-text search and ordering over relation values would rank or match
 * entities by targets the caller may not read, so they are refused for
 * such callers whatever the value (the refusal says nothing about any entity).
 */
export function refuseRelationOrderAndSearch(options: {
  orderFields?: unknown;
  fullTextFields?: unknown;
}): void {
  const names = (v: unknown): string[] => {
    if (typeof v === 'string') return v.split(',');
    if (Array.isArray(v)) return v.flatMap(names);
    if (v && typeof v === 'object' && 'field' in v) {
      return names((v as { field: unknown }).field);
    }
    return [];
  };
  for (const field of names(options.orderFields)) {
    if (isRelationKey(field)) refuse('Ordering', field);
  }
  for (const field of names(options.fullTextFields)) {
    if (isRelationKey(field)) refuse('Full-text search', field);
  }
}

/** Collect, then rewrite: `run(visit)` applies a pass over every filter of a request. */
export async function rewriteRelationFilters(
  run: (visit: VisitValue) => void,
  readable: (refs: string[]) => Promise<Set<string>>,
): Promise<void> {
  const values: string[] = [];
  run(v => {
    values.push(v);
    return v;
  });
  if (values.length === 0) return;
  const ok = await readable(values);
  run(v => (ok.has(normalizeRef(v.trim())) ? v : UNREADABLE_TARGET));
}
