/**
 * The case language of `yarn policy:test`:
 *
 *   <who> may <what>: allow|deny
 *
 * <who> is a user name (`ada.admin`), a user ref, or `anonymous` (no token).
 * <what> is one of the forms in {@link CASE_FORMS}.
 */

/** What a case asks, in policy terms. */
export type CaseAction =
  | { kind: 'entity'; permission: string; entityRef: string }
  | { kind: 'basic'; permission: string }
  | { kind: 'run'; templateRef: string }
  | { kind: 'tagged'; permission: string; tag: string }
  | { kind: 'deploy'; entityRef: string; environment: string }
  | { kind: 'task'; permission: string; createdBy: string }
  | { kind: 'raw'; permission: string; resourceRef?: string };

/** One parsed case. */
export interface PolicyCase {
  /** The case as written. */
  text: string;
  who: string;
  action: CaseAction;
  expected: 'allow' | 'deny';
}

/** The forms <what> may take, shown with a malformed case. */
export const CASE_FORMS = [
  'read <entity ref>',
  'refresh <entity ref>',
  'delete <entity ref>',
  'register locations',
  'register entities',
  'unregister locations',
  'run <template ref>',
  'see parameters tagged <tag>',
  'run steps tagged <tag>',
  'deploy <entity ref> to <environment>',
  'read tasks of <user>',
  'cancel tasks of <user>',
  'dry-run templates',
  '<permission name> [<resource ref>]   e.g. kubernetes.proxy',
];

/** A case that cannot be understood; the message says how to write it. */
export class MalformedCaseError extends Error {}

const REF = String.raw`[a-z0-9][\w.-]*:(?:[\w.-]+/)?[\w.-]+`;

const FORMS: Array<[RegExp, (m: RegExpMatchArray) => CaseAction]> = [
  [
    new RegExp(`^(read|refresh|delete) (${REF})$`, 'i'),
    m => ({
      kind: 'entity',
      permission: `catalog.entity.${m[1].toLowerCase()}`,
      entityRef: m[2],
    }),
  ],
  [
    /^register locations?$/i,
    () => ({ kind: 'basic', permission: 'catalog.location.create' }),
  ],
  [
    /^register entit(?:y|ies)$/i,
    () => ({ kind: 'basic', permission: 'catalog.entity.create' }),
  ],
  [
    /^unregister locations?$/i,
    () => ({ kind: 'basic', permission: 'catalog.location.delete' }),
  ],
  [
    new RegExp(`^run (${REF})$`, 'i'),
    m => ({ kind: 'run', templateRef: m[1] }),
  ],
  [
    /^see parameters tagged (\S+)$/i,
    m => ({
      kind: 'tagged',
      permission: 'scaffolder.template.parameter.read',
      tag: m[1],
    }),
  ],
  [
    /^run steps tagged (\S+)$/i,
    m => ({
      kind: 'tagged',
      permission: 'scaffolder.template.step.read',
      tag: m[1],
    }),
  ],
  [
    new RegExp(`^deploy (${REF}) to (\\S+)$`, 'i'),
    m => ({ kind: 'deploy', entityRef: m[1], environment: m[2] }),
  ],
  [
    /^(read|cancel) tasks of (\S+)$/i,
    m => ({
      kind: 'task',
      permission: `scaffolder.task.${m[1].toLowerCase()}`,
      createdBy: m[2],
    }),
  ],
  [
    /^dry-run templates?$/i,
    () => ({ kind: 'basic', permission: 'scaffolder.template.dry-run' }),
  ],
  [
    new RegExp(`^([a-z][\\w-]*(?:\\.[\\w-]+)+)(?: (${REF}))?$`, 'i'),
    m => ({ kind: 'raw', permission: m[1], resourceRef: m[2] }),
  ],
];

function malformed(where: string, text: string, why: string): never {
  throw new MalformedCaseError(
    `${where}: malformed case ${JSON.stringify(text)}: ${why}\n` +
      `  Write cases as "<who> may <what>: allow" (or deny), where <who> is a user name,\n` +
      `  a user ref or "anonymous", and <what> is one of:\n${CASE_FORMS.map(
        f => `    ${f}`,
      ).join('\n')}`,
  );
}

/**
 * Parses one entry of a case list: either a one-key map
 * (`- ada.admin may delete component:default/x: allow`, which is how YAML
 * reads that line) or the same as a plain string.
 */
export function parseCase(entry: unknown, where: string): PolicyCase {
  let text: string;
  let expected: unknown;
  if (typeof entry === 'string') {
    const i = entry.lastIndexOf(':');
    text = entry.slice(0, i < 0 ? entry.length : i).trim();
    expected = i < 0 ? undefined : entry.slice(i + 1).trim();
  } else if (
    entry &&
    typeof entry === 'object' &&
    !Array.isArray(entry) &&
    Object.keys(entry).length === 1
  ) {
    [[text, expected]] = Object.entries(entry);
  } else {
    return malformed(
      where,
      JSON.stringify(entry) ?? String(entry),
      'not a case line',
    );
  }
  if (expected !== 'allow' && expected !== 'deny') {
    return malformed(
      where,
      text,
      `the expected decision must be "allow" or "deny", got ${JSON.stringify(
        expected ?? null,
      )}`,
    );
  }
  const m = /^(\S+) may (.+)$/.exec(text.trim());
  if (!m) {
    return malformed(where, text, 'expected "<who> may <what>"');
  }
  const [, who, what] = m;
  for (const [pattern, build] of FORMS) {
    const match = what.trim().match(pattern);
    if (match) {
      return { text, who, action: build(match), expected };
    }
  }
  return malformed(where, text, `"${what}" is not a form the runner knows`);
}
