import { decodeJwt } from 'jose';

/** The claims of a projected service-account token Entra matches on. */
export interface FederatedToken {
  /** The raw token: the client assertion. Never log it. */
  token: string;
  issuer: string;
  subject: string;
  audiences: string[];
  expiresAt: Date;
}

/** Default audience of Entra's federated identity credentials. */
export const DEFAULT_FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';

/**
 * Reads a workload identity token without verifying it (Entra does that);
 * checks only what would make Entra refuse it for sure, so a wrong file fails
 * startup with a reason instead of every token request with an AADSTS code.
 */
export function parseFederatedToken(
  content: string,
  expectedAudience: string,
): FederatedToken {
  const token = content.trim();
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(token);
  } catch {
    throw new Error(
      'it does not hold a JWT (a projected service-account token)',
    );
  }
  const { iss, sub, exp } = claims;
  if (!iss || !sub || typeof exp !== 'number') {
    throw new Error('its token lacks iss, sub or exp');
  }
  const audiences = [claims.aud ?? []].flat();
  if (!audiences.includes(expectedAudience)) {
    throw new Error(
      `its token is for audience ${
        audiences.join(', ') || '(none)'
      }, not ${expectedAudience}; project the token with that audience or set federatedTokenAudience`,
    );
  }
  return {
    token,
    issuer: iss,
    subject: sub,
    audiences,
    expiresAt: new Date(exp * 1000),
  };
}
