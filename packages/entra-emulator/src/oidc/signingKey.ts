import fs from 'node:fs';
import path from 'node:path';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
} from 'node:crypto';

/** The RS256 key tokens are signed with, and its public JWK. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: {
    kty: string;
    n?: string;
    e?: string;
    kid: string;
    use: 'sig';
    alg: 'RS256';
  };
}

const KEY_FILE = 'signing-key.pem';

/**
 * Loads the signing key from `dataDir`, creating it on first run. It must stay
 * the same across restarts because relying parties cache the JWKS (Backstage's
 * OIDC module caches discovery and keys for the life of the process).
 */
export function loadOrCreateSigningKey(dataDir: string): SigningKey {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, KEY_FILE);
  if (!fs.existsSync(file)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    fs.writeFileSync(
      file,
      privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      { mode: 0o600 },
    );
  }
  const privateKey = createPrivateKey(fs.readFileSync(file, 'utf8'));
  const publicKey = createPublicKey(privateKey);
  const publicJwk = publicKey.export({ format: 'jwk' });
  // RFC 7638 thumbprint: stable for the key, like Entra's x5t-style kids.
  const kid = createHash('sha256')
    .update(JSON.stringify({ e: publicJwk.e, kty: 'RSA', n: publicJwk.n }))
    .digest('base64url');
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { ...publicJwk, kty: 'RSA', kid, use: 'sig', alg: 'RS256' },
  };
}
