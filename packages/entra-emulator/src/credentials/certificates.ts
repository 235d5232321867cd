import {
  createHash,
  generateKeyPairSync,
  KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import forge from 'node-forge';

/** What {@link createSelfSignedCertificate} returns. */
export interface SelfSignedCertificate {
  /** The certificate alone: what is registered on the app (`keyCredentials`). */
  certificatePem: string;
  /** The private key alone (PKCS#8). */
  privateKeyPem: string;
  /** Key and certificate in one file: what `@azure/identity`'s `certificatePath` reads. */
  pem: string;
  /** SHA-1 of the DER certificate, hex upper case (Graph's `customKeyIdentifier`). */
  thumbprintSha1Hex: string;
  /** SHA-256 of the DER certificate, base64url (an assertion's `x5t#S256`). */
  thumbprintSha256Base64Url: string;
  notAfter: Date;
}

/**
 * Creates an RSA-2048 self-signed certificate for client assertions, as
 * `New-SelfSignedCertificate` or the Azure portal would for a test app.
 * node-forge writes the certificate (Node cannot); the key comes from Node's
 * native generator, which is fast.
 */
export function createSelfSignedCertificate(
  opts: { commonName?: string; notAfter?: Date; notBefore?: Date } = {},
): SelfSignedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - 60_000);
  const notAfter = opts.notAfter ?? new Date(now + 365 * 24 * 3600 * 1000);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  // X.509 stores whole seconds; keep the Date we return equal to what is stored.
  cert.validity.notBefore = new Date(
    Math.floor(notBefore.getTime() / 1000) * 1000,
  );
  cert.validity.notAfter = new Date(
    Math.floor(notAfter.getTime() / 1000) * 1000,
  );
  const subject = [
    { name: 'commonName', value: opts.commonName ?? 'entra-emulator-client' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  const certificatePem = forge.pki.certificateToPem(cert);
  const parsed = parseCertificate(certificatePem);
  return {
    certificatePem,
    privateKeyPem: privateKey,
    pem: `${privateKey.trim()}\n${certificatePem.trim()}\n`,
    thumbprintSha1Hex: parsed.thumbprintSha1Hex,
    thumbprintSha256Base64Url: parsed.thumbprintSha256Base64Url,
    notAfter: parsed.notAfter,
  };
}

/** The parts of a registered certificate the token endpoint and Graph need. */
export interface ParsedCertificate {
  certificatePem: string;
  /** SHA-1 thumbprint, hex upper case. */
  thumbprintSha1Hex: string;
  /** SHA-1 thumbprint, base64url: an assertion's `x5t`. */
  thumbprintSha1Base64Url: string;
  /** SHA-256 thumbprint, base64url: an assertion's `x5t#S256`. */
  thumbprintSha256Base64Url: string;
  subject: string;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
}

/** Why a certificate cannot be registered. */
export class CertificateError extends Error {}

/** Parses one PEM certificate; refuses anything else (a private key above all). */
export function parseCertificate(pem: string): ParsedCertificate {
  if (typeof pem !== 'string' || /PRIVATE KEY-----/.test(pem)) {
    throw new CertificateError(
      'Send the certificate only (-----BEGIN CERTIFICATE-----), never its private key.',
    );
  }
  const match =
    /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!match) {
    throw new CertificateError(
      'certificatePem must be a PEM certificate (-----BEGIN CERTIFICATE-----).',
    );
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(match[0]);
  } catch {
    throw new CertificateError(
      'certificatePem is not a valid X.509 certificate.',
    );
  }
  if (x509.publicKey.asymmetricKeyType !== 'rsa') {
    throw new CertificateError(
      'Only RSA certificates can sign client assertions (RS256/PS256).',
    );
  }
  const der = x509.raw;
  const sha1 = createHash('sha1').update(der).digest();
  return {
    certificatePem: `${match[0]}\n`,
    thumbprintSha1Hex: sha1.toString('hex').toUpperCase(),
    thumbprintSha1Base64Url: sha1.toString('base64url'),
    thumbprintSha256Base64Url: createHash('sha256')
      .update(der)
      .digest('base64url'),
    subject: x509.subject.replace(/\n/g, ', '),
    publicKey: x509.publicKey,
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
  };
}
