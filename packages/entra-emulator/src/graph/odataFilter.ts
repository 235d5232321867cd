/**
 * A small OData `$filter` parser and evaluator covering what directory
 * queries use: eq, ne, gt/ge/lt/le, startswith, endswith, in, any, and/or/not.
 * It also reports which operators need Graph's advanced query mode, so the
 * emulator can refuse them without `ConsistencyLevel: eventual` and `$count`.
 */

/** A parse error, reported to clients as Graph's BadRequest. */
export class ODataError extends Error {}

type Value = string | number | boolean | null;

type Node =
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'not'; inner: Node }
  | { kind: 'cmp'; op: string; path: string[]; value: Value }
  | { kind: 'in'; path: string[]; values: Value[] }
  | { kind: 'func'; name: string; path: string[]; value: Value }
  | { kind: 'any'; path: string[]; variable: string; inner: Node | null };

/** A parsed filter, ready to evaluate on objects. */
export interface ParsedFilter {
  /** Operators used that only advanced queries support (e.g. `ne`). */
  advancedOperators: string[];
  matches(obj: Record<string, unknown>): boolean;
}

const TOKEN_RE =
  /\s*(?:('(?:[^']|'')*')|(\()|(\))|(,)|(:)|(-?\d+(?:\.\d+)?)(?![\w-])|([A-Za-z_][\w.]*(?:\/[A-Za-z_][\w.]*)*))/y;

function tokenize(input: string): string[] {
  const tokens: string[] = [];
  TOKEN_RE.lastIndex = 0;
  let pos = 0;
  while (pos < input.length) {
    if (/^\s*$/.test(input.slice(pos))) break;
    TOKEN_RE.lastIndex = pos;
    const m = TOKEN_RE.exec(input);
    if (!m)
      throw new ODataError(`Syntax error at position ${pos} in '${input}'.`);
    tokens.push(m.slice(1).find(x => x !== undefined)!);
    pos = TOKEN_RE.lastIndex;
  }
  return tokens;
}

const CMP_OPS = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];

class Parser {
  private i = 0;
  readonly advanced = new Set<string>();

  constructor(private readonly tokens: string[]) {}

  parse(): Node {
    const node = this.or();
    if (this.i < this.tokens.length) {
      throw new ODataError(
        `Syntax error: unexpected '${this.tokens[this.i]}'.`,
      );
    }
    return node;
  }

  private peek(): string | undefined {
    return this.tokens[this.i];
  }

  private next(): string {
    const t = this.tokens[this.i++];
    if (t === undefined)
      throw new ODataError('Syntax error: unexpected end of filter.');
    return t;
  }

  private expect(t: string) {
    const got = this.next();
    if (got.toLowerCase() !== t)
      throw new ODataError(`Syntax error: expected '${t}', got '${got}'.`);
  }

  private or(): Node {
    let left = this.and();
    while (this.peek()?.toLowerCase() === 'or') {
      this.i++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): Node {
    let left = this.unary();
    while (this.peek()?.toLowerCase() === 'and') {
      this.i++;
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): Node {
    if (this.peek()?.toLowerCase() === 'not') {
      this.i++;
      this.advanced.add('not');
      return { kind: 'not', inner: this.unary() };
    }
    return this.primary();
  }

  private primary(): Node {
    const t = this.next();
    if (t === '(') {
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    const lower = t.toLowerCase();
    if (
      (lower === 'startswith' || lower === 'endswith') &&
      this.peek() === '('
    ) {
      this.i++;
      const path = this.path(this.next());
      this.expect(',');
      const value = this.value();
      this.expect(')');
      if (lower === 'endswith') this.advanced.add('endsWith');
      return { kind: 'func', name: lower, path, value };
    }
    const path = this.path(t);
    const last = path[path.length - 1].toLowerCase();
    if (last === 'any' && this.peek() === '(') {
      this.i++;
      path.pop();
      if (this.peek() === ')') {
        this.i++;
        return { kind: 'any', path, variable: '', inner: null };
      }
      const variable = this.next();
      this.expect(':');
      const inner = this.or();
      this.expect(')');
      return { kind: 'any', path, variable, inner };
    }
    const op = this.next().toLowerCase();
    if (op === 'in') {
      this.expect('(');
      const values: Value[] = [this.value()];
      while (this.peek() === ',') {
        this.i++;
        values.push(this.value());
      }
      this.expect(')');
      return { kind: 'in', path, values };
    }
    if (!CMP_OPS.includes(op))
      throw new ODataError(`Unsupported operator '${op}'.`);
    const value = this.value();
    if (op === 'ne') this.advanced.add('ne');
    if (value === null) this.advanced.add(`${op} null`);
    return { kind: 'cmp', op, path, value };
  }

  private path(t: string): string[] {
    if (!/^[A-Za-z_]/.test(t))
      throw new ODataError(`Syntax error: expected a property, got '${t}'.`);
    return t.split('/');
  }

  private value(): Value {
    const t = this.next();
    if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
    if (/^-?\d/.test(t)) return Number(t);
    const lower = t.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    if (lower === 'null') return null;
    throw new ODataError(`Syntax error: expected a literal, got '${t}'.`);
  }
}

function getPath(
  obj: unknown,
  path: string[],
  vars: Record<string, unknown>,
): unknown {
  let current: unknown = obj;
  for (let idx = 0; idx < path.length; idx++) {
    const segment = path[idx];
    if (idx === 0 && segment in vars) {
      current = vars[segment];
      continue;
    }
    if (current === null || typeof current !== 'object') return undefined;
    const key = Object.keys(current).find(
      k => k.toLowerCase() === segment.toLowerCase(),
    );
    current = key ? (current as Record<string, unknown>)[key] : undefined;
  }
  return current;
}

function norm(v: unknown): unknown {
  return typeof v === 'string' ? v.toLowerCase() : v ?? null;
}

function compare(op: string, actual: unknown, expected: Value): boolean {
  const a = norm(actual);
  const b = norm(expected);
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return (a as number) > (b as number);
    case 'ge':
      return (a as number) >= (b as number);
    case 'lt':
      return (a as number) < (b as number);
    default:
      return (a as number) <= (b as number);
  }
}

function evaluate(
  node: Node,
  obj: unknown,
  vars: Record<string, unknown>,
): boolean {
  switch (node.kind) {
    case 'and':
      return evaluate(node.left, obj, vars) && evaluate(node.right, obj, vars);
    case 'or':
      return evaluate(node.left, obj, vars) || evaluate(node.right, obj, vars);
    case 'not':
      return !evaluate(node.inner, obj, vars);
    case 'cmp':
      return compare(node.op, getPath(obj, node.path, vars), node.value);
    case 'in': {
      const actual = norm(getPath(obj, node.path, vars));
      return node.values.some(v => norm(v) === actual);
    }
    case 'func': {
      const actual = getPath(obj, node.path, vars);
      if (typeof actual !== 'string' || typeof node.value !== 'string')
        return false;
      const a = actual.toLowerCase();
      const b = node.value.toLowerCase();
      return node.name === 'startswith' ? a.startsWith(b) : a.endsWith(b);
    }
    default: {
      const items = getPath(obj, node.path, vars);
      if (!Array.isArray(items)) return false;
      if (!node.inner) return items.length > 0;
      return items.some(item =>
        evaluate(node.inner!, obj, { ...vars, [node.variable]: item }),
      );
    }
  }
}

/** Parses an OData `$filter` expression. */
export function parseFilter(input: string): ParsedFilter {
  const parser = new Parser(tokenize(input));
  const ast = parser.parse();
  return {
    advancedOperators: [...parser.advanced],
    matches: obj => evaluate(ast, obj, {}),
  };
}
