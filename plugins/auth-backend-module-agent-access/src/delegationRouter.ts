import {
  AuthService,
  HttpAuthService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { UserEntity } from '@backstage/catalog-model';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import {
  ENTRA_TENANT_ID_ANNOTATION,
  ENTRA_USER_ID_ANNOTATION,
} from '@internal/plugin-auth-backend-module-entra-provider';
import express from 'express';
import Router from 'express-promise-router';
import { Knex } from 'knex';
import { DelegationCipher, DelegationStore } from './delegationStore';
import {
  DelegationExpiredError,
  EntraDelegationClient,
} from './entraDelegation';
import { AgentGrantStore } from './grants';

/** What the deploy module sends and the MCP guard puts in task secrets. */
export interface DelegationHandle {
  /** grant id, person, client, expiry (ms since the epoch) */
  g: string;
  u: string;
  c: string;
  exp: number;
}

/**
 * Handles travel in the task secret `entraDelegatedToken` (which deploy
 * templates require), marked so the deploy module cannot take one for a
 * JWT; a JWT always starts with `eyJ`.
 */
export const HANDLE_PREFIX = 'agent-grant:';

/** How long a handle minted for one MCP call may start a task. */
export const HANDLE_LIFETIME_MS = 10 * 60_000;

interface State {
  d: string;
  u: string;
  exp: number;
}

/** What the person is told when the agent's delegation is gone. */
export const RECONNECT =
  'Reconnect the agent and choose "also let this agent deploy as me": its permission to deploy as you was not given, was revoked or has expired.';

/**
 * "Deploy as me" for agents: the person's consent page starts an Entra
 * sign-in for the portal's own API, the callback stores the person's MSAL
 * cache encrypted, and the deploy module later asks for a fresh delegated
 * token with the handle the MCP guard put in the task's secrets.
 */
export function createDelegationRouter(options: {
  db: Knex;
  grants: AgentGrantStore;
  delegations: DelegationStore;
  cipher: DelegationCipher;
  entra: EntraDelegationClient;
  httpAuth: HttpAuthService;
  auth: AuthService;
  logger: LoggerService;
  /** Where the consent page lives (the frontend's base URL). */
  appBaseUrl: string;
  /** How long a delegation lasts: as long as its grant. */
  lifetimeMs: number;
  /** The person's catalog User, for their Entra object id and tenant. */
  userEntity: (userEntityRef: string) => Promise<UserEntity | undefined>;
}) {
  const { db, grants, delegations, cipher, entra, httpAuth, logger } = options;
  const router = Router();
  router.use('/agent-access/v1/delegations', express.json());

  router.post('/agent-access/v1/delegations', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const me = credentials.principal.userEntityRef;
    const sessionId = req.body?.sessionId;
    if (typeof sessionId !== 'string' || !sessionId) {
      throw new InputError('Send { "sessionId": "<authorization session>" }');
    }
    const session = await db('oauth_authorization_sessions')
      .where({ id: sessionId, status: 'pending' })
      .where('expires_at', '>', new Date())
      .first();
    if (!session) {
      throw new NotFoundError(`No pending authorization session ${sessionId}`);
    }
    const user = await options.userEntity(me);
    const pending = await delegations.createPending({
      userEntityRef: me,
      clientId: session.client_id,
      sessionId,
      pkceVerifier: '',
    });
    const state = cipher.sign({
      d: pending.id,
      u: me,
      exp: pending.expiresAt.getTime(),
    } satisfies State);
    const { url, verifier } = await entra.authorizeUrl({
      state,
      loginHint:
        user?.metadata.annotations?.['microsoft.com/email'] ??
        user?.spec.profile?.email,
    });
    await delegations.seal(pending, verifier);
    res.json({ authorizeUrl: url });
  });

  // Entra's redirect. No Backstage token: the signed state names the row
  // and the person, and the ID token must be that person's.
  router.get('/agent-access/v1/delegations/callback', async (req, res) => {
    const state = cipher.verify<State>(req.query.state);
    if (!state || state.exp < Date.now()) {
      throw new NotAllowedError(
        'This delegation sign-in is unknown or expired; start again from the consent page.',
      );
    }
    const pending = await delegations.get(state.d);
    if (
      !pending ||
      pending.state !== 'pending' ||
      pending.userEntityRef !== state.u
    ) {
      throw new NotAllowedError(
        'This delegation sign-in was already used or is unknown; start again from the consent page.',
      );
    }
    if (typeof req.query.error === 'string') {
      await delegations.expire(pending.id);
      throw new NotAllowedError(
        `Entra did not grant the delegation (${req.query.error}).`,
      );
    }
    const code = req.query.code;
    if (typeof code !== 'string' || !code) {
      throw new InputError('The delegation callback carries no code');
    }
    const verifier = await delegations.open(pending.id);
    const redeemed = await entra.redeem(code, verifier);
    const user = await options.userEntity(pending.userEntityRef);
    const annotations = user?.metadata.annotations ?? {};
    const expectedTid = annotations[ENTRA_TENANT_ID_ANNOTATION];
    if (
      !annotations[ENTRA_USER_ID_ANNOTATION] ||
      annotations[ENTRA_USER_ID_ANNOTATION] !== redeemed.oid ||
      (expectedTid !== undefined && expectedTid !== redeemed.tid)
    ) {
      await delegations.expire(pending.id);
      logger.warn(
        `Delegation refused for ${pending.userEntityRef}: Entra signed in object id ${redeemed.oid} (tenant ${redeemed.tid}), not theirs`,
      );
      throw new NotAllowedError(
        `You signed in at Entra as someone other than ${pending.userEntityRef}; the delegation is refused. Sign in with your own account.`,
      );
    }
    await delegations.activate(
      pending,
      redeemed.cache,
      { oid: redeemed.oid, tid: redeemed.tid },
      new Date(Date.now() + options.lifetimeMs),
    );
    logger.info(
      `Agent delegation stored for ${pending.userEntityRef} and ${pending.clientId} (delegation ${pending.id})`,
    );
    res.redirect(
      `${options.appBaseUrl}/oauth2/authorize/${encodeURIComponent(
        pending.sessionId,
      )}?delegation=granted`,
    );
  });

  // The deploy module, on behalf of the task's initiator, with the handle.
  router.post('/agent-access/v1/delegations/token', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const me = credentials.principal.userEntityRef;
    const sent = req.body?.handle;
    const handle =
      typeof sent === 'string' && sent.startsWith(HANDLE_PREFIX)
        ? cipher.verify<DelegationHandle>(sent.slice(HANDLE_PREFIX.length))
        : undefined;
    if (!handle || handle.u !== me || !(handle.exp > Date.now())) {
      throw new NotAllowedError(
        'This task carries no valid agent delegation for you.',
      );
    }
    const grant = await grants.get(handle.g);
    const live =
      grant &&
      !grant.revokedAt &&
      new Date(grant.expiresAt).getTime() > Date.now() &&
      grant.userEntityRef === me &&
      grant.clientId === handle.c;
    const delegation = live
      ? await delegations.activeForGrant(handle.g)
      : undefined;
    if (!grant || !live || !delegation) {
      throw new NotAllowedError(RECONNECT);
    }
    let cache: string;
    try {
      cache = await delegations.open(delegation.id);
    } catch (e) {
      // A changed ciphertext, a row moved to another person or client, or
      // a retired key: nothing usable is left.
      await delegations.expire(delegation.id);
      logger.warn(
        `Agent delegation ${delegation.id} of ${me} could not be decrypted: ${
          (e as Error).message
        }`,
      );
      throw new NotAllowedError(RECONNECT);
    }
    try {
      const access = await entra.acquire(cache, delegation.oid!);
      await delegations.seal(delegation, access.cache);
      res.json({
        accessToken: access.accessToken,
        grantId: grant.id,
        clientId: grant.clientId,
      });
    } catch (e) {
      if (!(e instanceof DelegationExpiredError)) throw e;
      await delegations.expire(delegation.id);
      logger.info(
        `Agent delegation ${delegation.id} of ${me} expired: ${e.message}`,
      );
      throw new NotAllowedError(RECONNECT);
    }
  });

  return router;
}
