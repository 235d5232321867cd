import fs from 'node:fs';
import path from 'node:path';
import {
  BackstageCredentials,
  BackstageUserInfo,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { Config, ConfigReader } from '@backstage/config';
import { permissionRules } from '@backstage/plugin-catalog-backend/alpha';
import {
  catalogPermissions,
  RESOURCE_TYPE_CATALOG_ENTITY,
} from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  isResourcePermission,
  Permission,
  PermissionCondition,
  PermissionCriteria,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  isAndCriteria,
  isNotCriteria,
  isOrCriteria,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { scaffolderPermissions } from '@backstage/plugin-scaffolder-common/alpha';
import { templateRunPermission } from '@internal/plugin-scaffolder-backend-module-template-run-guard';
import { parse } from 'yaml';
import {
  CurrentIdentityLookup,
  OwnershipPolicy,
  OwnershipPolicyConfig,
  readOwnershipPolicyConfig,
} from '@internal/plugin-permission-backend-module-ownership-policy';
import {
  CatalogFixture,
  readEntityFile,
  seededOrgEntities,
} from './catalogFixture';
import { CaseAction, MalformedCaseError, parseCase, PolicyCase } from './cases';

/** The outcome of one case. */
export interface CaseResult {
  case: PolicyCase;
  actual: 'allow' | 'deny';
  passed: boolean;
  /** Why the policy decided so, when it is not obvious. */
  detail?: string;
}

const KNOWN_PERMISSIONS = new Map<string, Permission>(
  [...catalogPermissions, ...scaffolderPermissions, templateRunPermission].map(
    p => [p.name, p],
  ),
);

function permissionNamed(name: string): Permission {
  return KNOWN_PERMISSIONS.get(name) ?? { type: 'basic', name, attributes: {} };
}

type Resource = Record<string, any>;

/** Rule implementations for conditions of each resource type. */
const RULES: Record<string, (resource: Resource, params: any) => boolean> = {
  ...Object.fromEntries(
    Object.values(permissionRules).map(rule => [
      rule.name,
      (resource: Resource, params: any) =>
        rule.apply(resource as Entity, params),
    ]),
  ),
  // The scaffolder's rules are not exported; these follow
  // plugin-scaffolder-backend's service/rules for the inputs used here.
  HAS_TAG: (r, { tag }) =>
    r['backstage:permissions']?.tags?.includes(tag) ?? false,
  HAS_ACTION_ID: (r, { actionId }) => r.action === actionId,
  HAS_STRING_PROPERTY: (r, { key, value }) => {
    const found = String(key)
      .split('.')
      .reduce<any>(
        (o, k) => (o === null || o === undefined ? o : o[k]),
        r.input,
      );
    return (
      typeof found === 'string' && (value === undefined || found === value)
    );
  },
  IS_TASK_OWNER: (r, { createdBy }) =>
    Boolean(r.createdBy) && createdBy.includes(r.createdBy),
};

function matches(
  criteria: PermissionCriteria<PermissionCondition<string>>,
  resource: Resource,
): boolean {
  if (isAndCriteria(criteria)) {
    return criteria.allOf.every(c => matches(c, resource));
  }
  if (isOrCriteria(criteria)) {
    return criteria.anyOf.some(c => matches(c, resource));
  }
  if (isNotCriteria(criteria)) {
    return !matches(criteria.not, resource);
  }
  const rule = RULES[criteria.rule];
  if (!rule) {
    throw new Error(`The runner cannot evaluate rule ${criteria.rule}`);
  }
  return rule(resource, criteria.params ?? {});
}

function outcome(decision: PolicyDecision, resource?: Resource): boolean {
  if (decision.result === AuthorizeResult.CONDITIONAL) {
    // Without a resource, the plugin cannot apply the conditions: refused.
    return resource ? matches(decision.conditions, resource) : false;
  }
  return decision.result === AuthorizeResult.ALLOW;
}

const silentLogger: LoggerService = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  child: () => silentLogger,
};

/** What a case file holds. */
interface CaseFile {
  organisation?: 'seeded';
  catalog?: string[];
  config?: object;
  cases: unknown[];
}

const CASE_FILE_KEYS = ['organisation', 'catalog', 'config', 'cases'];

function readCaseFile(file: string): CaseFile {
  const data = parse(fs.readFileSync(file, 'utf8'));
  if (!data || typeof data !== 'object' || !Array.isArray(data.cases)) {
    throw new MalformedCaseError(
      `${file}: expected a map with a "cases" list (and optionally organisation: seeded, catalog: [files], config: {...})`,
    );
  }
  for (const key of Object.keys(data)) {
    if (!CASE_FILE_KEYS.includes(key)) {
      throw new MalformedCaseError(
        `${file}: unknown key "${key}"; expected ${CASE_FILE_KEYS.join(', ')}`,
      );
    }
  }
  if (data.organisation !== undefined && data.organisation !== 'seeded') {
    throw new MalformedCaseError(
      `${file}: organisation must be "seeded" (the Entra emulator's seed) or left out`,
    );
  }
  return data;
}

class CaseEvaluator {
  readonly #policy: OwnershipPolicy;
  readonly #ownership = new Map<string, BackstageUserInfo>();

  constructor(
    private readonly config: OwnershipPolicyConfig,
    private readonly fixture: CatalogFixture,
  ) {
    const identities: CurrentIdentityLookup = {
      currentOwnershipRefs: async userEntityRef =>
        this.#ownership.get(userEntityRef)!.ownershipEntityRefs,
    };
    this.#policy = new OwnershipPolicy({
      config,
      identities,
      ownedEntities: fixture,
      logger: silentLogger,
    });
  }

  async #user(who: string, where: string, text: string) {
    if (who === 'anonymous') return undefined;
    const entity = this.#entity(who, 'user', where, text);
    const userEntityRef = stringifyEntityRef(entity);
    if (!this.#ownership.has(userEntityRef)) {
      this.#ownership.set(userEntityRef, {
        userEntityRef,
        ownershipEntityRefs: await this.fixture.ownershipEntityRefs(entity),
      });
    }
    const credentials = {
      $$type: '@backstage/BackstageCredentials',
      principal: { type: 'user', userEntityRef },
    } as BackstageCredentials;
    return { credentials, info: this.#ownership.get(userEntityRef)! };
  }

  #entity(ref: string, defaultKind: string, where: string, text: string) {
    let entity: Entity | undefined;
    try {
      entity = this.fixture.get(
        stringifyEntityRef(parseEntityRef(ref, { defaultKind })),
      );
    } catch {
      entity = undefined;
    }
    if (!entity) {
      throw new MalformedCaseError(
        `${where}: case ${JSON.stringify(
          text,
        )} names ${ref}, which is not in the case file's catalog`,
      );
    }
    return entity;
  }

  async #decide(
    permission: Permission,
    user: PolicyQueryUser | undefined,
    resource?: Resource,
  ): Promise<boolean> {
    return outcome(await this.#policy.handle({ permission }, user), resource);
  }

  async evaluate(c: PolicyCase, where: string): Promise<CaseResult> {
    const user = await this.#user(c.who, where, c.text);
    const { allowed, detail } = await this.#evaluateAction(
      c.action,
      user,
      where,
      c.text,
    );
    const actual = allowed ? 'allow' : 'deny';
    return { case: c, actual, passed: actual === c.expected, detail };
  }

  async #evaluateAction(
    action: CaseAction,
    user: PolicyQueryUser | undefined,
    where: string,
    text: string,
  ): Promise<{ allowed: boolean; detail?: string }> {
    switch (action.kind) {
      case 'entity':
        return {
          allowed: await this.#decide(
            permissionNamed(action.permission),
            user,
            this.#entity(action.entityRef, 'component', where, text),
          ),
        };
      case 'basic':
        return {
          allowed: await this.#decide(permissionNamed(action.permission), user),
        };
      case 'run': {
        const template = this.#entity(
          action.templateRef,
          'template',
          where,
          text,
        );
        const readable = await this.#decide(
          permissionNamed('catalog.entity.read'),
          user,
          template,
        );
        if (!readable) {
          return { allowed: false, detail: 'the template is hidden from them' };
        }
        if (
          !(await this.#decide(permissionNamed('scaffolder.task.create'), user))
        ) {
          return { allowed: false, detail: 'scaffolder.task.create refused' };
        }
        // Asked by the template-run-guard module before the task is created.
        const runnable = await this.#decide(
          templateRunPermission,
          user,
          template,
        );
        return runnable
          ? { allowed: true }
          : { allowed: false, detail: `${templateRunPermission.name} refused` };
      }
      case 'tagged':
        return {
          allowed: await this.#decide(
            permissionNamed(action.permission),
            user,
            {
              'backstage:permissions': { tags: [action.tag] },
            },
          ),
        };
      case 'deploy': {
        const deploy = this.config.scaffolder.deploy;
        if (!deploy) {
          throw new MalformedCaseError(
            `${where}: case ${JSON.stringify(
              text,
            )} deploys, but permission.ownershipPolicy.scaffolder.deploy is not configured`,
          );
        }
        const input = {
          [deploy.environmentInput]: action.environment,
          [deploy.targetInput]: stringifyEntityRef(
            parseEntityRef(action.entityRef),
          ),
        };
        for (const actionId of deploy.actions) {
          const allowed = await this.#decide(
            permissionNamed('scaffolder.action.execute'),
            user,
            { action: actionId, input },
          );
          if (!allowed) {
            return { allowed, detail: `${actionId} refused` };
          }
        }
        return { allowed: true };
      }
      case 'task': {
        const creator = this.#entity(action.createdBy, 'user', where, text);
        return {
          allowed: await this.#decide(
            permissionNamed(action.permission),
            user,
            {
              createdBy: stringifyEntityRef(creator),
            },
          ),
        };
      }
      default: {
        const permission = permissionNamed(action.permission);
        const resource =
          action.resourceRef &&
          isResourcePermission(permission, RESOURCE_TYPE_CATALOG_ENTITY)
            ? this.#entity(action.resourceRef, 'component', where, text)
            : undefined;
        return { allowed: await this.#decide(permission, user, resource) };
      }
    }
  }
}

/**
 * Evaluates the cases of one file against the policy configured by
 * `appConfig` (plus the file's own `config` overlay), with the catalog the
 * file describes. Throws MalformedCaseError for a case it cannot read.
 */
export async function runPolicyTestFile(
  file: string,
  appConfigs: Array<{ data: object; context: string }>,
): Promise<CaseResult[]> {
  const caseFile = readCaseFile(file);
  const config: Config = ConfigReader.fromConfigs([
    ...appConfigs,
    ...(caseFile.config ? [{ data: caseFile.config, context: file }] : []),
  ]);
  const policyConfig = readOwnershipPolicyConfig(config);
  const entities = [
    ...(caseFile.organisation === 'seeded' ? seededOrgEntities() : []),
    ...(caseFile.catalog ?? []).flatMap(f =>
      readEntityFile(path.resolve(path.dirname(file), f)),
    ),
  ];
  const fixture = new CatalogFixture(entities);
  const evaluator = new CaseEvaluator(policyConfig, fixture);
  // Every malformed case is reported at once, before anything runs.
  const problems: string[] = [];
  const cases = caseFile.cases.flatMap((entry, i) => {
    try {
      return [parseCase(entry, `${file}: cases[${i}]`)];
    } catch (e) {
      if (!(e instanceof MalformedCaseError)) throw e;
      problems.push(e.message);
      return [];
    }
  });
  if (problems.length > 0) {
    throw new MalformedCaseError(problems.join('\n'));
  }
  const results: CaseResult[] = [];
  for (const [i, c] of cases.entries()) {
    results.push(await evaluator.evaluate(c, `${file}: cases[${i}]`));
  }
  return results;
}
