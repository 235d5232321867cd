import { LoggerService } from '@backstage/backend-plugin-api';
import express, { Request, Response, NextFunction } from 'express';
import Router from 'express-promise-router';
import { Knex } from 'knex';
import { AgentGrantStore } from './grants';

/** OAuth's error body, as upstream's token endpoint answers. */
const invalidGrant = (res: Response, description: string) =>
  res
    .status(400)
    .json({ error: 'invalid_grant', error_description: description });

/** The `exp` of a JWT upstream just issued (not verified: it is our own). */
function expiryOf(jwt: string): Date {
  const payload = JSON.parse(
    Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString() || '{}',
  );
  return new Date(
    typeof payload.exp === 'number'
      ? payload.exp * 1000
      : Date.now() + 3600_000,
  );
}

/**
 * Runs `bind` with the body upstream is about to send on 200, then sends
 * it; if binding fails the client gets a 500 and no token, so no token
 * leaves without its grant on record.
 */
function beforeSuccessfulJson(
  res: Response,
  logger: LoggerService,
  bind: (body: any) => Promise<void>,
) {
  const send = res.json.bind(res);
  res.json = (body: any) => {
    if (res.statusCode !== 200 || typeof body?.access_token !== 'string') {
      return send(body);
    }
    bind(body).then(
      () => send(body),
      error => {
        logger.error(`Could not record an agent's token: ${error}`);
        res.status(500);
        send({
          error: 'server_error',
          error_description: 'Could not record the grant',
        });
      },
    );
    return res;
  };
}

/**
 * Middleware in front of upstream's OIDC routes that records grants. It
 * reads upstream's own tables (`oauth_authorization_sessions`,
 * `oidc_authorization_codes`, `offline_sessions`): pinned by this package's
 * tests, to check on every auth-backend upgrade.
 */
export function createGrantTaps(options: {
  db: Knex;
  grants: AgentGrantStore;
  logger: LoggerService;
  /** Resolves a pending session's client name through upstream. */
  clientNameOf: (sessionId: string) => Promise<string | undefined>;
}) {
  const { db, grants, logger, clientNameOf } = options;
  const router = Router();

  // Approve: upstream checks the person and the session; afterwards the
  // session row names the person who approved and the client.
  router.post(
    '/v1/sessions/:sessionId/approve',
    async (req: Request, res: Response, next: NextFunction) => {
      const { sessionId } = req.params;
      const clientName = await clientNameOf(sessionId).catch(() => undefined);
      const send = res.json.bind(res);
      res.json = (body: any) => {
        if (res.statusCode !== 200) return send(body);
        (async () => {
          const session = await db('oauth_authorization_sessions')
            .where({ id: sessionId, status: 'approved' })
            .first();
          if (!session?.user_entity_ref) {
            throw new Error('the approved session is not on record');
          }
          const grant = await grants.approve({
            userEntityRef: session.user_entity_ref,
            clientId: session.client_id,
            clientName: clientName ?? hostOf(session.client_id),
            scope: session.scope ?? undefined,
          });
          // A delegation given on this consent belongs to this grant.
          await db('agent_delegations')
            .where({
              session_id: sessionId,
              state: 'active',
              user_entity_ref: grant.userEntityRef,
              oidc_client_id: grant.clientId,
            })
            .update({ grant_id: grant.id });
          logger.info(
            `Agent access granted: ${grant.userEntityRef} to ${grant.clientId} (grant ${grant.id})`,
          );
        })().then(
          () => send(body),
          error => {
            logger.error(`Could not record an agent grant: ${error}`);
            res.status(500);
            send({
              error: 'server_error',
              error_description: 'Could not record the grant',
            });
          },
        );
        return res;
      };
      next();
    },
  );

  router.post(
    '/v1/token',
    express.urlencoded({ extended: false }),
    express.json(),
    async (req: Request, res: Response, next: NextFunction) => {
      const body = req.body ?? {};
      let owner: { user: string; client: string } | undefined;
      if (
        body.grant_type === 'authorization_code' &&
        typeof body.code === 'string'
      ) {
        const row = await db('oidc_authorization_codes as c')
          .join('oauth_authorization_sessions as s', 's.id', 'c.session_id')
          .where('c.code', body.code)
          .select('s.user_entity_ref', 's.client_id')
          .first();
        if (row?.user_entity_ref) {
          owner = { user: row.user_entity_ref, client: row.client_id };
          if (!(await grants.findLive(owner.user, owner.client))) {
            return invalidGrant(
              res,
              'The agent access grant was revoked before the code was redeemed',
            );
          }
        }
      } else if (
        body.grant_type === 'refresh_token' &&
        typeof body.refresh_token === 'string'
      ) {
        const sessionId = body.refresh_token.split('.')[0];
        const row = await db('offline_sessions')
          .where({ id: sessionId })
          .first();
        if (row?.oidc_client_id) {
          owner = { user: row.user_entity_ref, client: row.oidc_client_id };
          if (!(await grants.findLive(owner.user, owner.client))) {
            // Revocation also deletes the session; this covers expiry.
            return invalidGrant(
              res,
              'The agent access grant was revoked or has expired',
            );
          }
        }
      }
      if (!owner) return next();
      const { user, client } = owner;
      beforeSuccessfulJson(res, logger, async issued => {
        const grant = await grants.findLive(user, client);
        if (!grant) throw new Error(`no live grant for ${user} and ${client}`);
        await grants.bindToken(
          grant.id,
          issued.access_token,
          expiryOf(issued.access_token),
        );
      });
      return next();
    },
  );

  return router;
}

function hostOf(clientId: string) {
  try {
    return new URL(clientId).host;
  } catch {
    return clientId;
  }
}
