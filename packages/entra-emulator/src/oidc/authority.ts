import { Response } from 'express';
import { EmulatorContext } from '../context';
import { SeedApp } from '../types';
import { aadsts } from './errors';

/** The multi-tenant authorities Entra serves besides tenant-specific ones. */
const MULTI_TENANT_SEGMENTS = ['common', 'organizations'];

/** The `{tenant}` segment of an identity request, resolved. */
export interface Authority {
  /** What endpoints are announced under: a tenant id, `common` or `organizations`. */
  segment: string;
  /** The tenant of a tenant-specific authority; absent for `common`/`organizations`. */
  tenantId?: string;
}

/**
 * Resolves the path's tenant segment the way Entra does: a known tenant's id
 * or verified domain (announced under its id), or `common`/`organizations`.
 * `consumers` is not emulated (no personal accounts) and is unknown here.
 */
export function resolveAuthority(
  ctx: EmulatorContext,
  segment: string,
): Authority | undefined {
  const lower = segment.toLowerCase();
  if (MULTI_TENANT_SEGMENTS.includes(lower)) return { segment: lower };
  const tenant = ctx.directory.findTenant(segment);
  return tenant ? { segment: tenant.id, tenantId: tenant.id } : undefined;
}

/** The authority the tenant router resolved for this request. */
export function authorityOf(res: Response): Authority {
  return res.locals.authority as Authority;
}

/** The issuer of tokens about people of `tenantId`: one per tenant, as in Entra. */
export function issuerFor(ctx: EmulatorContext, tenantId: string): string {
  return `${ctx.urls.httpsUrl}/${tenantId}/v2.0`;
}

/**
 * Whether a token's `iss` is the issuer of a tenant the emulator knows and
 * the one its `tid` names, which is what a multi-tenant relying party checks.
 */
export function isKnownIssuer(
  ctx: EmulatorContext,
  claims: Record<string, unknown>,
): boolean {
  const tid = typeof claims.tid === 'string' ? claims.tid : '';
  return (
    !!ctx.directory.tenants.find(t => t.id === tid) &&
    claims.iss === issuerFor(ctx, tid)
  );
}

/** Whether people of `tenantId` may sign in through `authority`. */
export function admitsTenant(authority: Authority, tenantId: string): boolean {
  return authority.tenantId === undefined || authority.tenantId === tenantId;
}

/**
 * Refuses an app the authority does not serve, as Entra does: single-tenant
 * apps are not usable over `/common` or `/organizations` (AADSTS50194), and
 * do not exist in other tenants (AADSTS700016).
 */
export function checkAppAudience(
  ctx: EmulatorContext,
  authority: Authority,
  app: SeedApp,
): void {
  const multiTenant = app.signInAudience === 'AzureADMultipleOrgs';
  if (multiTenant) return;
  if (authority.tenantId === undefined) {
    throw aadsts.notMultiTenant(app.clientId, app.displayName);
  }
  const home =
    ctx.directory.tenantOfApp(app.clientId) ?? ctx.directory.tenantId;
  if (authority.tenantId !== home) {
    const tenant = ctx.directory.findTenant(authority.tenantId)!;
    throw aadsts.unknownClient(app.clientId, tenant.displayName);
  }
}
