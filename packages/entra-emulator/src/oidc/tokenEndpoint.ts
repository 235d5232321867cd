import { createHash } from 'node:crypto';
import { NextFunction, Request, Response } from 'express';
import { EmulatorContext } from '../context';
import { ClientAuthMethod, SeedApp, SeedUser } from '../types';
import {
  AuthenticatedClient,
  authenticateClient,
  presentedClientAuth,
} from './clientAuth';
import { aadsts, EntraOAuthError, sendEntraError } from './errors';
import { JwtError, verifyJwt } from './jwt';
import { ResolvedScopes } from './resources';
import {
  admitsTenant,
  Authority,
  authorityOf,
  checkAppAudience,
  isKnownIssuer,
} from './authority';
import {
  issueAppAccessToken,
  issueIdToken,
  issueUserAccessToken,
  tenantOfUser,
} from './tokens';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Handles `POST /{tenant}/oauth2/v2.0/token` for every supported grant. */
export function tokenEndpoint(ctx: EmulatorContext) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const body = req.body ?? {};
      const grantType: string | undefined = body.grant_type;
      const authority = authorityOf(res);
      const clientAuth = presentedClientAuth(req);
      ctx.tokenRequests.push({
        grantType: grantType ?? '',
        clientId: body.client_id,
        ...(clientAuth ? { clientAuth } : {}),
        scope: body.scope,
        tenant: authority.segment,
        time: new Date().toISOString(),
      });
      if (!grantType) throw aadsts.missingParameter('grant_type');
      const authed = await authenticateClient(ctx, req);
      checkAppAudience(ctx, authority, authed.app);
      let result: Record<string, unknown>;
      switch (grantType) {
        case 'authorization_code':
          result = authorizationCode(ctx, authority, authed, body);
          break;
        case 'refresh_token':
          result = refreshToken(ctx, authority, authed, body);
          break;
        case 'client_credentials':
          // An app-only token needs a tenant; `/common` names none.
          if (!authority.tenantId) throw aadsts.noTenantInRequest();
          result = clientCredentials(ctx, authority.tenantId, authed, body);
          break;
        case JWT_BEARER:
          result = onBehalfOf(ctx, authority, authed, body);
          break;
        default:
          throw aadsts.unsupportedGrant(grantType);
      }
      res.set('Cache-Control', 'no-store').json(result);
    } catch (e) {
      if (e instanceof EntraOAuthError) sendEntraError(res, e);
      else next(e);
    }
  };
}

function authorizationCode(
  ctx: EmulatorContext,
  authority: Authority,
  authed: AuthenticatedClient,
  body: Record<string, string>,
) {
  const client = authed.app;
  if (!body.code) throw aadsts.missingParameter('code');
  const grant = ctx.grants.code(body.code);
  if (!grant || grant.clientId !== client.clientId) {
    throw aadsts.invalidGrant('The authorization code is not known.');
  }
  if (grant.redeemed) throw aadsts.codeRedeemed();
  if (grant.expiresAt < Date.now()) throw aadsts.codeExpired();
  if (body.redirect_uri !== grant.redirectUri) {
    throw aadsts.redirectMismatch(body.redirect_uri ?? '', client.clientId);
  }
  if (grant.codeChallenge) {
    if (!body.code_verifier) throw aadsts.pkceMismatch();
    const computed =
      grant.codeChallengeMethod === 'plain'
        ? body.code_verifier
        : createHash('sha256').update(body.code_verifier).digest('base64url');
    if (computed !== grant.codeChallenge) throw aadsts.pkceMismatch();
  }
  grant.redeemed = true;
  const user = activeUser(ctx, authority, grant.userId);
  const scopes = ctx.resources.resolveDelegated(client, grant.scope);
  return userTokenResponse(ctx, {
    client,
    clientAuth: authed.method,
    user,
    scopes,
    scopeParam: grant.scope,
    nonce: grant.nonce,
    authTime: grant.authTime,
    clientInfo: body.client_info === '1',
  });
}

function refreshToken(
  ctx: EmulatorContext,
  authority: Authority,
  authed: AuthenticatedClient,
  body: Record<string, string>,
) {
  const client = authed.app;
  if (!body.refresh_token) throw aadsts.missingParameter('refresh_token');
  const grant = ctx.grants.refreshToken(body.refresh_token);
  if (!grant || grant.clientId !== client.clientId) {
    throw aadsts.invalidGrant('The refresh token is not known.');
  }
  if (grant.rotated) {
    // The emulator enforces rotation strictly, so that relying parties that
    // keep using a superseded refresh token are caught in tests.
    throw aadsts.invalidGrant('The refresh token was already used.');
  }
  // A refusal (disabled account) leaves the token unspent: re-enabling the
  // account makes it usable again, as in Entra, where only revoking sessions
  // invalidates refresh tokens.
  const user = activeUser(ctx, authority, grant.userId);
  grant.rotated = true;
  const scopeParam = body.scope || grant.scope;
  const scopes = ctx.resources.resolveDelegated(client, scopeParam);
  return userTokenResponse(ctx, {
    client,
    clientAuth: authed.method,
    user,
    scopes,
    scopeParam,
    authTime: grant.authTime,
    clientInfo: body.client_info === '1',
    keepOfflineAccess: true,
  });
}

function clientCredentials(
  ctx: EmulatorContext,
  tenantId: string,
  authed: AuthenticatedClient,
  body: Record<string, string>,
) {
  const client = authed.app;
  if (client.servicePrincipal?.accountEnabled === false) {
    throw aadsts.servicePrincipalDisabled(client.clientId, client.displayName);
  }
  if (!body.scope) throw aadsts.missingParameter('scope');
  const { resource, roles } = ctx.resources.resolveApplication(
    client,
    body.scope,
  );
  return {
    token_type: 'Bearer',
    expires_in: ctx.tokenLifetimeSeconds,
    ext_expires_in: ctx.tokenLifetimeSeconds,
    access_token: issueAppAccessToken(ctx, {
      client,
      resource,
      roles,
      clientAuth: authed.method,
      tenantId,
    }),
  };
}

function onBehalfOf(
  ctx: EmulatorContext,
  authority: Authority,
  authed: AuthenticatedClient,
  body: Record<string, string>,
) {
  const client = authed.app;
  if (body.requested_token_use !== 'on_behalf_of') {
    throw aadsts.missingParameter('requested_token_use');
  }
  if (!body.assertion) throw aadsts.missingParameter('assertion');
  if (!body.scope) throw aadsts.missingParameter('scope');
  let assertion: Record<string, unknown>;
  try {
    assertion = verifyJwt(ctx.key, body.assertion);
  } catch (e) {
    if (e instanceof JwtError) throw aadsts.invalidGrant(e.message);
    throw e;
  }
  // An ID token's audience is the client itself, so without this check it
  // would pass the audience test and be mistaken for an app-only assertion.
  if (isIdToken(assertion)) throw aadsts.idTokenAsAssertion();
  const ownAudiences = [
    client.clientId,
    `api://${client.clientId}`,
    ...(client.identifierUris ?? []),
  ];
  if (
    !isKnownIssuer(ctx, assertion) ||
    !ownAudiences.includes(String(assertion.aud))
  ) {
    throw aadsts.assertionAudience();
  }
  if (!assertion.scp || assertion.idtyp === 'app') {
    throw aadsts.oboNotAllowedForApp(client.clientId);
  }
  const user = activeUser(ctx, authority, String(assertion.oid));
  const scopes = ctx.resources.resolveDelegated(client, body.scope);
  return userTokenResponse(ctx, {
    client,
    clientAuth: authed.method,
    user,
    scopes,
    scopeParam: body.scope,
    authTime: Number(assertion.iat),
    clientInfo: body.client_info === '1',
  });
}

/**
 * ID tokens are the only tokens the emulator issues that carry neither
 * delegated scopes (`scp`) nor application roles (`roles`, `idtyp: app`).
 */
function isIdToken(claims: Record<string, unknown>): boolean {
  return (
    claims.scp === undefined &&
    claims.roles === undefined &&
    claims.idtyp === undefined
  );
}

/**
 * The person a grant is about, if they may still get tokens here: they exist,
 * belong to a tenant this authority serves, and their account is enabled.
 */
function activeUser(
  ctx: EmulatorContext,
  authority: Authority,
  userId: string,
): SeedUser {
  const account = ctx.directory.findAccount(userId);
  if (!account) throw aadsts.unknownUser(userId);
  if (!admitsTenant(authority, account.tenantId)) {
    throw aadsts.invalidGrant(
      `The grant was issued for tenant ${account.tenantId}, not ${authority.segment}.`,
    );
  }
  if (account.user.accountEnabled === false) throw aadsts.accountDisabled();
  return account.user;
}

function userTokenResponse(
  ctx: EmulatorContext,
  opts: {
    client: SeedApp;
    clientAuth: ClientAuthMethod;
    user: SeedUser;
    scopes: ResolvedScopes;
    scopeParam: string;
    nonce?: string;
    authTime: number;
    clientInfo: boolean;
    keepOfflineAccess?: boolean;
  },
) {
  const { client, user, scopes } = opts;
  const response: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: [
      ...scopes.scopes.map(s =>
        scopes.resource.key === 'graph'
          ? s
          : `api://${scopes.resource.appId}/${s}`,
      ),
      ...scopes.oidc,
    ].join(' '),
    expires_in: ctx.tokenLifetimeSeconds,
    ext_expires_in: ctx.tokenLifetimeSeconds,
    access_token: issueUserAccessToken(ctx, {
      user,
      client,
      clientAuth: opts.clientAuth,
      resource: scopes.resource,
      scopes: scopes.scopes,
    }),
  };
  if (scopes.oidc.includes('offline_access') || opts.keepOfflineAccess) {
    response.refresh_token = ctx.grants.issueRefreshToken({
      clientId: client.clientId,
      userId: user.id,
      scope: opts.scopeParam,
      authTime: opts.authTime,
    });
  }
  if (scopes.oidc.includes('openid')) {
    response.id_token = issueIdToken(ctx, {
      user,
      client,
      nonce: opts.nonce,
      authTime: opts.authTime,
    });
  }
  if (opts.clientInfo) {
    response.client_info = Buffer.from(
      JSON.stringify({ uid: user.id, utid: tenantOfUser(ctx, user) }),
    ).toString('base64url');
  }
  return response;
}
