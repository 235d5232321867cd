import {
  AuditorService,
  AuthService,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { Entity, parseEntityRef } from '@backstage/catalog-model';
import { Config } from '@backstage/config';
import { NotAllowedError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  PermissionCriteria,
  PermissionCondition,
} from '@backstage/plugin-permission-common';
import { actionExecutePermission } from '@backstage/plugin-scaffolder-common/alpha';
import express from 'express';
import Router from 'express-promise-router';
import { auditDeploy } from './audit';

/** Where the ownership policy lists who may deploy where. */
export const DEPLOY_POLICY_KEY = 'permission.ownershipPolicy.scaffolder.deploy';

/** The scaffolder's JSON limit, so both parsers accept the same requests. */
const SCAFFOLDER_JSON_LIMIT = '10MB';

interface DeployRules {
  actions: string[];
  environmentInput: string;
  targetInput: string;
  /** Groups per environment; undefined: the deployed component's owners. */
  environments: Map<string, string[] | undefined>;
}

/**
 * Reads the policy's deploy rules for wording refusals. The policy module
 * validates them at startup and names the key; anything unreadable here
 * only means no early refusal.
 */
function readDeployRules(config: Config): DeployRules | undefined {
  try {
    const deploy = config.getOptionalConfig(DEPLOY_POLICY_KEY);
    if (!deploy) return undefined;
    return {
      actions: deploy.getStringArray('actions'),
      environmentInput:
        deploy.getOptionalString('environmentInput') ?? 'environment',
      targetInput: deploy.getOptionalString('targetInput') ?? 'component',
      environments: new Map(
        deploy
          .getConfigArray('environments')
          .map(e => [e.getString('name'), e.getOptionalStringArray('groups')]),
      ),
    };
  } catch {
    return undefined;
  }
}

/** A step input as the task will see it, when it can be known beforehand. */
function resolveInput(
  value: unknown,
  parameters: Record<string, unknown>,
): string | undefined {
  if (typeof value !== 'string') return undefined;
  const expression = /^\$\{\{\s*parameters\.([A-Za-z0-9_]+)\s*\}\}$/.exec(
    value.trim(),
  );
  if (!expression) return value.includes('${{') ? undefined : value;
  const resolved = parameters[expression[1]];
  return typeof resolved === 'string' ? resolved : undefined;
}

type Criteria = PermissionCriteria<PermissionCondition<'scaffolder-action'>>;

/**
 * The scaffolder's action rules applied to one step, as its
 * `scaffolder.action.execute` check will apply them. `undefined` when the
 * decision uses a rule this does not know: then the scaffolder decides.
 */
function evaluate(
  criteria: Criteria,
  step: { action: string; input: Record<string, string> },
): boolean | undefined {
  if ('allOf' in criteria) {
    const results = criteria.allOf.map(c => evaluate(c, step));
    if (results.includes(false)) return false;
    return results.includes(undefined) ? undefined : true;
  }
  if ('anyOf' in criteria) {
    const results = criteria.anyOf.map(c => evaluate(c, step));
    if (results.includes(true)) return true;
    return results.includes(undefined) ? undefined : false;
  }
  if ('not' in criteria) {
    const result = evaluate(criteria.not, step);
    return result === undefined ? undefined : !result;
  }
  const params = (criteria.params ?? {}) as Record<string, unknown>;
  if (criteria.rule === 'HAS_ACTION_ID') return step.action === params.actionId;
  if (criteria.rule === 'HAS_STRING_PROPERTY') {
    const key = String(params.key);
    if (!(key in step.input)) return undefined;
    return params.value === undefined || step.input[key] === params.value;
  }
  return undefined;
}

/**
 * Refuses at task creation (403, naming who may deploy there) a deploy the
 * policy will refuse when the step runs. The scaffolder checks
 * `scaffolder.action.execute` only once the task runs, and then fails it
 * with a bare "Unauthorized action"; the person deserves the reason before a
 * task exists. This is wording, not enforcement: whatever it cannot work out
 * beforehand (inputs built from expressions, unknown rules) it leaves to the
 * scaffolder's check, which still runs before any token exchange.
 */
export function createDeployPreflightRouter(options: {
  config: Config;
  auth: AuthService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  auditor: AuditorService;
}): express.Router {
  const { auth, httpAuth, permissions, catalog, auditor } = options;
  const rules = readDeployRules(options.config);
  const router = Router();
  if (!rules) return router;

  router.post(
    '/v2/tasks',
    express.json({ limit: SCAFFOLDER_JSON_LIMIT }),
    async (req, _res, next) => {
      const credentials = await httpAuth.credentials(req);
      if (!auth.isPrincipal(credentials, 'user')) return next();
      let template: Entity | undefined;
      try {
        template = await catalog.getEntityByRef(
          parseEntityRef(String(req.body?.templateRef), {
            defaultKind: 'template',
          }),
          { credentials },
        );
      } catch {
        template = undefined;
      }
      const steps = (template?.spec?.steps ?? []) as Array<{
        action?: string;
        input?: Record<string, unknown>;
      }>;
      const parameters = (req.body?.values ?? {}) as Record<string, unknown>;
      const deploys = steps
        .filter(s => s.action && rules.actions.includes(s.action))
        .map(s => ({
          action: s.action!,
          environment: resolveInput(
            s.input?.[rules.environmentInput],
            parameters,
          ),
          component: resolveInput(s.input?.[rules.targetInput], parameters),
        }))
        .filter(d => d.environment !== undefined && d.component !== undefined);
      if (!template || deploys.length === 0) return next();

      const [decision] = await permissions.authorizeConditional(
        [{ permission: actionExecutePermission }],
        { credentials },
      );
      for (const deploy of deploys) {
        const input = {
          [rules.environmentInput]: deploy.environment!,
          [rules.targetInput]: deploy.component!,
        };
        const allowed =
          decision.result === AuthorizeResult.CONDITIONAL
            ? evaluate(decision.conditions as Criteria, {
                action: deploy.action,
                input,
              })
            : decision.result === AuthorizeResult.ALLOW;
        if (allowed === false) {
          const error = new NotAllowedError(
            refusal(rules, deploy.environment!, deploy.component!),
          );
          await auditDeploy(
            auditor,
            {
              action: deploy.action,
              initiator: {
                entityRef: credentials.principal.userEntityRef,
                oid: null,
                tid: null,
              },
              template: `template:${template.metadata.namespace ?? 'default'}/${
                template.metadata.name
              }`,
              component: deploy.component!,
              taskId: null,
              environment: deploy.environment!,
              target: null,
              deploymentId: null,
              outcome: 'failed',
            },
            error,
          );
          throw error;
        }
      }
      return next();
    },
  );
  return router;
}

function refusal(rules: DeployRules, environment: string, component: string) {
  if (!rules.environments.has(environment)) {
    return `You may not deploy to ${environment}: it is not a deploy environment of the portal's policy (${DEPLOY_POLICY_KEY}.environments lists ${[
      ...rules.environments.keys(),
    ].join(', ')})`;
  }
  const groups = rules.environments.get(environment);
  if (groups?.length) {
    return `You may not deploy to ${environment}: only members of ${groups.join(
      ', ',
    )} (and portal admins) can deploy there`;
  }
  return `You may not deploy ${component} to ${environment}: only the owners of ${component} (and portal admins) can deploy there`;
}
