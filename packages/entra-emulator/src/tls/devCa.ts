import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** PEM material the HTTPS listener needs, plus where the CA was written. */
export interface DevTlsMaterial {
  caCertPath: string;
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

const CA_CERT = 'dev-ca.pem';
const CA_KEY = 'dev-ca-key.pem';
const LEAF_CERT = 'localhost.pem';
const LEAF_KEY = 'localhost-key.pem';

/**
 * Loads, or creates on first run, a development CA and a localhost leaf
 * certificate signed by it. Persisted in `dataDir` so that the CA a developer
 * put in NODE_EXTRA_CA_CERTS stays valid across restarts. The CA is created
 * with a library (node-forge), never by shelling out to openssl, which may be
 * missing on CI machines.
 */
export function loadOrCreateDevTls(dataDir: string): DevTlsMaterial {
  fs.mkdirSync(dataDir, { recursive: true });
  const caCertPath = path.join(dataDir, CA_CERT);
  const caKeyPath = path.join(dataDir, CA_KEY);
  const leafCertPath = path.join(dataDir, LEAF_CERT);
  const leafKeyPath = path.join(dataDir, LEAF_KEY);

  if (!fs.existsSync(caCertPath) || !fs.existsSync(caKeyPath)) {
    const ca = createCertificate({ isCa: true });
    writePrivate(caKeyPath, ca.keyPem);
    fs.writeFileSync(caCertPath, ca.certPem);
    // A new CA invalidates any earlier leaf.
    fs.rmSync(leafCertPath, { force: true });
  }
  const caCertPem = fs.readFileSync(caCertPath, 'utf8');
  const caKeyPem = fs.readFileSync(caKeyPath, 'utf8');

  if (!leafIsUsable(leafCertPath, caCertPem)) {
    const leaf = createCertificate({
      isCa: false,
      issuer: { certPem: caCertPem, keyPem: caKeyPem },
    });
    writePrivate(leafKeyPath, leaf.keyPem);
    fs.writeFileSync(leafCertPath, leaf.certPem);
  }
  return {
    caCertPath,
    caCertPem,
    certPem: fs.readFileSync(leafCertPath, 'utf8'),
    keyPem: fs.readFileSync(leafKeyPath, 'utf8'),
  };
}

function writePrivate(file: string, pem: string) {
  fs.writeFileSync(file, pem, { mode: 0o600 });
}

function leafIsUsable(leafCertPath: string, caCertPem: string): boolean {
  if (!fs.existsSync(leafCertPath)) return false;
  try {
    const leaf = forge.pki.certificateFromPem(
      fs.readFileSync(leafCertPath, 'utf8'),
    );
    const ca = forge.pki.certificateFromPem(caCertPem);
    const dayMs = 24 * 3600 * 1000;
    return (
      ca.verify(leaf) && leaf.validity.notAfter.getTime() - Date.now() > dayMs
    );
  } catch {
    return false;
  }
}

function createCertificate(options: {
  isCa: boolean;
  issuer?: { certPem: string; keyPem: string };
}): { certPem: string; keyPem: string } {
  // Node's key generation is native and fast; forge's is pure JS and slow.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(
    now + (options.isCa ? 3650 : 825) * 24 * 3600 * 1000,
  );
  const subject = options.isCa
    ? [
        // Unique per CA: TLS stacks pick an issuer by name, so two emulator
        // CAs with one name (e.g. after deleting dataDir) would shadow each other.
        {
          name: 'commonName',
          value: `Entra emulator development CA ${randomBytes(4).toString(
            'hex',
          )}`,
        },
        { name: 'organizationName', value: 'Entra emulator (not trusted)' },
      ]
    : [{ name: 'commonName', value: 'localhost' }];
  cert.setSubject(subject);

  let signingKey: forge.pki.PrivateKey;
  if (options.isCa) {
    cert.setIssuer(subject);
    signingKey = forge.pki.privateKeyFromPem(privateKey);
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ]);
  } else {
    const issuer = forge.pki.certificateFromPem(options.issuer!.certPem);
    cert.setIssuer(issuer.subject.attributes);
    signingKey = forge.pki.privateKeyFromPem(options.issuer!.keyPem);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      {
        name: 'keyUsage',
        digitalSignature: true,
        keyEncipherment: true,
        critical: true,
      },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
      { name: 'subjectKeyIdentifier' },
    ]);
  }
  cert.sign(signingKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privateKey };
}
