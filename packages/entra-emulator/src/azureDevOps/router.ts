import express, { Request, Response, Router } from 'express';
import { EmulatorContext } from '../context';
import { PipelineRun, SeedApp } from '../types';
import { BearerError, verifyBearer } from '../oidc/bearer';
import { JwtClaims } from '../oidc/jwt';

/** The delegated scope Azure DevOps' REST API takes from people. */
export const AZURE_DEVOPS_SCOPE = 'user_impersonation';

/** Azure DevOps' error body: a serialised .NET exception. */
function devOpsError(
  res: Response,
  status: number,
  typeKey: string,
  message: string,
) {
  res.status(status).json({
    $id: '1',
    innerException: null,
    message,
    typeName: `Microsoft.TeamFoundation.Framework.Server.${typeKey}, Microsoft.TeamFoundation.Framework.Server`,
    typeKey,
    errorCode: 0,
    eventId: 3000,
  });
}

/**
 * The part of Azure DevOps' Pipelines REST API (7.1) a portal needs to run a
 * pipeline as a person: `POST|GET {org}/{project}/_apis/pipelines/{id}/runs`
 * and `GET …/runs/{runId}`. It accepts only delegated tokens for Azure DevOps
 * and records who ran what, so tests can assert the run carried the person.
 * A run is `inProgress` when created and `completed`/`succeeded` from the
 * first read after that, which is enough for a caller that waits.
 */
export function createAzureDevOpsRouter(
  ctx: EmulatorContext,
  app: SeedApp,
): Router {
  const router = Router();
  router.use(express.json({ limit: '1mb' }));

  const authenticate = (req: Request, res: Response): JwtClaims | undefined => {
    let claims: JwtClaims;
    try {
      claims = verifyBearer(ctx, req, [app.clientId]);
    } catch (e) {
      if (!(e instanceof BearerError)) throw e;
      res.set(
        'WWW-Authenticate',
        `Bearer authorization_uri=${ctx.urls.httpsUrl}/${ctx.directory.tenantId}`,
      );
      devOpsError(
        res,
        401,
        'UnauthorizedRequestException',
        "TF400813: The user '' is not authorized to access this resource.",
      );
      return undefined;
    }
    const scopes = String(claims.scp ?? '').split(' ');
    if (!claims.scp || !scopes.includes(AZURE_DEVOPS_SCOPE)) {
      devOpsError(
        res,
        403,
        'UnauthorizedRequestException',
        `The token does not carry the '${AZURE_DEVOPS_SCOPE}' scope: Azure DevOps runs pipelines only for a signed-in person (app-only tokens are refused).`,
      );
      return undefined;
    }
    return claims;
  };

  const base = (req: Request) =>
    `${ctx.urls.httpsUrl}/azure-devops/${req.params.org}/${req.params.project}`;
  const represent = (req: Request, run: PipelineRun) => {
    const pipelineUrl = `${base(req)}/_apis/pipelines/${run.pipelineId}`;
    return {
      _links: {
        self: { href: `${pipelineUrl}/runs/${run.id}` },
        web: {
          href: `${base(req)}/_build/results?buildId=${run.id}`,
        },
        'pipeline.web': {
          href: `${base(req)}/_build/definition?definitionId=${run.pipelineId}`,
        },
        pipeline: { href: `${pipelineUrl}?revision=1` },
      },
      pipeline: {
        url: `${pipelineUrl}?revision=1`,
        id: run.pipelineId,
        revision: 1,
        name: `pipeline-${run.pipelineId}`,
        folder: '\\',
      },
      state: run.state,
      ...(run.result ? { result: run.result } : {}),
      createdDate: run.createdDate,
      ...(run.finishedDate ? { finishedDate: run.finishedDate } : {}),
      url: `${pipelineUrl}/runs/${run.id}`,
      id: run.id,
      name: `${run.createdDate.slice(0, 10).replace(/-/g, '')}.${run.id}`,
    };
  };
  const find = (req: Request) =>
    ctx.pipelineRuns.find(
      r =>
        r.organization === req.params.org &&
        r.project === req.params.project &&
        r.pipelineId === Number(req.params.pipelineId) &&
        r.id === Number(req.params.runId),
    );

  const runs = '/:org/:project/_apis/pipelines/:pipelineId(\\d+)/runs';
  router.post(runs, (req, res) => {
    const claims = authenticate(req, res);
    if (!claims) return;
    const run: PipelineRun = {
      id: ctx.pipelineRuns.length + 1,
      organization: req.params.org,
      project: req.params.project,
      pipelineId: Number(req.params.pipelineId),
      requestedBy: {
        oid: String(claims.oid),
        tid: String(claims.tid),
        name: claims.name as string | undefined,
      },
      clientId: claims.azp as string | undefined,
      request: req.body ?? null,
      state: 'inProgress',
      createdDate: new Date().toISOString(),
    };
    ctx.pipelineRuns.push(run);
    res.status(200).json(represent(req, run));
  });
  router.get(`${runs}/:runId(\\d+)`, (req, res) => {
    if (!authenticate(req, res)) return;
    const run = find(req);
    if (!run) {
      devOpsError(
        res,
        404,
        'PipelineRunNotFoundException',
        `Pipeline run ${req.params.runId} not found in pipeline ${req.params.pipelineId}.`,
      );
      return;
    }
    if (run.state === 'inProgress') {
      run.state = 'completed';
      run.result = 'succeeded';
      run.finishedDate = new Date().toISOString();
    }
    res.json(represent(req, run));
  });
  router.use((_req, res) => {
    devOpsError(
      res,
      404,
      'RouteNotFoundException',
      'The emulator serves only _apis/pipelines/{id}/runs of Azure DevOps.',
    );
  });
  return router;
}
