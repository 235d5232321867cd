import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { loadOrCreateDevTls } from './devCa';
import { loadOrCreateSigningKey } from '../oidc/signingKey';

describe('dev CA and signing key persistence', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-tls-'));

  it('creates a CA and a localhost leaf with loopback SANs, reused on the next start', () => {
    const first = loadOrCreateDevTls(dataDir);
    const leaf = new X509Certificate(first.certPem);
    const ca = new X509Certificate(first.caCertPem);
    expect(ca.ca).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    const second = loadOrCreateDevTls(dataDir);
    expect(second.caCertPem).toBe(first.caCertPem);
    expect(second.certPem).toBe(first.certPem);
    expect(second.caCertPath).toBe(path.join(dataDir, 'dev-ca.pem'));
  });

  it('keeps the RS256 signing key (and kid) across restarts', () => {
    const a = loadOrCreateSigningKey(dataDir);
    const b = loadOrCreateSigningKey(dataDir);
    expect(a.kid).toBe(b.kid);
    expect(a.jwk).toMatchObject({
      kty: 'RSA',
      alg: 'RS256',
      use: 'sig',
      kid: a.kid,
    });
    expect(a.jwk).not.toHaveProperty('d');
  });
});
