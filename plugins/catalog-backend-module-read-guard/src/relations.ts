import { stringifyEntityRef } from '@backstage/catalog-model';
import { normalizeRef } from './callerReads';

type EntityLike = { relations?: unknown } | null | undefined | unknown;

function targetOf(relation: any): string | undefined {
  if (typeof relation?.targetRef === 'string') return relation.targetRef;
  const t = relation?.target;
  if (t && typeof t.kind === 'string' && typeof t.name === 'string') {
    return stringifyEntityRef(t);
  }
  return undefined;
}

/**
 * Drops, in place, every relation whose target the caller may not read
 * (hidden or missing alike, so a relation never tells the two apart). A
 * relation projected without its target (`fields=relations.type`) cannot be
 * checked and is dropped too. One readability check for the whole answer.
 */
export async function dropUnreadableRelations(
  entities: EntityLike[],
  readable: (refs: string[]) => Promise<Set<string>>,
  alsoReadable: Set<string> = new Set(),
): Promise<void> {
  const withRelations = entities.filter(
    (e): e is { relations: unknown[] } =>
      !!e &&
      typeof e === 'object' &&
      Array.isArray((e as { relations?: unknown }).relations),
  );
  const targets = withRelations.flatMap(e =>
    e.relations.map(targetOf).filter((t): t is string => !!t),
  );
  const unknown = targets.filter(t => !alsoReadable.has(normalizeRef(t)));
  const ok = unknown.length ? await readable(unknown) : new Set<string>();
  for (const e of withRelations) {
    e.relations = e.relations.filter(r => {
      const target = targetOf(r);
      if (!target) return false;
      const ref = normalizeRef(target);
      return ok.has(ref) || alsoReadable.has(ref);
    });
  }
}
