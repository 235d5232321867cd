#!/usr/bin/env node
/*
 * What the portal app's credential costs per token request
 * (packages/entra-credentials): the rotation check (one stat of the file,
 * through a Kubernetes-style ..data symlink) and building the client
 * authentication for one request, for a client secret file, a certificate
 * (a fresh PS256 assertion, RSA-2048) and a federated token file. Prints
 * microseconds per call (p50/p95); asserts nothing. A token request itself
 * (network, Entra) costs milliseconds on top; sign-in makes one per
 * sign-in and refresh, Graph and on-behalf-of one per cached-token miss.
 *
 *   bash scripts/toolchain.sh node bench/credential-cost.cjs [--calls 2000]
 */
require('@backstage/cli-node/config/nodeTransform.cjs');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { ConfigReader } = require('@backstage/config');
const { quantile } = require('./lib/quantiles.cjs');
const { readEntraAppCredential } = require('@internal/entra-credentials');
const { createSelfSignedCertificate } = require('@internal/entra-emulator');

const { values: opts } = parseArgs({
  options: { calls: { type: 'string', default: '2000' } },
});
const calls = Number(opts.calls);
const ENDPOINT = 'https://login.microsoftonline.com/tenant/oauth2/v2.0/token';

/** Mounts `content` as Kubernetes mounts a Secret: name -> ..data/name. */
function mount(dir, name, content) {
  const version = path.join(dir, '..v1');
  fs.mkdirSync(version);
  fs.writeFileSync(path.join(version, name), content);
  fs.symlinkSync('..v1', path.join(dir, '..data'));
  fs.symlinkSync(path.join('..data', name), path.join(dir, name));
  return path.join(dir, name);
}

async function measure(fn) {
  const samples = [];
  for (let i = 0; i < calls; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  return `p50 ${quantile(samples, 0.5).toFixed(1)} µs, p95 ${quantile(
    samples,
    0.95,
  ).toFixed(1)} µs`;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credential-bench-'));
  const cert = createSelfSignedCertificate();
  const fakeToken = [
    Buffer.from('{"alg":"RS256"}').toString('base64url'),
    Buffer.from(
      JSON.stringify({
        iss: 'https://oidc.example',
        sub: 'system:serviceaccount:portal:backstage',
        aud: 'api://AzureADTokenExchange',
        exp: Math.floor(Date.now() / 1000) + 3600,
      }),
    ).toString('base64url'),
    'c2ln',
  ].join('.');
  const kinds = {
    'secret file': { clientSecretFile: ['secret', 'a-client-secret-value'] },
    certificate: { clientCertificatePath: ['tls.pem', cert.pem] },
    federated: { federatedTokenFile: ['token', fakeToken] },
  };
  // Old enough that the racy-stamp window (2 s) is over, as in steady state.
  await new Promise(r => setTimeout(r, 2100));
  const mounted = {};
  for (const [kind, spec] of Object.entries(kinds)) {
    const [key, [name, content]] = Object.entries(spec)[0];
    const sub = path.join(dir, kind.replace(' ', '-'));
    fs.mkdirSync(sub);
    mounted[kind] = { key, file: mount(sub, name, content) };
  }
  await new Promise(r => setTimeout(r, 2100));
  console.log(`${calls} calls each, this machine (${os.cpus().length} cores)`);
  for (const [kind, { key, file }] of Object.entries(mounted)) {
    const credential = readEntraAppCredential(
      new ConfigReader({ [key]: file }),
      { clientId: '11111111-2222-3333-4444-555555555555' },
    );
    console.log(
      `${kind.padEnd(12)} rotation check (currentVersion): ${await measure(() =>
        credential.currentVersion(),
      )}`,
    );
    console.log(
      `${kind.padEnd(12)} tokenEndpointAuth:               ${await measure(() =>
        credential.tokenEndpointAuth(ENDPOINT),
      )}`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
