import { Request } from 'express';
import { EmulatorContext } from '../context';
import { JwtClaims, JwtError, verifyJwt } from './jwt';
import { isKnownIssuer } from './authority';

/** Why a bearer token was refused. */
export class BearerError extends Error {
  constructor(
    message: string,
    readonly kind: 'missing' | 'invalid' | 'audience',
  ) {
    super(message);
  }
}

/**
 * Verifies the request's bearer token: issued by this emulator, not expired,
 * and for one of `audiences`. Returns its claims. The issuer must be the home
 * tenant's unless `anyKnownTenant`, for APIs that serve people of other
 * tenants too (Graph serves the home directory only).
 */
export function verifyBearer(
  ctx: EmulatorContext,
  req: Request,
  audiences: string[],
  options: { anyKnownTenant?: boolean } = {},
): JwtClaims {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match) throw new BearerError('Access token is empty.', 'missing');
  let claims: JwtClaims;
  try {
    claims = verifyJwt(ctx.key, match[1].trim());
  } catch (e) {
    if (e instanceof JwtError) {
      throw new BearerError(
        e.message === 'JWT is expired'
          ? 'Lifetime validation failed, the token is expired.'
          : 'Access token validation failure. Invalid audience or signature.',
        'invalid',
      );
    }
    throw e;
  }
  const issuerOk = options.anyKnownTenant
    ? isKnownIssuer(ctx, claims)
    : claims.iss === ctx.urls.issuer;
  if (!issuerOk) {
    throw new BearerError(
      'Access token validation failure. Invalid issuer.',
      'invalid',
    );
  }
  const lower = audiences.map(a => a.toLowerCase());
  if (!lower.includes(String(claims.aud).toLowerCase())) {
    throw new BearerError(
      'Access token validation failure. Invalid audience.',
      'audience',
    );
  }
  return claims;
}
