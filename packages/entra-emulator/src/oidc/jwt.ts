import { createSign, createVerify } from 'node:crypto';
import { SigningKey } from './signingKey';

/** Claims of a JWT as a plain object. */
export type JwtClaims = Record<string, unknown>;

/** Signs `claims` as an RS256 JWT with the emulator's key. */
export function signJwt(key: SigningKey, claims: JwtClaims): string {
  const header = { typ: 'JWT', alg: 'RS256', kid: key.kid };
  const input = `${b64(header)}.${b64(claims)}`;
  const signature = createSign('RSA-SHA256')
    .update(input)
    .sign(key.privateKey)
    .toString('base64url');
  return `${input}.${signature}`;
}

/** Why a token was rejected; the message is shown in error descriptions. */
export class JwtError extends Error {}

/**
 * Verifies a JWT the emulator issued: signature, key id, algorithm and time.
 * Audience and issuer checks are left to the caller, which knows what it
 * expects.
 */
export function verifyJwt(
  key: SigningKey,
  token: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): JwtClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('JWT is malformed');
  let header: { alg?: string; kid?: string };
  let claims: JwtClaims;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('JWT is malformed');
  }
  if (header.alg !== 'RS256' || header.kid !== key.kid) {
    throw new JwtError('JWT signing key or algorithm is not recognised');
  }
  const ok = createVerify('RSA-SHA256')
    .update(`${parts[0]}.${parts[1]}`)
    .verify(key.publicKey, Buffer.from(parts[2], 'base64url'));
  if (!ok) throw new JwtError('JWT signature is invalid');
  if (typeof claims.exp === 'number' && claims.exp < nowSeconds) {
    throw new JwtError('JWT is expired');
  }
  if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds + 300) {
    throw new JwtError('JWT is not yet valid');
  }
  return claims;
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
