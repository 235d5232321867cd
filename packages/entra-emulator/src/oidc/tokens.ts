import { createHash, randomBytes } from 'node:crypto';
import { EmulatorContext } from '../context';
import { ClientAuthMethod, SeedApp, SeedUser } from '../types';
import { deterministicGuid } from '../seed/guid';
import { signJwt, JwtClaims } from './jwt';
import { Resource } from './resources';
import { issuerFor } from './authority';

/** Entra stops listing groups in a JWT past this many and sends an overage marker. */
export const GROUPS_CLAIM_LIMIT = 200;

/**
 * The `sub` claim: pairwise per user and application, as Entra's is, so that
 * nothing can use it to correlate a person across applications.
 */
export function pairwiseSub(oid: string, appId: string, tid: string): string {
  return createHash('sha256')
    .update(`${tid}/${oid}/${appId}`)
    .digest('base64url')
    .slice(0, 43);
}

/**
 * The object id of an application's service principal: the seeded one when
 * the app is a Graph object (a group member), else one derived from its
 * client id, stable across runs.
 */
export function servicePrincipalId(app: SeedApp): string {
  return (
    app.servicePrincipal?.id ??
    deterministicGuid(`service-principal/${app.clientId}`)
  );
}

/** The tenant a person belongs to: what their tokens' `iss` and `tid` name. */
export function tenantOfUser(ctx: EmulatorContext, user: SeedUser): string {
  return ctx.directory.findAccount(user.id)?.tenantId ?? ctx.directory.tenantId;
}

function baseClaims(
  ctx: EmulatorContext,
  aud: string,
  tenantId = ctx.directory.tenantId,
): JwtClaims {
  const now = Math.floor(Date.now() / 1000);
  return {
    aud,
    iss: issuerFor(ctx, tenantId),
    iat: now,
    nbf: now,
    exp: now + ctx.tokenLifetimeSeconds,
    tid: tenantId,
    uti: randomBytes(16).toString('base64url'),
    ver: '2.0',
  };
}

function userClaims(
  ctx: EmulatorContext,
  user: SeedUser,
  aud: string,
  withGroups: boolean,
): JwtClaims {
  const claims: JwtClaims = {
    oid: user.id,
    sub: pairwiseSub(user.id, aud, tenantOfUser(ctx, user)),
    name: user.displayName,
    preferred_username: user.userPrincipalName,
    upn: user.userPrincipalName,
  };
  if (user.mail) claims.email = user.mail;
  if (user.userType === 'Guest') {
    // Guests authenticate at their home tenant; Entra names it in `idp`.
    claims.idp = `https://sts.windows.net/${deterministicGuid(
      `home-tenant/${user.mail ?? user.id}`,
    )}/`;
  }
  if (withGroups) Object.assign(claims, groupsClaim(ctx, user));
  return claims;
}

/**
 * The `groups` claim: transitive group ids, or Entra's overage marker
 * pointing at Graph when the person is in more than 200 groups.
 */
export function groupsClaim(ctx: EmulatorContext, user: SeedUser): JwtClaims {
  const groups = ctx.directory.transitiveMemberOf(user.id);
  if (groups.length <= GROUPS_CLAIM_LIMIT) return { groups };
  return {
    _claim_names: { groups: 'src1' },
    _claim_sources: {
      src1: {
        endpoint: `${ctx.urls.graphBaseUrl}/users/${user.id}/getMemberObjects`,
      },
    },
  };
}

/** An ID token for `client`, about `user`. */
export function issueIdToken(
  ctx: EmulatorContext,
  opts: { user: SeedUser; client: SeedApp; nonce?: string; authTime: number },
): string {
  return signJwt(ctx.key, {
    ...baseClaims(ctx, opts.client.clientId, tenantOfUser(ctx, opts.user)),
    ...userClaims(
      ctx,
      opts.user,
      opts.client.clientId,
      !!opts.client.groupMembershipClaims,
    ),
    ...(opts.nonce ? { nonce: opts.nonce } : {}),
    auth_time: opts.authTime,
    aio: randomBytes(12).toString('base64url'),
  });
}

/** A delegated access token: `user` calling `resource` through `client`. */
export function issueUserAccessToken(
  ctx: EmulatorContext,
  opts: {
    user: SeedUser;
    client: SeedApp;
    clientAuth?: ClientAuthMethod;
    resource: Resource;
    scopes: string[];
  },
): string {
  return signJwt(ctx.key, {
    ...baseClaims(ctx, opts.resource.appId, tenantOfUser(ctx, opts.user)),
    ...userClaims(
      ctx,
      opts.user,
      opts.resource.appId,
      opts.resource.groupsClaim,
    ),
    azp: opts.client.clientId,
    azpacr: azpacr(opts.clientAuth),
    scp: opts.scopes.join(' '),
    idtyp: 'user',
  });
}

/**
 * An app-only access token (client credentials), as Entra's v2.0 format has
 * it: `aud` the resource's client id (a GUID, never the `api://` URI, which
 * only v1.0 tokens carry), `iss`/`tid` of the tenant asked, `oid` = `sub` =
 * the caller's service principal, `azp` its app id, `idtyp: app`, and
 * `roles` the app roles of the resource assigned to that service principal.
 */
export function issueAppAccessToken(
  ctx: EmulatorContext,
  opts: {
    client: SeedApp;
    resource: Resource;
    roles: string[];
    clientAuth?: ClientAuthMethod;
    /** The tenant of the authority asked; the home tenant when absent. */
    tenantId?: string;
  },
): string {
  const spId = servicePrincipalId(opts.client);
  return signJwt(ctx.key, {
    ...baseClaims(ctx, opts.resource.appId, opts.tenantId),
    oid: spId,
    sub: spId,
    azp: opts.client.clientId,
    azpacr: azpacr(opts.clientAuth),
    roles: opts.roles,
    idtyp: 'app',
  });
}

/**
 * Entra's `azpacr`: how the client authenticated, `1` with a secret, `2`
 * with a certificate or a federated assertion.
 */
function azpacr(method: ClientAuthMethod = 'secret'): '1' | '2' {
  return method === 'secret' ? '1' : '2';
}
