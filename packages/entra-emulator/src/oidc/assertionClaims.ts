import { aadsts } from './errors';

/** The decoded, not yet verified, parts of a client assertion. */
export interface DecodedAssertion {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** Decodes a compact JWT without verifying it; malformed input is AADSTS50027. */
export function decodeAssertion(token: string): DecodedAssertion {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3 || parts.some(p => !/^[A-Za-z0-9_-]*$/.test(p))) {
    throw aadsts.malformedAssertion();
  }
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    if (!isObject(header) || !isObject(claims))
      throw new Error('not JSON objects');
    return { header, claims };
  } catch {
    throw aadsts.malformedAssertion();
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Clock skew Entra tolerates on assertion times. */
export const ASSERTION_CLOCK_SKEW_SECONDS = 300;

/**
 * Refuses an assertion outside its lifetime (AADSTS700024): `exp` is
 * required, `nbf` optional, both with five minutes of skew.
 */
export function checkAssertionTime(
  claims: Record<string, unknown>,
  now = new Date(),
): void {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
  const nbf = typeof claims.nbf === 'number' ? claims.nbf : undefined;
  if (
    exp === undefined ||
    exp + ASSERTION_CLOCK_SKEW_SECONDS < nowSeconds ||
    (nbf !== undefined && nbf - ASSERTION_CLOCK_SKEW_SECONDS > nowSeconds)
  ) {
    throw aadsts.assertionTime(now, nbf, exp);
  }
}

/** The `aud` claim as a list (a JWT may carry one string or several). */
export function audiencesOf(claims: Record<string, unknown>): string[] {
  const aud = claims.aud;
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud))
    return aud.filter((a): a is string => typeof a === 'string');
  return [];
}
