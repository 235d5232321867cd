import { Request, Response } from 'express';
import { EmulatorContext } from '../context';
import { SeedApp } from '../types';
import { aadsts, EntraOAuthError } from './errors';
import { escapeHtml, renderErrorPage, renderLoginPage } from './loginPage';
import {
  admitsTenant,
  Authority,
  authorityOf,
  checkAppAudience,
} from './authority';

/** Cookie that stands for an emulator browser session (used by prompt=none). */
export const SESSION_COOKIE = 'entra_emulator_session';

/** Parameters of an authorize request that survive the login page round trip. */
const CARRIED_PARAMS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'login_hint',
  'domain_hint',
];

interface ValidRequest {
  authority: Authority;
  client: SeedApp;
  redirectUri: string;
  params: Record<string, string>;
}

/** Reads a cookie without pulling in a cookie parser for one value. */
export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * `GET /{tenant}/oauth2/v2.0/authorize`: the login page, or an immediate
 * answer for `prompt=none`.
 */
export function authorizeGet(ctx: EmulatorContext) {
  return (req: Request, res: Response) => {
    const valid = validate(ctx, req.query as Record<string, string>, res);
    if (!valid) return;
    if (valid.params.prompt === 'none') {
      const userId = ctx.grants.sessionUser(readCookie(req, SESSION_COOKIE));
      const account = userId ? ctx.directory.findAccount(userId) : undefined;
      const user =
        account && admitsTenant(valid.authority, account.tenantId)
          ? account.user
          : undefined;
      if (!user || user.accountEnabled === false) {
        redirectWithError(res, valid, aadsts.loginRequired());
        return;
      }
      completeSignIn(ctx, res, valid, user.id);
      return;
    }
    res.type('html').send(loginPage(ctx, req, valid));
  };
}

/** `POST /{tenant}/oauth2/v2.0/authorize`: the login page's form. */
export function authorizePost(ctx: EmulatorContext) {
  return (req: Request, res: Response) => {
    const valid = validate(ctx, req.body ?? {}, res);
    if (!valid) return;
    const chosen: string = (req.body.user || req.body.login || '').trim();
    const account = chosen ? ctx.directory.findAccount(chosen) : undefined;
    const user = account?.user;
    let error: EntraOAuthError | undefined;
    if (!account) error = aadsts.unknownUser(chosen || '(empty)');
    else if (!admitsTenant(valid.authority, account.tenantId))
      error = notInTenant(
        ctx,
        valid,
        account.user.userPrincipalName,
        account.tenantId,
      );
    else if (account.user.accountEnabled === false)
      error = aadsts.accountDisabled();
    if (error || !user) {
      res
        .status(400)
        .type('html')
        .send(loginPage(ctx, req, valid, error!.message));
      return;
    }
    const sid = ctx.grants.createSession(user.id);
    res.cookie(SESSION_COOKIE, sid, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
    });
    completeSignIn(ctx, res, valid, user.id);
  };
}

/** A person of another tenant at a tenant-specific authority (AADSTS50020). */
function notInTenant(
  ctx: EmulatorContext,
  valid: ValidRequest,
  upn: string,
  homeTenantId: string,
): EntraOAuthError {
  const tenant = ctx.directory.findTenant(valid.authority.tenantId!)!;
  return aadsts.userNotInTenant(
    upn,
    homeTenantId,
    tenant.displayName,
    valid.client.clientId,
    valid.client.displayName,
  );
}

function loginPage(
  ctx: EmulatorContext,
  req: Request,
  valid: ValidRequest,
  error?: string,
): string {
  const { tenantId } = valid.authority;
  // `/common` and `/organizations` list everyone: Entra finds the home tenant
  // from the account the person types.
  let users = tenantId
    ? ctx.directory.usersOf(tenantId)
    : ctx.directory.tenants.flatMap(t => ctx.directory.usersOf(t.id));
  const domainHint = valid.params.domain_hint?.toLowerCase();
  if (domainHint) {
    // domain_hint skips home-realm discovery in Entra; here it narrows the list.
    const inDomain = users.filter(u =>
      u.userPrincipalName.toLowerCase().endsWith(`@${domainHint}`),
    );
    if (inDomain.length) users = inDomain;
  }
  return renderLoginPage({
    action: req.originalUrl.split('?')[0],
    params: valid.params,
    users,
    loginHint: valid.params.login_hint,
    error,
    tenantName: tenantId
      ? ctx.directory.findTenant(tenantId)!.displayName
      : 'your organisation',
  });
}

function validate(
  ctx: EmulatorContext,
  input: Record<string, string>,
  res: Response,
): ValidRequest | undefined {
  const authority = authorityOf(res);
  const params: Record<string, string> = {};
  for (const k of CARRIED_PARAMS) {
    if (typeof input[k] === 'string' && input[k] !== '') params[k] = input[k];
  }
  // Until the redirect URI is known to be registered, errors are shown, not redirected.
  const fail = (e: EntraOAuthError) => {
    res.status(400).type('html').send(renderErrorPage(e.message));
    return undefined;
  };
  if (!params.client_id) return fail(aadsts.missingParameter('client_id'));
  const client = ctx.directory.app(params.client_id);
  if (!client) return fail(aadsts.unknownClient(params.client_id));
  try {
    checkAppAudience(ctx, authority, client);
  } catch (e) {
    if (e instanceof EntraOAuthError) return fail(e);
    throw e;
  }
  const redirectUri = params.redirect_uri ?? client.redirectUris?.[0];
  if (!redirectUri || !(client.redirectUris ?? []).includes(redirectUri)) {
    return fail(aadsts.redirectMismatch(redirectUri ?? '', client.clientId));
  }
  const valid = { authority, client, redirectUri, params };
  try {
    if (params.response_type !== 'code') {
      throw new EntraOAuthError(
        400,
        'unsupported_response_type',
        700054,
        `response_type '${
          params.response_type ?? ''
        }' is not enabled for the application.`,
      );
    }
    if (!params.scope) throw aadsts.missingParameter('scope');
    if (
      params.code_challenge &&
      !['S256', 'plain', undefined].includes(params.code_challenge_method)
    ) {
      throw new EntraOAuthError(
        400,
        'invalid_request',
        50148,
        'The code_challenge_method is not supported. Use S256 or plain.',
      );
    }
    ctx.resources.resolveDelegated(client, params.scope);
  } catch (e) {
    if (!(e instanceof EntraOAuthError)) throw e;
    redirectWithError(res, valid, e);
    return undefined;
  }
  return valid;
}

function completeSignIn(
  ctx: EmulatorContext,
  res: Response,
  valid: ValidRequest,
  userId: string,
) {
  const code = ctx.grants.issueCode({
    clientId: valid.client.clientId,
    redirectUri: valid.redirectUri,
    userId,
    scope: valid.params.scope,
    nonce: valid.params.nonce,
    codeChallenge: valid.params.code_challenge,
    codeChallengeMethod: valid.params.code_challenge_method ?? 'plain',
    authTime: Math.floor(Date.now() / 1000),
  });
  respond(res, valid, { code, session_state: ctx.directory.tenantId });
}

function redirectWithError(
  res: Response,
  valid: ValidRequest,
  e: EntraOAuthError,
) {
  respond(res, valid, {
    error: e.error,
    error_description: e.message,
    error_codes: String(e.aadsts),
  });
}

function respond(
  res: Response,
  valid: ValidRequest,
  values: Record<string, string>,
) {
  const all: Record<string, string> = { ...values };
  if (valid.params.state) all.state = valid.params.state;
  if (valid.params.response_mode === 'form_post') {
    const fields = Object.entries(all)
      .map(
        ([k, v]) =>
          `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(
            v,
          )}">`,
      )
      .join('');
    res
      .type('html')
      .send(
        `<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${escapeHtml(
          valid.redirectUri,
        )}">${fields}<noscript><button type="submit">Continue</button></noscript></form></body></html>`,
      );
    return;
  }
  const url = new URL(valid.redirectUri);
  const query = new URLSearchParams(all).toString();
  if (valid.params.response_mode === 'fragment') url.hash = query;
  else for (const [k, v] of Object.entries(all)) url.searchParams.set(k, v);
  res.redirect(302, url.toString());
}
