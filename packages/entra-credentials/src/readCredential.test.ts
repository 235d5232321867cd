import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { ConfigReader } from '@backstage/config';
import { createSelfSignedCertificate } from '@internal/entra-emulator';
import {
  decodeProtectedHeader,
  importX509,
  jwtVerify,
  SignJWT,
  generateKeyPair,
} from 'jose';
import { readEntraAppCredential } from './readCredential';

const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const PREFIX = 'auth.providers.microsoft.development';
const TOKEN_ENDPOINT =
  'https://login.example/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-credentials-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function logger() {
  const lines: string[] = [];
  return {
    lines,
    info: (m: string) => lines.push(`info ${m}`),
    warn: (m: string) => lines.push(`warn ${m}`),
  };
}

const read = (data: object, log = logger()) =>
  readEntraAppCredential(new ConfigReader(data as any), {
    clientId: CLIENT_ID,
    keyPrefix: PREFIX,
    logger: log,
  });

const file = (name: string, content: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
};

/** A JWT shaped like a projected service-account token (signature irrelevant here). */
async function serviceAccountToken(claims: {
  sub?: string;
  aud?: string;
  iss?: string;
}) {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(claims.iss ?? 'https://oidc.cluster.example')
    .setSubject(claims.sub ?? 'system:serviceaccount:portal:backstage')
    .setAudience(claims.aud ?? 'api://AzureADTokenExchange')
    .setExpirationTime('1h')
    .sign(privateKey);
}

/** Replaces what `link` points at, as the kubelet does with `..data`. */
function swapKubernetesStyle(mount: string, name: string, content: string) {
  const version = path.join(mount, `..v${Date.now()}${Math.random()}`);
  fs.mkdirSync(version);
  fs.writeFileSync(path.join(version, name), content);
  const tmp = path.join(mount, '..data_tmp');
  fs.symlinkSync(path.basename(version), tmp);
  fs.renameSync(tmp, path.join(mount, '..data'));
}

function kubernetesMount(name: string, content: string) {
  const mount = path.join(dir, 'mount');
  fs.mkdirSync(mount);
  swapKubernetesStyle(mount, name, content);
  fs.symlinkSync(path.join('..data', name), path.join(mount, name));
  return path.join(mount, name);
}

describe('readEntraAppCredential: which credential', () => {
  it('refuses none, naming the four keys', () => {
    expect(() => read({})).toThrow(
      `The portal's Entra app has no credential: set one of ${PREFIX}.clientSecret, ${PREFIX}.clientSecretFile, ${PREFIX}.clientCertificatePath, ${PREFIX}.federatedTokenFile`,
    );
  });

  it('refuses two or more, naming the ones set and not their values', () => {
    const secretFile = file('secret', 's3cr3t-value');
    let message = '';
    try {
      read({
        clientSecret: 'inline-secret-value',
        clientSecretFile: secretFile,
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(
      `The portal's Entra app has more than one credential: ${PREFIX}.clientSecret and ${PREFIX}.clientSecretFile are set; keep exactly one of them.`,
    );
    expect(message).not.toContain('inline-secret-value');
  });

  it('counts an empty value (a variable set to nothing) as not set', () => {
    const credential = read({
      clientSecret: 'the-secret',
      federatedTokenFile: '',
    });
    expect(credential.kind).toBe('secret');
  });

  it('names the key in errors as the caller says (yarn doctor: variables)', () => {
    expect(() =>
      readEntraAppCredential(new ConfigReader({}), {
        clientId: CLIENT_ID,
        keyName: k => `AZURE_${k}`,
      }),
    ).toThrow(/set one of AZURE_clientSecret, AZURE_clientSecretFile/);
  });
});

describe('client secret', () => {
  it('inline: sends it as client_secret and never describes it', async () => {
    const credential = read({ clientSecret: 'the-secret' });
    expect(credential.kind).toBe('secret');
    await expect(credential.tokenEndpointAuth(TOKEN_ENDPOINT)).resolves.toEqual(
      {
        client_secret: 'the-secret',
      },
    );
    expect(credential.msalAuth()).toEqual({ clientSecret: 'the-secret' });
    expect(JSON.stringify(credential.describe())).not.toContain('the-secret');
    expect(credential.describe()).toEqual({
      kind: 'secret',
      key: `${PREFIX}.clientSecret`,
    });
  });

  it('from a file: trims the newline an editor or echo adds', async () => {
    const credential = read({
      clientSecretFile: file('secret', 'from-file\n'),
    });
    await expect(credential.tokenEndpointAuth(TOKEN_ENDPOINT)).resolves.toEqual(
      {
        client_secret: 'from-file',
      },
    );
  });

  it('a missing file fails startup naming the key and the path', () => {
    const missing = path.join(dir, 'nope');
    expect(() => read({ clientSecretFile: missing })).toThrow(
      `${PREFIX}.clientSecretFile names ${missing}, which cannot be read (no such file); mount the file there or change ${PREFIX}.clientSecretFile.`,
    );
  });

  it('an empty file fails startup', () => {
    expect(() => read({ clientSecretFile: file('secret', '\n') })).toThrow(
      /clientSecretFile names .*secret, which is not usable: it is empty/,
    );
  });

  it('a rotated secret file is used from the next call, logged once without the secret', async () => {
    const log = logger();
    const mounted = kubernetesMount('client-secret', 'first-secret');
    const credential = read({ clientSecretFile: mounted }, log);
    expect(credential.currentVersion()).toBe(1);
    swapKubernetesStyle(
      path.dirname(mounted),
      'client-secret',
      'second-secret',
    );
    await expect(credential.tokenEndpointAuth(TOKEN_ENDPOINT)).resolves.toEqual(
      {
        client_secret: 'second-secret',
      },
    );
    expect(credential.currentVersion()).toBe(2);
    expect(credential.currentVersion()).toBe(2);
    expect(log.lines).toEqual([
      expect.stringMatching(
        /^info The Entra app credential in .*client-secret .* changed/,
      ),
    ]);
    expect(log.lines.join()).not.toMatch(/first-secret|second-secret/);
  });

  it('a file rewritten in place with the same size right away is still seen', async () => {
    const p = file('secret', 'aaaa');
    const credential = read({ clientSecretFile: p });
    fs.writeFileSync(p, 'bbbb');
    expect(credential.msalAuth()).toEqual({ clientSecret: 'bbbb' });
  });
});

describe('certificate', () => {
  const cert = createSelfSignedCertificate({ commonName: 'portal' });

  it('signs a fresh assertion for the token endpoint with Entra’s headers and claims', async () => {
    const credential = read({
      clientCertificatePath: file('cert.pem', cert.pem),
    });
    expect(credential.kind).toBe('certificate');
    const first = await credential.tokenEndpointAuth(TOKEN_ENDPOINT);
    const second = await credential.tokenEndpointAuth(TOKEN_ENDPOINT);
    expect(first.client_assertion_type).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    expect(first).not.toHaveProperty('client_secret');
    const publicKey = await importX509(cert.certificatePem, 'PS256');
    const { payload, protectedHeader } = await jwtVerify(
      first.client_assertion,
      publicKey,
      { issuer: CLIENT_ID, subject: CLIENT_ID, audience: TOKEN_ENDPOINT },
    );
    expect(protectedHeader['x5t#S256']).toBe(cert.thumbprintSha256Base64Url);
    expect(protectedHeader.x5t).toBe(
      Buffer.from(cert.thumbprintSha1Hex, 'hex').toString('base64url'),
    );
    expect(protectedHeader.x5c).toBeUndefined();
    expect(payload.exp! - payload.nbf!).toBeLessThanOrEqual(600);
    expect(payload.jti).toBeTruthy();
    const { payload: again } = await jwtVerify(
      second.client_assertion,
      publicKey,
    );
    expect(again.jti).not.toBe(payload.jti);
  });

  it('describes thumbprint, subject and expiry, never the key', () => {
    const p = file('cert.pem', cert.pem);
    const d = read({ clientCertificatePath: p }).describe();
    expect(d).toEqual({
      kind: 'certificate',
      key: `${PREFIX}.clientCertificatePath`,
      path: p,
      thumbprint: cert.thumbprintSha1Hex,
      subject: 'CN=portal',
      notAfter: cert.notAfter,
    });
  });

  it('gives MSAL the SHA-256 thumbprint and key, and x5c only when asked', () => {
    const p = file('cert.pem', cert.pem);
    const plain = read({ clientCertificatePath: p }).msalAuth() as any;
    expect(plain.clientCertificate.thumbprintSha256).toBe(
      Buffer.from(cert.thumbprintSha256Base64Url, 'base64url').toString('hex'),
    );
    expect(plain.clientCertificate.privateKey).toMatch(
      /^-----BEGIN PRIVATE KEY-----/,
    );
    expect(plain.clientCertificate.x5c).toBeUndefined();
    const withChain = read({
      clientCertificatePath: p,
      clientCertificateSendX5c: true,
    }).msalAuth() as any;
    expect(withChain.clientCertificate.x5c).toContain('BEGIN CERTIFICATE');
  });

  it('sends x5c in the assertion when clientCertificateSendX5c is set', async () => {
    const credential = read({
      clientCertificatePath: file('cert.pem', cert.pem),
      clientCertificateSendX5c: true,
    });
    const { client_assertion } = await credential.tokenEndpointAuth(
      TOKEN_ENDPOINT,
    );
    expect(decodeProtectedHeader(client_assertion).x5c).toHaveLength(1);
  });

  it.each([
    [
      'the certificate alone',
      () => cert.certificatePem,
      /it holds no private key/,
    ],
    ['the key alone', () => cert.privateKeyPem, /it holds no certificate/],
    ['not a PEM', () => 'hello', /it holds no PEM block/],
    [
      'a key with another key’s certificate',
      () =>
        `${createSelfSignedCertificate().privateKeyPem}\n${
          cert.certificatePem
        }`,
      /no certificate in it belongs to its private key/,
    ],
    [
      'an EC key',
      () =>
        `${generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export(
          {
            type: 'pkcs8',
            format: 'pem',
          },
        )}\n${cert.certificatePem}`,
      /its key is ec, but Entra client certificates must be RSA/,
    ],
    [
      'an encrypted key',
      () =>
        `${generateKeyPairSync('rsa', {
          modulusLength: 2048,
        }).privateKey.export({
          type: 'pkcs8',
          format: 'pem',
          cipher: 'aes-256-cbc',
          passphrase: 'pw',
        })}\n${cert.certificatePem}`,
      /its private key is encrypted/,
    ],
  ])(
    '%s fails startup naming the key and path, not the content',
    (_, content, reason) => {
      const body = content();
      const p = file('cert.pem', body);
      let message = '';
      try {
        read({ clientCertificatePath: p });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain(
        `${PREFIX}.clientCertificatePath names ${p}, which is not usable`,
      );
      expect(message).toMatch(reason);
      for (const line of body
        .split('\n')
        .filter(l => l && !l.startsWith('-----'))) {
        expect(message).not.toContain(line);
      }
    },
  );

  it('an expired certificate fails startup, saying when it expired', () => {
    const expired = createSelfSignedCertificate({
      notBefore: new Date(Date.now() - 2 * 86400_000),
      notAfter: new Date(Date.now() - 86400_000),
    });
    expect(() =>
      read({ clientCertificatePath: file('cert.pem', expired.pem) }),
    ).toThrow(`whose certificate expired on ${expired.notAfter.toISOString()}`);
  });

  it('a rotated certificate signs the next assertion; a half-written one keeps the last good, logged once', async () => {
    const log = logger();
    const mounted = kubernetesMount('tls.pem', cert.pem);
    const credential = read({ clientCertificatePath: mounted }, log);
    const next = createSelfSignedCertificate({ commonName: 'portal-2' });
    swapKubernetesStyle(path.dirname(mounted), 'tls.pem', next.pem);

    const rotated = await credential.tokenEndpointAuth(TOKEN_ENDPOINT);
    expect(decodeProtectedHeader(rotated.client_assertion)['x5t#S256']).toBe(
      next.thumbprintSha256Base64Url,
    );
    await jwtVerify(
      rotated.client_assertion,
      await importX509(next.certificatePem, 'PS256'),
    );
    expect(credential.currentVersion()).toBe(2);
    expect(credential.describe().thumbprint).toBe(next.thumbprintSha1Hex);
    expect(log.lines).toEqual([
      expect.stringContaining(`thumbprint ${next.thumbprintSha1Hex}`),
    ]);

    // Half a file: the key and a truncated certificate.
    const broken = next.pem.slice(0, next.pem.length - 200);
    swapKubernetesStyle(path.dirname(mounted), 'tls.pem', broken);
    const kept = await credential.tokenEndpointAuth(TOKEN_ENDPOINT);
    await credential.tokenEndpointAuth(TOKEN_ENDPOINT);
    expect(decodeProtectedHeader(kept.client_assertion)['x5t#S256']).toBe(
      next.thumbprintSha256Base64Url,
    );
    expect(credential.currentVersion()).toBe(2);
    const warnings = log.lines.filter(l => l.startsWith('warn'));
    expect(warnings).toEqual([
      expect.stringMatching(
        /tls\.pem .* changed but is not usable: it holds no certificate.*; the last good one stays in use/,
      ),
    ]);
    expect(log.lines.join()).not.toContain('BEGIN');

    // The file vanishing for a moment (a broken mount) keeps it too.
    fs.rmSync(path.join(path.dirname(mounted), '..data'));
    expect(credential.currentVersion()).toBe(2);
    expect(log.lines.filter(l => l.startsWith('warn'))).toHaveLength(2);
  });
});

describe('federated token', () => {
  it('sends the token file’s current content as the client assertion', async () => {
    const token = await serviceAccountToken({});
    const credential = read({
      federatedTokenFile: file('token', `${token}\n`),
    });
    expect(credential.kind).toBe('federated');
    await expect(credential.tokenEndpointAuth(TOKEN_ENDPOINT)).resolves.toEqual(
      {
        client_assertion_type:
          'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: token,
      },
    );
    const auth = credential.msalAuth() as {
      clientAssertion: () => Promise<string>;
    };
    await expect(auth.clientAssertion()).resolves.toBe(token);
  });

  it('describes issuer, subject and expiry, never the token', async () => {
    const token = await serviceAccountToken({});
    const d = read({ federatedTokenFile: file('token', token) }).describe();
    expect(d).toEqual({
      kind: 'federated',
      key: `${PREFIX}.federatedTokenFile`,
      path: expect.stringContaining('token'),
      tokenIssuer: 'https://oidc.cluster.example',
      tokenSubject: 'system:serviceaccount:portal:backstage',
      tokenExpiresAt: expect.any(Date),
    });
    expect(JSON.stringify(d)).not.toContain(token);
  });

  it('a token for another audience fails startup, naming it and the key to set', async () => {
    const token = await serviceAccountToken({
      aud: 'https://kubernetes.default.svc',
    });
    expect(() => read({ federatedTokenFile: file('token', token) })).toThrow(
      /its token is for audience https:\/\/kubernetes\.default\.svc, not api:\/\/AzureADTokenExchange; project the token with that audience or set federatedTokenAudience/,
    );
    expect(
      read({
        federatedTokenFile: file('token', token),
        federatedTokenAudience: 'https://kubernetes.default.svc',
      }).kind,
    ).toBe('federated');
  });

  it('a file that is not a JWT fails startup', () => {
    expect(() =>
      read({ federatedTokenFile: file('token', 'not a token') }),
    ).toThrow(
      /federatedTokenFile names .*token, which is not usable: it does not hold a JWT/,
    );
  });

  it('a refreshed token is used at once without a new version (clients keep their cache); garbage keeps the last good', async () => {
    const log = logger();
    const first = await serviceAccountToken({});
    const mounted = kubernetesMount('token', first);
    const credential = read({ federatedTokenFile: mounted }, log);
    const second = await serviceAccountToken({});
    swapKubernetesStyle(path.dirname(mounted), 'token', second);
    expect(
      (await credential.tokenEndpointAuth(TOKEN_ENDPOINT)).client_assertion,
    ).toBe(second);
    expect(credential.currentVersion()).toBe(1);
    swapKubernetesStyle(path.dirname(mounted), 'token', '');
    expect(
      (await credential.tokenEndpointAuth(TOKEN_ENDPOINT)).client_assertion,
    ).toBe(second);
    expect(log.lines.join()).not.toContain(second);
    expect(log.lines.filter(l => l.startsWith('warn'))).toHaveLength(1);
  });
});
