import { ODataError } from './odataFilter';

/**
 * Parses Graph's `$search` (`"prop:value"` terms joined by AND/OR) into a
 * predicate. Like Graph, a term matches when a word of the property starts
 * with the value, case-insensitively.
 */
export function parseSearch(
  input: string,
): (obj: Record<string, unknown>) => boolean {
  const re = /"([^"]*)"|\b(AND|OR)\b/g;
  const groups: Array<Array<[string, string]>> = [[]];
  let sawTerm = false;
  for (const m of input.matchAll(re)) {
    if (m[2] === 'OR') groups.push([]);
    else if (m[1] !== undefined) {
      const sep = m[1].indexOf(':');
      if (sep < 1) {
        throw new ODataError(
          `Syntax error: search term '${m[1]}' must be of the form "property:value".`,
        );
      }
      groups[groups.length - 1].push([
        m[1].slice(0, sep),
        m[1].slice(sep + 1).toLowerCase(),
      ]);
      sawTerm = true;
    }
  }
  if (!sawTerm) {
    throw new ODataError(
      'Syntax error: $search needs a quoted "property:value" term.',
    );
  }
  return obj =>
    groups.some(
      terms =>
        terms.length > 0 &&
        terms.every(([prop, value]) => {
          const key = Object.keys(obj).find(
            k => k.toLowerCase() === prop.toLowerCase(),
          );
          const actual = key ? obj[key] : undefined;
          if (typeof actual !== 'string') return false;
          const lower = actual.toLowerCase();
          return (
            lower.startsWith(value) ||
            lower.split(/[^a-z0-9]+/).some(w => w.startsWith(value))
          );
        }),
    );
}
