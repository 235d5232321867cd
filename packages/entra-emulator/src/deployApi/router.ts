import express, { Request, Response, Router } from 'express';
import { EmulatorContext } from '../context';
import { SeedApp } from '../types';
import { BearerError, verifyBearer } from '../oidc/bearer';

/** The scope a token must carry to call the deploy API. */
export const DEPLOY_SCOPE = 'deploy';

/**
 * A sample downstream API: it accepts only delegated tokens issued for it
 * (aud = its client id or api:// URI) with the `deploy` scope, and records
 * who called it so tests can assert the deploy carried the person's identity.
 */
export function createDeployApiRouter(
  ctx: EmulatorContext,
  app: SeedApp,
): Router {
  const router = Router();
  router.use(express.json({ limit: '1mb' }));
  router.all('*', (req: Request, res: Response) => {
    let claims;
    try {
      claims = verifyBearer(ctx, req, [app.clientId, `api://${app.clientId}`]);
    } catch (e) {
      if (!(e instanceof BearerError)) throw e;
      res
        .status(401)
        .set(
          'WWW-Authenticate',
          `Bearer error="invalid_token", error_description="${e.message}"`,
        )
        .json({
          error: { code: 'InvalidAuthenticationToken', message: e.message },
        });
      return;
    }
    const scopes = String(claims.scp ?? '')
      .split(' ')
      .filter(Boolean);
    if (!claims.scp || !scopes.includes(DEPLOY_SCOPE)) {
      res
        .status(403)
        .set(
          'WWW-Authenticate',
          `Bearer error="insufficient_scope", scope="api://${app.clientId}/${DEPLOY_SCOPE}"`,
        )
        .json({
          error: {
            code: 'Forbidden',
            message: `A delegated token with the '${DEPLOY_SCOPE}' scope is required; app-only tokens are refused.`,
          },
        });
      return;
    }
    const call = {
      oid: String(claims.oid),
      tid: String(claims.tid),
      name: claims.name as string | undefined,
      preferredUsername: claims.preferred_username as string | undefined,
      clientId: claims.azp as string | undefined,
      // The portal names the AI agent a person let deploy as them.
      ...(req.get('x-portal-agent-client') && {
        agentClientId: req.get('x-portal-agent-client'),
      }),
      scopes,
      time: new Date().toISOString(),
      method: req.method,
      path: req.path,
      payload: req.body ?? null,
    };
    ctx.deployCalls.push(call);
    const id = `deploy-${ctx.deployCalls.length}`;
    res.status(202).json({
      id,
      status: 'accepted',
      link: `${ctx.urls.httpsUrl}/deploy-api/deployments/${id}`,
      requestedBy: { oid: call.oid, name: call.name },
    });
  });
  return router;
}
