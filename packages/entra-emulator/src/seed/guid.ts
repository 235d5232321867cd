import { createHash } from 'node:crypto';

/**
 * A GUID derived from a name, so generated objects keep the same id on every
 * run (tokens, catalog annotations and tests can rely on them).
 */
export function deterministicGuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  // Shaped as a version-4/variant-1 GUID so strict parsers accept it.
  return [
    h.slice(0, 8),
    h.slice(8, 12),
    `4${h.slice(13, 16)}`,
    `${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}`,
    h.slice(20, 32),
  ].join('-');
}

const GUID_RE =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is shaped like a GUID. */
export function isGuid(value: string): boolean {
  return GUID_RE.test(value);
}
