import express, { NextFunction, Request, Response, Router } from 'express';
import { EmulatorContext } from '../context';
import { aadsts, sendEntraError } from './errors';
import {
  authorizeGet,
  authorizePost,
  readCookie,
  SESSION_COOKIE,
} from './authorize';
import { tokenEndpoint } from './tokenEndpoint';
import { BearerError, verifyBearer } from './bearer';
import { GRAPH_APP_ID } from './resources';
import { pairwiseSub } from './tokens';
import { escapeHtml } from './loginPage';
import {
  Authority,
  authorityOf,
  issuerFor,
  resolveAuthority,
} from './authority';

/** Marks the emulator in its metadata so production configuration can refuse it. */
export const EMULATOR_MARKER = 'x_entra_emulator';

/**
 * The v2.0 discovery document, shaped like Entra's. For `common` and
 * `organizations` the issuer is Entra's template,
 * `…/{tenantid}/v2.0`, with `{tenantid}` written literally: relying parties
 * put the token's `tid` in its place.
 */
export function discoveryDocument(
  ctx: EmulatorContext,
  authority: Authority = {
    segment: ctx.directory.tenantId,
    tenantId: ctx.directory.tenantId,
  },
) {
  const { httpUrl, httpsUrl } = ctx.urls;
  const tid = authority.segment;
  const issuer = issuerFor(ctx, authority.tenantId ?? '{tenantid}');
  return {
    token_endpoint: `${httpsUrl}/${tid}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: [
      'client_secret_post',
      'private_key_jwt',
      'client_secret_basic',
    ],
    jwks_uri: `${httpsUrl}/${tid}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${httpsUrl}/oidc/userinfo`,
    // Browser-facing endpoints are on plain http so a person's browser shows
    // the login page without a certificate warning.
    authorization_endpoint: `${httpUrl}/${tid}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${httpUrl}/${tid}/oauth2/v2.0/logout`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    code_challenge_methods_supported: ['S256', 'plain'],
    grant_types_supported: [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ],
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'oid',
      'email',
      'upn',
      'groups',
    ],
    // Entra answers null for the multi-tenant authorities.
    tenant_region_scope: authority.tenantId ? 'EU' : null,
    cloud_instance_name: 'entra-emulator.localhost',
    cloud_graph_host_name: new URL(httpsUrl).host,
    msgraph_host: new URL(httpsUrl).host,
    rbac_url: httpsUrl,
    [EMULATOR_MARKER]: true,
  };
}

/** Identity routes: discovery, keys, authorize, token, logout, userinfo. */
export function createOidcRouter(ctx: EmulatorContext): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false });

  // MSAL asks this before trusting an authority it does not know.
  router.get('/common/discovery/instance', (_req, res) => {
    const host = new URL(ctx.urls.httpsUrl).host;
    res.json({
      tenant_discovery_endpoint: `${ctx.urls.httpsUrl}/${ctx.directory.tenantId}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [
        { preferred_network: host, preferred_cache: host, aliases: [host] },
      ],
    });
  });

  router.get('/oidc/userinfo', (req, res) => {
    try {
      // People of other tenants have userinfo too; their tokens name their tenant.
      const claims = verifyBearer(ctx, req, [GRAPH_APP_ID], {
        anyKnownTenant: true,
      });
      const account = ctx.directory.findAccount(String(claims.oid));
      if (!account || account.tenantId !== claims.tid || !claims.scp)
        throw new BearerError('Not a user token', 'invalid');
      const user = account.user;
      res.json({
        sub: pairwiseSub(user.id, String(claims.azp), account.tenantId),
        name: user.displayName,
        family_name: user.surname,
        given_name: user.givenName,
        ...(user.mail ? { email: user.mail } : {}),
      });
    } catch (e) {
      if (!(e instanceof BearerError)) throw e;
      res
        .status(401)
        .set(
          'WWW-Authenticate',
          `Bearer error="invalid_token", error_description="${e.message}"`,
        )
        .end();
    }
  });

  const tenant = Router({ mergeParams: true });
  tenant.use((req: Request, res: Response, next: NextFunction) => {
    const authority = resolveAuthority(ctx, req.params.tenant);
    if (!authority) {
      sendEntraError(res, aadsts.tenantMismatch(req.params.tenant));
      return;
    }
    res.locals.authority = authority;
    next();
  });
  tenant.get('/v2.0/.well-known/openid-configuration', (_req, res) => {
    res.json(discoveryDocument(ctx, authorityOf(res)));
  });
  tenant.get('/discovery/v2.0/keys', (_req, res) => {
    res.json({ keys: [ctx.key.jwk] });
  });
  tenant.get('/oauth2/v2.0/authorize', authorizeGet(ctx));
  tenant.post('/oauth2/v2.0/authorize', form, authorizePost(ctx));
  tenant.post('/oauth2/v2.0/token', form, tokenEndpoint(ctx));
  tenant.get('/oauth2/v2.0/logout', (req, res) => {
    ctx.grants.endSession(readCookie(req, SESSION_COOKIE));
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    const target = req.query.post_logout_redirect_uri;
    const allowed = ctx.directory.apps.some(a =>
      (a.redirectUris ?? []).some(
        u =>
          typeof target === 'string' &&
          new URL(u).origin === safeOrigin(target),
      ),
    );
    if (typeof target === 'string' && allowed) {
      const url = new URL(target);
      if (typeof req.query.state === 'string')
        url.searchParams.set('state', req.query.state);
      res.redirect(302, url.toString());
      return;
    }
    res
      .type('html')
      .send(
        `<!doctype html><html><body><h1>You signed out of ${escapeHtml(
          ctx.directory.seed.tenant.displayName,
        )}</h1></body></html>`,
      );
  });
  router.use('/:tenant', tenant);
  return router;
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
