import {
  createHash,
  createPrivateKey,
  KeyObject,
  X509Certificate,
} from 'node:crypto';

/**
 * The private key and certificate(s) of one PEM file, in the layout
 * `@azure/identity`'s `certificatePath` takes: the key and the certificate
 * (optionally followed by its chain) in one file.
 */
export interface ClientCertificate {
  privateKey: KeyObject;
  /** The key as unencrypted PKCS#8 PEM, as MSAL takes it. */
  privateKeyPem: string;
  /** The leaf certificate, then the rest of the chain, as PEM. */
  certificatesPem: string[];
  /** Base64 DER of each certificate, for the `x5c` header. */
  x5c: string[];
  /** SHA-1 thumbprint, upper-case hex: what Entra shows and Graph's customKeyIdentifier. */
  thumbprintSha1Hex: string;
  /** SHA-256 thumbprint, hex: what MSAL's `thumbprintSha256` takes. */
  thumbprintSha256Hex: string;
  /** base64url SHA-1 thumbprint: the assertion's `x5t` header. */
  x5t: string;
  /** base64url SHA-256 thumbprint: the assertion's `x5t#S256` header. */
  x5tS256: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

/**
 * Parses a PEM with a private key and its certificate. Errors say what is
 * wrong with the file's shape and never quote its content.
 */
export function parseClientCertificate(pem: string): ClientCertificate {
  const blocks = [...pem.matchAll(PEM_BLOCK)].map(m => ({
    label: m[1],
    text: m[0],
  }));
  if (blocks.length === 0) {
    throw new Error('it holds no PEM block (-----BEGIN ...-----)');
  }
  if (blocks.some(b => b.label === 'ENCRYPTED PRIVATE KEY')) {
    throw new Error(
      'its private key is encrypted; export it without a password (e.g. openssl pkcs12 -nodes)',
    );
  }
  const keyBlock = blocks.find(b => /^(RSA |EC )?PRIVATE KEY$/.test(b.label));
  if (!keyBlock) {
    throw new Error(
      'it holds no private key; put the key and the certificate in one PEM file',
    );
  }
  const certBlocks = blocks.filter(b => b.label === 'CERTIFICATE');
  if (certBlocks.length === 0) {
    throw new Error(
      'it holds no certificate; put the key and the certificate in one PEM file',
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyBlock.text);
  } catch {
    throw new Error('its private key cannot be read');
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new Error(
      `its key is ${privateKey.asymmetricKeyType}, but Entra client certificates must be RSA`,
    );
  }
  let certificates: X509Certificate[];
  try {
    certificates = certBlocks.map(b => new X509Certificate(b.text));
  } catch {
    throw new Error('a certificate in it cannot be read');
  }
  const leaf = certificates.find(c => c.checkPrivateKey(privateKey));
  if (!leaf) {
    throw new Error('no certificate in it belongs to its private key');
  }
  // The leaf first: x5c and the thumbprint are the leaf's.
  const ordered = [leaf, ...certificates.filter(c => c !== leaf)];
  const sha1 = createHash('sha1').update(leaf.raw).digest();
  const sha256 = createHash('sha256').update(leaf.raw).digest();
  return {
    privateKey,
    privateKeyPem: privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string,
    certificatesPem: ordered.map(c => c.toString()),
    x5c: ordered.map(c => c.raw.toString('base64')),
    thumbprintSha1Hex: sha1.toString('hex').toUpperCase(),
    thumbprintSha256Hex: sha256.toString('hex'),
    x5t: sha1.toString('base64url'),
    x5tS256: sha256.toString('base64url'),
    subject: leaf.subject.replace(/\n/g, ', '),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
  };
}
