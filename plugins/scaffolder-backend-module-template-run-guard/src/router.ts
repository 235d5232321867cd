import {
  AuditorService,
  AuthService,
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  CompoundEntityRef,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  InputError,
  isError,
  NotAllowedError,
  NotFoundError,
  ResponseError,
} from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { ScaffolderService } from '@backstage/plugin-scaffolder-node';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import { templateRunPermission } from './permissions';

/**
 * The scaffolder parses JSON with this limit (generous for dry-run uploads).
 * This router parses the bodies of the routes it guards first, and the
 * scaffolder's parser then skips them, so the limit must be the same or a
 * request the scaffolder accepts would be refused here.
 */
const SCAFFOLDER_JSON_LIMIT = '10MB';

/** The scaffolder's action that runs a template (plugin id `:` name). */
const EXECUTE_TEMPLATE_ACTION = 'scaffolder:execute-template';

/**
 * Routes mounted on the scaffolder's router ahead of the scaffolder's own:
 * for each request that runs a template, asks the permission policy about
 * `scaffolder.template.run` on that template, answers 403 with the reason
 * when refused, and otherwise hands the request on to the scaffolder.
 *
 * Guarded: `POST /v2/tasks` (the template in `templateRef`, read exactly as
 * the scaffolder reads it) and `POST /v2/tasks/:taskId/retry` (the template
 * the task was created from: a retry runs it again as the person retrying).
 * Not guarded: `POST /v2/dry-run`, which runs a template sent in the request
 * rather than a catalog template, so there is no template entity to ask
 * about; the policy gates it with `scaffolder.template.dry-run`.
 *
 * Also guarded: invoking the scaffolder's `execute-template` action (what
 * the MCP `execute-template` tool calls). That action creates the task
 * through `POST /v2/tasks`, where a refusal would be asked again, but the
 * scaffolder client it uses turns any refusal into a plain error and the
 * MCP client gets a bare 500. Refused here, the refusal is the action's
 * own answer: a `NotAllowedError` (or `NotFoundError`) that the actions
 * service and the MCP plugin pass on as the tool's error text.
 */
export function createTemplateRunGuardRouter(options: {
  auth: AuthService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  scaffolder: ScaffolderService;
  auditor: AuditorService;
  /** The 403 message for a template someone may not run. */
  refusalReason: (templateRef: string) => string;
}): express.Router {
  const { auth, httpAuth, permissions, catalog, scaffolder, auditor } = options;
  const router = Router();
  // Only on the guarded routes: a router-wide parser would parse (and limit)
  // every scaffolder request.
  const json = express.json({ limit: SCAFFOLDER_JSON_LIMIT });

  async function authorizeRun(
    req: Request,
    credentials: BackstageCredentials,
    ref: CompoundEntityRef,
  ) {
    // The scaffolder refuses anything but a Template itself.
    if (ref.kind.toLocaleLowerCase('en-US') !== 'template') {
      return;
    }
    const templateRef = stringifyEntityRef(ref);
    const [decision] = await permissions.authorize(
      [{ permission: templateRunPermission, resourceRef: templateRef }],
      { credentials },
    );
    if (decision.result === AuthorizeResult.ALLOW) {
      return;
    }
    // A template the person may not read (or that does not exist) gets the
    // scaffolder's own 404, so a refusal never confirms that it exists.
    if (
      auth.isPrincipal(credentials, 'user') &&
      !(await catalog.getEntityByRef(templateRef, { credentials }))
    ) {
      throw new NotFoundError(`Template ${templateRef} not found`);
    }
    const error = new NotAllowedError(options.refusalReason(templateRef));
    const event = await auditor.createEvent({
      eventId: 'template-run',
      severityLevel: 'medium',
      request: req,
      meta: { templateRef },
    });
    await event.fail({ error });
    throw error;
  }

  router.post('/v2/tasks', json, async (req, _res, next) => {
    const credentials = await httpAuth.credentials(req);
    let ref: CompoundEntityRef;
    try {
      ref = parseEntityRef(req.body?.templateRef, { defaultKind: 'template' });
    } catch (e) {
      throw new InputError(
        `Send the template to run as "templateRef": "template:<namespace>/<name>" (${
          isError(e) ? e.message : e
        })`,
      );
    }
    await authorizeRun(req, credentials, ref);
    next();
  });

  router.post('/v2/tasks/:taskId/retry', json, async (req, _res, next) => {
    const credentials = await httpAuth.credentials(req);
    let templateRef: string | undefined;
    try {
      const task = await scaffolder.getTask(
        { taskId: req.params.taskId },
        { credentials },
      );
      templateRef = task.spec.templateInfo?.entityRef;
    } catch (e) {
      // The scaffolder checks the same read permission on retry and
      // answers these itself.
      if (!ResponseError.is(e) || ![403, 404].includes(e.statusCode)) {
        throw e;
      }
    }
    if (templateRef) {
      await authorizeRun(req, credentials, parseEntityRef(templateRef));
    }
    next();
  });

  // The actions registry parses these bodies with express.json's default
  // limit; the same parser here, so both accept the same requests (and the
  // registry's parser then skips them).
  router.post(
    '/.backstage/actions/:version/actions/:actionId/invoke',
    express.json(),
    async (req, _res, next) => {
      if (req.params.actionId === EXECUTE_TEMPLATE_ACTION) {
        await authorizeExecuteTemplate(req);
      }
      next();
    },
  );

  async function authorizeExecuteTemplate(req: Request) {
    const credentials = await httpAuth.credentials(req);
    // v1 sends the input as the body, v2 as `input` beside `secrets`.
    const input = req.params.version === 'v2' ? req.body?.input : req.body;
    const raw = input?.templateRef;
    if (typeof raw !== 'string') {
      // The registry checks the input against the action's schema and
      // answers with an InputError.
      return;
    }
    let ref: CompoundEntityRef;
    try {
      ref = parseEntityRef(raw, { defaultKind: 'template' });
    } catch (e) {
      throw new InputError(
        `Send the template to run as "templateRef": "template:<namespace>/<name>" (${
          isError(e) ? e.message : e
        })`,
      );
    }
    await authorizeRun(req, credentials, ref);
    // Allowed, but the scaffolder's own 404 would also reach the tool as a
    // plain error: answer a template the person cannot read here too.
    if (
      auth.isPrincipal(credentials, 'user') &&
      !(await catalog.getEntityByRef(ref, { credentials }))
    ) {
      throw new NotFoundError(`Template ${stringifyEntityRef(ref)} not found`);
    }
  }

  return router;
}
