#!/usr/bin/env node
/*
 * What each kind of client authentication costs at the emulator's token
 * endpoint: client_credentials requests per second and latency with a client
 * secret, a certificate-signed assertion (private_key_jwt, a fresh one per
 * request) and a federated token (workload identity, issuer keys cached).
 * Client and emulator share one process, so the certificate row includes the
 * client's RSA signing; kinds run one after the other on a shared machine,
 * so compare rows of one run only.
 *
 *   node bench/emulator-client-auth.cjs [--seconds 5] [--concurrency 4]
 *
 * Runs the package's TypeScript source directly (backstage-cli's transform).
 */
require('@backstage/cli/config/nodeTransform.cjs');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createPrivateKey, randomUUID } = require('node:crypto');
const { parseArgs } = require('node:util');
const {
  createEntraEmulator,
  createSelfSignedCertificate,
  startWorkloadIdentityIssuer,
} = require('../packages/entra-emulator/src');

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '4' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const SUBJECT = 'system:serviceaccount:portal:backstage';

async function main() {
  const { SignJWT } = await import('jose');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-client-auth-'));
  const emulator = await createEntraEmulator({
    httpPort: 0,
    httpsPort: 0,
    dataDir,
  });
  const k8s = await startWorkloadIdentityIssuer();
  const cert = createSelfSignedCertificate();
  const key = createPrivateKey(cert.privateKeyPem);
  const { clientId, clientSecret } = emulator.apps.portal;
  emulator.addAppCertificate('portal', cert.certificatePem);
  emulator.addFederatedCredential('portal', {
    issuer: k8s.issuer,
    subject: SUBJECT,
  });
  const tokenUrl = `${emulator.httpUrl}/${emulator.tenantId}/oauth2/v2.0/token`;
  const saToken = await k8s.mintToken({ subject: SUBJECT });

  const kinds = {
    secret: async () => ({ client_secret: clientSecret }),
    certificate: async () => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({
        iss: clientId,
        sub: clientId,
        aud: tokenUrl,
        jti: randomUUID(),
        nbf: now,
        exp: now + 600,
      })
        .setProtectedHeader({
          alg: 'RS256',
          'x5t#S256': cert.thumbprintSha256Base64Url,
        })
        .sign(key);
      return {
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: assertion,
      };
    },
    federated: async () => ({
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: saToken,
    }),
  };

  console.log(
    `client_credentials for ${seconds} s each, ${concurrency} concurrent, plain http`,
  );
  for (const [name, credential] of Object.entries(kinds)) {
    const latencies = [];
    let failures = 0;
    const end = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < end) {
          const start = process.hrtime.bigint();
          const res = await fetch(tokenUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              grant_type: 'client_credentials',
              client_id: clientId,
              scope: 'https://graph.microsoft.com/.default',
              ...(await credential()),
            }),
          });
          await res.arrayBuffer();
          if (res.status !== 200) failures++;
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const at = q =>
      latencies[
        Math.min(latencies.length - 1, Math.floor(q * latencies.length))
      ];
    console.log(
      `${name.padEnd(12)} ${(latencies.length / seconds)
        .toFixed(0)
        .padStart(6)} req/s  p50 ${at(0.5).toFixed(1)} ms  p95 ${at(
        0.95,
      ).toFixed(1)} ms  failures ${failures}`,
    );
  }
  await k8s.close();
  await emulator.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
