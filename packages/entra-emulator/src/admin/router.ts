import express, { Response, Router } from 'express';
import { EmulatorContext } from '../context';
import { createCredentialsRouter } from './credentialsRouter';

/**
 * Test and operator controls under `/_emulator`: faults can be switched at
 * runtime, accounts disabled and re-enabled, and the deploy API's record read
 * or reset, and the Graph and token requests received counted from another
 * process.
 */
export function createAdminRouter(ctx: EmulatorContext): Router {
  const router = Router();
  router.use(express.json());
  router.get('/faults', (_req, res) => {
    res.json({ faults: ctx.faults.list() });
  });
  router.post('/faults', (req, res) => {
    const rules = Array.isArray(req.body) ? req.body : req.body?.faults;
    try {
      ctx.faults.set(Array.isArray(rules) ? rules : []);
      res.json({ faults: ctx.faults.list() });
    } catch (e) {
      res
        .status(400)
        .json({ error: { code: 'BadRequest', message: (e as Error).message } });
    }
  });
  router.delete('/faults', (_req, res) => {
    ctx.faults.clear();
    res.status(204).end();
  });
  // Shaped like Graph's `PATCH /users/{id}`, the call an Entra admin's tooling
  // makes to disable an account; only `accountEnabled` may change here.
  router.patch('/users/:user', (req, res) => {
    const accountEnabled = readAccountEnabled(req.body, res);
    if (accountEnabled === undefined) return;
    const user = ctx.directory.findAccount(req.params.user)?.user;
    if (!user) {
      notFound(res, req.params.user);
      return;
    }
    ctx.directory.setAccountEnabled(user.id, accountEnabled);
    res.json({ id: user.id, accountEnabled });
  });
  // The same for a seeded service principal (object id, app id or seed key),
  // like Graph's `PATCH /servicePrincipals/{id}`.
  router.patch('/servicePrincipals/:sp', (req, res) => {
    const accountEnabled = readAccountEnabled(req.body, res);
    if (accountEnabled === undefined) return;
    const app = ctx.directory.findServicePrincipal(req.params.sp);
    if (!app) {
      notFound(res, req.params.sp);
      return;
    }
    ctx.directory.setServicePrincipalEnabled(
      app.servicePrincipal!.id,
      accountEnabled,
    );
    res.json({
      id: app.servicePrincipal!.id,
      appId: app.clientId,
      accountEnabled,
    });
  });
  router.get('/deploy-calls', (_req, res) => {
    res.json({ calls: ctx.deployCalls });
  });
  router.delete('/deploy-calls', (_req, res) => {
    ctx.deployCalls.length = 0;
    res.status(204).end();
  });
  router.get('/graph-requests', (_req, res) => {
    res.json({ requests: ctx.graphRequests });
  });
  router.delete('/graph-requests', (_req, res) => {
    ctx.graphRequests.length = 0;
    res.status(204).end();
  });
  router.get('/token-requests', (_req, res) => {
    res.json({ requests: ctx.tokenRequests });
  });
  router.use(createCredentialsRouter(ctx));
  router.get('/pipeline-runs', (_req, res) => {
    res.json({ runs: ctx.pipelineRuns });
  });
  return router;
}

/** The body's `accountEnabled`, or undefined after answering 400. */
function readAccountEnabled(body: any, res: Response): boolean | undefined {
  const keys = Object.keys(body ?? {});
  if (
    typeof body?.accountEnabled !== 'boolean' ||
    keys.some(k => k !== 'accountEnabled')
  ) {
    res.status(400).json({
      error: {
        code: 'BadRequest',
        message:
          'Send {"accountEnabled": true|false}; no other property can be changed here.',
      },
    });
    return undefined;
  }
  return body.accountEnabled;
}

function notFound(res: Response, id: string) {
  res.status(404).json({
    error: {
      code: 'Request_ResourceNotFound',
      message: `Resource '${id}' does not exist.`,
    },
  });
}
