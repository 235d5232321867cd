import {
  Entity,
  parseEntityRef,
  RELATION_OWNED_BY,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { Config } from '@backstage/config';

/**
 * The parts of `permission.ownershipPolicy` the app explains decisions with.
 * The backend policy decides; these settings only let the app say why, in
 * the same words as the configuration (docs/permissions.md).
 */
export interface PolicySummary {
  admins: string[];
  /** Who may register besides admins; left out in config: admins only. */
  registerGroups: string[];
  deployEnvironments: Array<{ name: string; groups?: string[] }>;
}

export function readPolicySummary(config: Config): PolicySummary {
  const policy = config.getOptionalConfig('permission.ownershipPolicy');
  return {
    admins: policy?.getOptionalStringArray('admins') ?? [],
    registerGroups:
      policy?.getOptionalStringArray('catalog.registerGroups') ?? [],
    deployEnvironments: (
      policy?.getOptionalConfigArray('scaffolder.deploy.environments') ?? []
    ).map(env => ({
      name: env.getString('name'),
      groups: env.getOptionalStringArray('groups'),
    })),
  };
}

/** The owner refs of an entity, as the catalog resolved them. */
export function ownersOf(entity: Entity): string[] {
  const owners = (entity.relations ?? [])
    .filter(r => r.type === RELATION_OWNED_BY)
    .map(r => r.targetRef);
  if (owners.length > 0) return owners;
  const owner = entity.spec?.owner;
  return typeof owner === 'string'
    ? [
        stringifyEntityRef(
          parseEntityRef(owner, {
            defaultKind: 'group',
            defaultNamespace: entity.metadata.namespace ?? 'default',
          }),
        ),
      ]
    : [];
}

const list = (refs: string[]) => refs.join(', ');

/**
 * Why someone may not change an entity: only its owners and the admins may.
 * e.g. "Only owners of component:default/payments — group:default/payments —
 * and portal admins (group:default/platform-admins) can unregister it."
 */
export function ownerOnlyReason(
  entity: Entity,
  action: string,
  summary: PolicySummary,
): string {
  const owners = ownersOf(entity);
  const who =
    owners.length > 0
      ? `owners of ${stringifyEntityRef(entity)} — ${list(owners)} —`
      : `owners of ${stringifyEntityRef(entity)} (it has none)`;
  const admins = summary.admins.length > 0 ? ` (${list(summary.admins)})` : '';
  return `Only ${who} and portal admins${admins} can ${action} it.`;
}

/** Whether the person is in one of `groups` (their refs include nested groups). */
export function memberOfAny(ownershipRefs: string[], groups: string[]) {
  return groups.some(g => ownershipRefs.includes(g));
}

export function groupsOnlyReason(action: string, groups: string[]): string {
  return groups.length > 0
    ? `Only members of ${list(groups)} can ${action}.`
    : `Only portal admins can ${action}.`;
}
