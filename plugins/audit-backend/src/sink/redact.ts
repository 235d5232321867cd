import { JsonObject, JsonValue } from '@backstage/types';

/** What a removed secret reads as in stored meta and log lines. */
export const REDACTED = '[redacted]';

// Keys whose values are secrets whatever they look like (CONTRACT §4). `code`
// at either end catches OAuth authorization codes (`code`, `authCode`).
const SECRET_KEY =
  /token|secret|password|assertion|authorization|cookie|verifier|credential|code$|^code/i;
// A JWT is three base64url parts and its header always starts with `{"` (eyJ).
// The signature may be empty (alg none), which still must not be kept.
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER = /\bBearer\s+[^\s,;"'<>]+/gi;

// Meta comes from every plugin of the backend; bound the walk so a cyclic or
// absurdly deep value cannot make the auditor throw or spin.
const MAX_DEPTH = 12;

/** Replaces JWTs and `Bearer ...` values inside a string. */
export function redactString(value: string): string {
  return value.replace(JWT, REDACTED).replace(BEARER, REDACTED);
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

function redactValue(
  value: unknown,
  depth: number,
  seen: Set<object>,
): JsonValue | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return redactString(value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      // functions, symbols, undefined: not JSON, dropped like JSON.stringify does
      return undefined;
  }
  const obj = value as object;
  if (depth >= MAX_DEPTH || seen.has(obj)) return REDACTED;
  if (obj instanceof Date) {
    return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
  }
  if (obj instanceof Error) {
    return { name: obj.name, message: redactString(String(obj.message)) };
  }
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      return obj.map(v => redactValue(v, depth + 1, seen) ?? null);
    }
    const out: JsonObject = {};
    for (const [key, v] of Object.entries(obj)) {
      if (isSecretKey(key)) {
        out[key] = REDACTED;
        continue;
      }
      const r = redactValue(v, depth + 1, seen);
      if (r !== undefined) out[key] = r;
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

/**
 * A JSON copy of `meta` with secrets removed: values of secret-looking keys
 * become `[redacted]`, JWTs and bearer values inside any string too. Never
 * throws, whatever a plugin passed.
 */
export function redactMeta(meta: unknown): JsonObject {
  try {
    const r = redactValue(meta ?? {}, 0, new Set());
    return r && typeof r === 'object' && !Array.isArray(r) ? r : {};
  } catch {
    return {};
  }
}

const REF_KEYS = new Set([
  'entityref',
  'entityrefs',
  'resourceref',
  'templateref',
  'targetref',
  'componentref',
]);

function isRefKey(key: string): boolean {
  return (
    REF_KEYS.has(key.toLocaleLowerCase('en-US')) ||
    key.endsWith('EntityRef') ||
    key.endsWith('EntityRefs')
  );
}

function addRefs(value: JsonValue | undefined, into: Set<string>) {
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const ref = v.trim().toLocaleLowerCase('en-US');
    // a value that was redacted is not an entity, just a secret's placeholder
    if (ref && !ref.includes(REDACTED)) into.add(ref);
  }
}

/** Who acted, under the names the portal's events use: not what they acted on. */
const ACTOR_KEYS = new Set(['actor', 'initiator']);

/**
 * At most this many entity refs per event are indexed for the entity filter:
 * a catalog `entity-fetch` by refs names every entity of a page, and each
 * indexed ref is a row. The event's meta keeps the whole list.
 */
export const MAX_INDEXED_ENTITY_REFS = 25;

/**
 * The entities an event is about (CONTRACT §3): string values of ref-named
 * keys at the top level of the (redacted) meta and one object level down,
 * except inside `actor` and `initiator` (who acted is not what it acted
 * on), then `extra` (refs a module left on the request). Lowercase, without
 * duplicates, in the order met, at most {@link MAX_INDEXED_ENTITY_REFS}.
 */
export function extractEntityRefs(
  meta: JsonObject,
  extra: unknown = [],
): string[] {
  const refs = new Set<string>();
  for (const [key, value] of Object.entries(meta)) {
    if (isRefKey(key)) {
      addRefs(value, refs);
    } else if (
      !ACTOR_KEYS.has(key) &&
      value &&
      typeof value === 'object' &&
      !Array.isArray(value)
    ) {
      for (const [innerKey, inner] of Object.entries(value)) {
        if (isRefKey(innerKey)) addRefs(inner, refs);
      }
    }
  }
  if (Array.isArray(extra)) addRefs(extra as JsonValue, refs);
  return [...refs].slice(0, MAX_INDEXED_ENTITY_REFS);
}
