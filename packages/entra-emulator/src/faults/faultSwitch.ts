import { FaultRule } from '../types';

/** Compiles a route glob (`*` = any characters) to an anchored RegExp. */
export function routeMatcher(route: string): RegExp {
  const escaped = route
    .split('*')
    .map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`);
}

interface ActiveRule {
  rule: FaultRule;
  re: RegExp;
  fired: number;
}

/**
 * The set of faults currently switched on. Rules are checked in order; a rule
 * with `times` stops matching once it has fired that often.
 */
export class FaultSwitch {
  private rules: ActiveRule[] = [];

  constructor(initial: FaultRule[] = []) {
    this.set(initial);
  }

  set(rules: FaultRule[]) {
    for (const r of rules) validateRule(r);
    this.rules = rules.map(rule => ({
      rule,
      re: routeMatcher(rule.route),
      fired: 0,
    }));
  }

  clear() {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map(r => r.rule);
  }

  /**
   * The first matching rule of one of `types`, counted as fired. `accept`
   * narrows the match further (e.g. to a page number).
   */
  take<T extends FaultRule['type']>(
    path: string,
    method: string,
    types: T[],
    accept: (rule: Extract<FaultRule, { type: T }>) => boolean = () => true,
  ): Extract<FaultRule, { type: T }> | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (!types.includes(rule.type as T)) continue;
      if (rule.method && rule.method.toUpperCase() !== method.toUpperCase())
        continue;
      if (!active.re.test(path)) continue;
      if (rule.times !== undefined && active.fired >= rule.times) continue;
      const typed = rule as Extract<FaultRule, { type: T }>;
      if (!accept(typed)) continue;
      active.fired++;
      return typed;
    }
    return undefined;
  }
}

const TYPES = [
  'latency',
  'throttle',
  'unavailable',
  'reset',
  'failPage',
  'emptyDirectory',
];

function validateRule(rule: FaultRule) {
  if (!rule || typeof rule.route !== 'string' || !TYPES.includes(rule.type)) {
    throw new Error(
      `Invalid fault rule ${JSON.stringify(
        rule,
      )}: needs a route and a type of ${TYPES.join(', ')}`,
    );
  }
  if (rule.type === 'latency' && !(rule.ms >= 0)) {
    throw new Error('A latency fault needs ms >= 0');
  }
  if (rule.type === 'failPage' && !(rule.page >= 1)) {
    throw new Error('A failPage fault needs page >= 1');
  }
}
