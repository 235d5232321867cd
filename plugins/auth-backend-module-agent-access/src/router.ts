import {
  AuthService,
  HttpAuthService,
  LoggerService,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import express from 'express';
import Router from 'express-promise-router';
import { DelegationHandle, HANDLE_LIFETIME_MS } from './delegationRouter';
import { AgentGrant, AgentGrantStore } from './grants';

/** What the person sees of a grant (My access). */
const view = (g: AgentGrant) => ({
  id: g.id,
  clientId: g.clientId,
  clientName: g.clientName,
  scope: g.scope,
  createdAt: g.createdAt,
  expiresAt: g.expiresAt,
  lastUsedAt: g.lastUsedAt,
});

/**
 * `/agent-access/v1` under the auth plugin. The auth plugin lets every
 * request through unauthenticated, so each route names who may call it.
 */
export function createAgentAccessRouter(options: {
  grants: AgentGrantStore;
  httpAuth: HttpAuthService;
  auth: AuthService;
  userInfo: UserInfoService;
  logger: LoggerService;
  /** Groups whose members may revoke anyone's grant. */
  adminGroups: string[];
  /** Signs deploy handles; absent when delegation is off. */
  signHandle?: (handle: DelegationHandle) => string;
}) {
  const { grants, httpAuth, auth, userInfo, logger, adminGroups } = options;
  const router = Router();
  router.use('/agent-access/v1', express.json());

  router.get('/agent-access/v1/grants', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const items = await grants.listLive(credentials.principal.userEntityRef);
    res.json({ items: items.map(view) });
  });

  router.delete('/agent-access/v1/grants/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const me = credentials.principal.userEntityRef;
    const grant = await grants.get(req.params.id);
    const mine = grant?.userEntityRef === me;
    if (!grant || (!mine && !(await isAdmin()))) {
      // Someone else's grant is as absent as a missing one.
      throw new NotFoundError(`No agent access grant ${req.params.id}`);
    }
    await grants.revoke(grant.id, me);
    logger.info(
      `Agent access revoked: ${grant.userEntityRef} from ${grant.clientId} (grant ${grant.id}) by ${me}`,
    );
    res.status(204).end();

    async function isAdmin() {
      const { ownershipEntityRefs } = await userInfo.getUserInfo(credentials);
      return ownershipEntityRefs.some(ref => adminGroups.includes(ref));
    }
  });

  // The MCP guard asks on every call, so a revoked grant fails the next one.
  router.post('/agent-access/v1/introspect', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['service'] });
    if (credentials.principal.subject !== 'plugin:mcp-actions') {
      throw new NotAllowedError(
        'Only the MCP actions plugin may introspect agent tokens',
      );
    }
    const token = req.body?.token;
    if (typeof token !== 'string' || !token) {
      throw new InputError('Send { "token": "<access token>" }');
    }
    const grant = await grants.findByToken(token);
    if (!grant) {
      res.json({ active: false });
      return;
    }
    // The grant is live; the token must also still be upstream's and valid.
    const caller = await auth.authenticate(token).catch(() => undefined);
    if (
      !caller ||
      !auth.isPrincipal(caller, 'user') ||
      caller.principal.userEntityRef !== grant.userEntityRef
    ) {
      res.json({ active: false });
      return;
    }
    res.json({
      active: true,
      grantId: grant.id,
      clientId: grant.clientId,
      clientName: grant.clientName,
      userEntityRef: grant.userEntityRef,
      // Checked again when the deploy asks for a token: only lets the
      // deploy name this grant, never grants anything by itself.
      ...(options.signHandle && {
        delegationHandle: options.signHandle({
          g: grant.id,
          u: grant.userEntityRef,
          c: grant.clientId,
          exp: Date.now() + HANDLE_LIFETIME_MS,
        }),
      }),
    });
  });

  return router;
}
