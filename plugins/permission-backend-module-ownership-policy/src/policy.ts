import {
  BackstageUserPrincipal,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { isError } from '@backstage/errors';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import { RESOURCE_TYPE_CATALOG_ENTITY } from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  isResourcePermission,
  Permission,
  PermissionCondition,
  PermissionCriteria,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import {
  createScaffolderActionConditionalDecision,
  createScaffolderTaskConditionalDecision,
  createScaffolderTemplateConditionalDecision,
  scaffolderActionConditions,
  scaffolderTaskConditions,
  scaffolderTemplateConditions,
} from '@backstage/plugin-scaffolder-backend/alpha';
import {
  RESOURCE_TYPE_SCAFFOLDER_ACTION,
  RESOURCE_TYPE_SCAFFOLDER_TASK,
  RESOURCE_TYPE_SCAFFOLDER_TEMPLATE,
} from '@backstage/plugin-scaffolder-common/alpha';
import { auditReadPermission } from '@internal/plugin-audit-common';
import { templateRunPermission } from '@internal/plugin-scaffolder-backend-module-template-run-guard';
import { OwnershipPolicyConfig } from './config';
import { CurrentIdentityLookup } from './currentIdentity';
import { conditionalRule, DecisionRecorder } from './decisionAudit';

/**
 * Finds the catalog entities owned by any of a person's ownership refs, for
 * deploy conditions: scaffolder action conditions cannot look anything up,
 * so the policy names the owned targets when it decides.
 *
 * @public
 */
export interface OwnedEntityLookup {
  /** Full lowercase refs of the entities owned by any of `ownershipEntityRefs`. */
  ownedEntityRefs(ownershipEntityRefs: string[]): Promise<string[]>;
}

/** The person a decision is for. */
interface Subject {
  userEntityRef: string;
  /** Lowercase ownership refs: the person and all their groups, nested included. */
  refs: string[];
  inAny(groups: string[] | undefined): boolean;
}

/**
 * A decision and the name of the rule that made it, for the audit trail's
 * `permission-denied` events. Conditional decisions are named by their
 * conditions (see `conditionalRule`), as the resource plugin decides them.
 */
interface Verdict {
  decision: PolicyDecision;
  rule: string;
}

type Rule = (
  permission: Permission,
  subject: Subject,
) => Verdict | Promise<Verdict>;

const ALLOW: PolicyDecision = { result: AuthorizeResult.ALLOW };
const DENY: PolicyDecision = { result: AuthorizeResult.DENY };

const allow = (rule: string): Verdict => ({ decision: ALLOW, rule });
const deny = (rule: string): Verdict => ({ decision: DENY, rule });
/** ALLOW when in any of the groups, else DENY by rule `deniedRule`. */
const inGroups = (allowed: boolean, deniedRule: string): Verdict =>
  allowed ? allow('in-groups') : deny(deniedRule);
const conditional = (decision: PolicyDecision): Verdict => ({
  decision,
  rule: conditionalRule(decision) ?? 'allowed',
});

type Criteria<T extends string> = PermissionCriteria<PermissionCondition<T>>;

function nonEmpty<T extends string>(
  items: Criteria<T>[],
): [Criteria<T>, ...Criteria<T>[]] {
  if (items.length === 0) {
    throw new Error('Permission criteria must not be empty');
  }
  return items as [Criteria<T>, ...Criteria<T>[]];
}

/** `anyOf` that accepts one item (criteria arrays must not be empty). */
function anyOf<T extends string>(items: Criteria<T>[]): Criteria<T> {
  return items.length === 1 ? items[0] : { anyOf: nonEmpty(items) };
}

function allOf<T extends string>(items: Criteria<T>[]): Criteria<T> {
  return items.length === 1 ? items[0] : { allOf: nonEmpty(items) };
}

function wrongResourceType(permission: Permission): never {
  throw new Error(
    `Permission ${permission.name} does not carry the resource type the ownership policy expects`,
  );
}

/**
 * The portal's permission policy (docs/permissions.md). Returns conditional
 * decisions wherever the resource supports them, so lists are filtered in
 * the database with one authorize call per request.
 *
 * @public
 */
export class OwnershipPolicy implements PermissionPolicy {
  readonly #config: OwnershipPolicyConfig;
  readonly #identities: CurrentIdentityLookup;
  readonly #ownedEntities: OwnedEntityLookup;
  readonly #logger: LoggerService;
  readonly #rules: Map<string, Rule>;
  readonly #tokenRoleGroups: ReadonlySet<string>;
  readonly #recorder?: DecisionRecorder;

  constructor(options: {
    config: OwnershipPolicyConfig;
    /** The person's current ownership; throws when they count as signed out. */
    identities: CurrentIdentityLookup;
    ownedEntities: OwnedEntityLookup;
    logger: LoggerService;
    /**
     * Groups an Entra app role grants (`auth.providers.entra-app.roleGroups`):
     * they count for a caller only while the caller's token carries them, as
     * a pipeline's app roles are in its token, not in the catalog.
     */
    tokenRoleGroups?: string[];
    /** Told which rule decided, for the `/authorize` denial audit. */
    recorder?: DecisionRecorder;
  }) {
    this.#recorder = options.recorder;
    this.#config = options.config;
    this.#tokenRoleGroups = new Set(
      (options.tokenRoleGroups ?? []).map(g => g.toLocaleLowerCase('en-US')),
    );
    this.#identities = options.identities;
    this.#ownedEntities = options.ownedEntities;
    this.#logger = options.logger;
    this.#rules = this.#createRules();
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    // Before any await: the n-th call of a request is its n-th item.
    const slot = this.#recorder?.begin(request.permission.name);
    try {
      const { decision, rule } = await this.#decide(request, user);
      if (slot) slot.rule = rule;
      return decision;
    } catch (error) {
      if (slot && isError(error) && error.name === 'NotAllowedError') {
        slot.refused = error;
      }
      throw error;
    }
  }

  async #decide(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<Verdict> {
    const { permission } = request;
    if (!user) {
      // Service principals never get here (Backstage decides them from their
      // access restrictions); this is an unauthenticated caller.
      this.#logger.warn(
        `Denied ${permission.name} to an unauthenticated caller`,
      );
      return deny('unauthenticated');
    }
    // Not the token's or sign-in's ownership: those last as long as the
    // token (an hour), and revocation must not wait for it. A person the
    // catalog no longer has is refused with the reason (NotAllowedError, a
    // 403 wherever the decision surfaces) rather than a bare DENY.
    // The permission backend passes `user` for user principals only.
    const { userEntityRef } = user.credentials
      .principal as BackstageUserPrincipal;
    const subject = this.#subject(userEntityRef, [
      ...(await this.#identities.currentOwnershipRefs(userEntityRef)),
      ...this.#roleGroupsOf(user),
    ]);
    if (subject.inAny(this.#config.admins)) {
      return allow('admin');
    }
    const rule = this.#rules.get(permission.name);
    if (!rule) {
      this.#logger.warn(
        `Denied ${permission.name} to ${subject.userEntityRef}: the ownership policy does not name this permission`,
      );
      return deny('unknown-permission');
    }
    return rule(permission, subject);
  }

  /**
   * The app-role groups the caller's latest token carries (the auth backend
   * keeps the ownership refs of the last token issued to each entity): an
   * app whose role is removed loses the group with its next token.
   */
  #roleGroupsOf(user: PolicyQueryUser): string[] {
    if (this.#tokenRoleGroups.size === 0) return [];
    return (user.info.ownershipEntityRefs ?? [])
      .map(r => r.toLocaleLowerCase('en-US'))
      .filter(r => this.#tokenRoleGroups.has(r));
  }

  #subject(userEntityRef: string, ownershipEntityRefs: string[]): Subject {
    const refs = [
      ...new Set(
        [userEntityRef, ...ownershipEntityRefs].map(r =>
          r.toLocaleLowerCase('en-US'),
        ),
      ),
    ];
    const set = new Set(refs);
    return {
      userEntityRef,
      refs,
      inAny: groups => (groups ?? []).some(g => set.has(g)),
    };
  }

  #createRules(): Map<string, Rule> {
    const { catalog, scaffolder } = this.#config;
    const register: Rule = (_, s) =>
      inGroups(s.inAny(catalog.registerGroups), 'not-in-register-groups');
    const owners: Rule = (permission, s) => {
      if (!isResourcePermission(permission, RESOURCE_TYPE_CATALOG_ENTITY)) {
        return wrongResourceType(permission);
      }
      return conditional(
        createCatalogConditionalDecision(
          permission,
          catalogConditions.isEntityOwner({ claims: s.refs }),
        ),
      );
    };
    const taskCreator: Rule = (permission, s) => {
      if (!isResourcePermission(permission, RESOURCE_TYPE_SCAFFOLDER_TASK)) {
        return wrongResourceType(permission);
      }
      return conditional(
        createScaffolderTaskConditionalDecision(
          permission,
          scaffolderTaskConditions.isTaskOwner({
            createdBy: [...new Set([s.userEntityRef, s.refs[0]])],
          }),
        ),
      );
    };
    const signedIn: Rule = () => allow('signed-in');
    const adminsOnly: Rule = () => deny('admins-only');

    return new Map<string, Rule>([
      // Catalog
      ['catalog.entity.read', (p, s) => this.#read(p, s)],
      ['catalog.entity.refresh', owners],
      ['catalog.entity.delete', owners],
      ['catalog.entity.create', register],
      ['catalog.entity.validate', signedIn],
      ['catalog.location.read', signedIn],
      ['catalog.location.create', register],
      ['catalog.location.analyze', register],
      // The catalog does not tell a policy which location is deleted, so
      // ownership cannot be checked: admins only.
      ['catalog.location.delete', adminsOnly],
      ['catalog.ingestion.read', signedIn],
      ['catalog.ingestion.manage', adminsOnly],
      // Scaffolder
      ['scaffolder.template.parameter.read', (p, s) => this.#tagged(p, s)],
      ['scaffolder.template.step.read', (p, s) => this.#tagged(p, s)],
      // Carries no template; which template someone may run is
      // scaffolder.template.run, asked by the template-run-guard module.
      ['scaffolder.task.create', signedIn],
      [templateRunPermission.name, (p, s) => this.#run(p, s)],
      ['scaffolder.task.read', taskCreator],
      ['scaffolder.task.cancel', taskCreator],
      ['scaffolder.action.execute', (p, s) => this.#action(p, s)],
      [
        'scaffolder.template.dry-run',
        (_, s) =>
          inGroups(s.inAny(scaffolder.dryRunGroups), 'not-in-dry-run-groups'),
      ],
      ['scaffolder.template.management', adminsOnly],
      // Kubernetes and TechDocs, as installed in packages/backend.
      ['kubernetes.clusters.read', signedIn],
      ['kubernetes.resources.read', signedIn],
      ['kubernetes.proxy', adminsOnly],
      ['techdocs.actions.read', signedIn],
      // The audit trail names who did what to which entity: admins only.
      [auditReadPermission.name, adminsOnly],
    ]);
  }

  #read(permission: Permission, s: Subject): Verdict {
    if (!isResourcePermission(permission, RESOURCE_TYPE_CATALOG_ENTITY)) {
      return wrongResourceType(permission);
    }
    // Templates are read by everyone, restricted ones included (see #run).
    const readable = this.#readable(s);
    return readable
      ? conditional(createCatalogConditionalDecision(permission, readable))
      : allow('signed-in');
  }

  /** What the person may read; undefined: everything. */
  #readable(s: Subject): Criteria<'catalog-entity'> | undefined {
    const kinds = this.#config.catalog.restrictReadToOwners;
    if (kinds.length === 0) {
      return undefined;
    }
    const { isEntityKind, isEntityOwner } = catalogConditions;
    return {
      anyOf: [
        { not: isEntityKind({ kinds }) },
        isEntityOwner({ claims: s.refs }),
      ],
    };
  }

  /**
   * Templates in `scaffolder.templates` are run by their groups only; they
   * stay readable by everyone (#read), so people see what exists and whom
   * to ask.
   *
   * Only what the person may read can be run. The permission backend
   * denies a conditional decision for a ref the catalog does not find, so
   * without the read condition an entity hidden from the person would be
   * allowed where a missing one is denied, and `POST /authorize` would
   * tell them it exists.
   */
  #run(permission: Permission, s: Subject): Verdict {
    if (!isResourcePermission(permission, RESOURCE_TYPE_CATALOG_ENTITY)) {
      return wrongResourceType(permission);
    }
    const { isEntityKind, hasMetadata } = catalogConditions;
    const criteria: Criteria<'catalog-entity'>[] = [];
    const readable = this.#readable(s);
    if (readable) {
      criteria.push(readable);
    }
    for (const t of this.#config.scaffolder.templates) {
      if (s.inAny(t.groups)) continue;
      const { namespace, name } = parseEntityRef(t.template);
      criteria.push({
        not: {
          allOf: [
            isEntityKind({ kinds: ['template'] }),
            hasMetadata({ key: 'namespace', value: namespace }),
            hasMetadata({ key: 'name', value: name }),
          ],
        },
      });
    }
    return criteria.length > 0
      ? conditional(
          createCatalogConditionalDecision(permission, allOf(criteria)),
        )
      : allow('signed-in');
  }

  #tagged(permission: Permission, s: Subject): Verdict {
    if (!isResourcePermission(permission, RESOURCE_TYPE_SCAFFOLDER_TEMPLATE)) {
      return wrongResourceType(permission);
    }
    const denied = this.#config.scaffolder.tags.filter(t => !s.inAny(t.groups));
    if (denied.length === 0) {
      return allow('in-groups');
    }
    return conditional(
      createScaffolderTemplateConditionalDecision(permission, {
        not: anyOf(
          denied.map(t => scaffolderTemplateConditions.hasTag({ tag: t.tag })),
        ),
      }),
    );
  }

  async #action(permission: Permission, s: Subject): Promise<Verdict> {
    if (!isResourcePermission(permission, RESOURCE_TYPE_SCAFFOLDER_ACTION)) {
      return wrongResourceType(permission);
    }
    const deploy = this.#config.scaffolder.deploy;
    if (!deploy) {
      return allow('signed-in');
    }
    const { hasActionId, hasStringProperty } = scaffolderActionConditions;
    const toEnvironment = (name: string) =>
      hasStringProperty({ key: deploy.environmentInput, value: name });
    const allowed: Criteria<'scaffolder-action'>[] = [
      {
        not: anyOf(deploy.actions.map(actionId => hasActionId({ actionId }))),
      },
    ];
    for (const env of deploy.environments) {
      if (env.groups && s.inAny(env.groups)) {
        allowed.push(toEnvironment(env.name));
      }
    }
    const ownerEnvironments = deploy.environments.filter(e => !e.groups);
    if (ownerEnvironments.length > 0) {
      const owned = await this.#ownedEntities.ownedEntityRefs(s.refs);
      if (owned.length > 0) {
        allowed.push({
          allOf: [
            anyOf(ownerEnvironments.map(e => toEnvironment(e.name))),
            anyOf(
              owned.map(ref =>
                hasStringProperty({ key: deploy.targetInput, value: ref }),
              ),
            ),
          ],
        });
      }
    }
    return conditional(
      createScaffolderActionConditionalDecision(permission, anyOf(allowed)),
    );
  }
}
