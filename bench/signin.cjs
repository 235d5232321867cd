#!/usr/bin/env node
/*
 * Sign-in round trip through the real backend and the Entra emulator:
 * start → emulator login page → callback → Backstage identity, timed over
 * 200 sign-ins (median, p95); and the sizes of the Backstage token and the
 * session cookie for a person in 300 groups (nested ownership via catalog).
 *
 *   bash scripts/toolchain.sh node bench/signin.cjs [--runs 200]
 *
 * Uses ports 7007 (backend) and 8400/8401 (emulator): stop `yarn dev` first.
 */
require('@backstage/cli-node/config/nodeTransform.cjs');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createEntraEmulator } = require('@internal/entra-emulator');
const { signInThroughBrowser } = require('@internal/entra-emulator/testUtils');

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 200;
const root = path.resolve(__dirname, '..');
const backendUrl = 'http://localhost:7007';

function cookieHeader(res) {
  const jar = new Map();
  for (const c of res.headers.getSetCookie()) {
    const pair = c.split(';')[0];
    const i = pair.indexOf('=');
    if (pair.slice(i + 1)) jar.set(pair.slice(0, i), pair.slice(i + 1));
    else jar.delete(pair.slice(0, i));
  }
  return [...jar].map(([n, v]) => `${n}=${v}`).join('; ');
}

async function signIn(upn) {
  const start = await fetch(
    `${backendUrl}/api/auth/microsoft/start?env=development`,
    { redirect: 'manual' },
  );
  const cookie = cookieHeader(start);
  const login = await signInThroughBrowser(start.headers.get('location'), upn);
  const callback = new URL(login.headers.get('location'));
  const frame = await fetch(
    `${backendUrl}/api/auth/microsoft/handler/frame${callback.search}`,
    {
      headers: { cookie },
    },
  );
  const html = await frame.text();
  const encoded = /decodeURIComponent\('([^']*)'\)/.exec(html)[1];
  return {
    popup: JSON.parse(decodeURIComponent(encoded)),
    setCookies: frame.headers.getSetCookie(),
  };
}

/** A seed where Noah Novak is in 300 groups instead of 210. */
function seedWith300Groups(dir) {
  const source = path.join(root, 'packages/entra-emulator/seed/tenant.yaml');
  const yaml = fs
    .readFileSync(source, 'utf8')
    .replace(/groupRules:\n  - count: 210/, 'groupRules:\n  - count: 300');
  const file = path.join(dir, 'tenant-300.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

const quantile = (sorted, q) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-signin-'));
  const emulator = await createEntraEmulator({
    seed: seedWith300Groups(dir),
    dataDir: dir,
  });
  const backend = spawn('yarn', ['workspace', 'backend', 'start'], {
    cwd: root,
    detached: true,
    stdio: 'ignore',
    env: {
      ...process.env,
      AZURE_TENANT_ID: emulator.tenantId,
      AZURE_CLIENT_ID: emulator.apps.portal.clientId,
      AZURE_CLIENT_SECRET: emulator.apps.portal.clientSecret,
      ENTRA_AUTHORITY: emulator.authority,
      ENTRA_AUTHORITY_HOST: emulator.httpsUrl,
      ENTRA_GRAPH_URL: emulator.graphBaseUrl,
      NODE_EXTRA_CA_CERTS: emulator.caCertPath,
    },
  });
  try {
    // Ready once ingestion has reached the catalog and the person can sign in.
    const deadline = Date.now() + 240_000;
    for (;;) {
      try {
        const { popup } = await signIn('noah.novak@contoso.example');
        if (popup.response) break;
      } catch {
        /* backend not up yet */
      }
      if (Date.now() > deadline)
        throw new Error('backend never accepted a sign-in');
      await new Promise(r => setTimeout(r, 1000));
    }

    const times = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const { popup } = await signIn('ada.admin@contoso.example');
      times.push(performance.now() - t0);
      if (!popup.response) throw new Error(JSON.stringify(popup.error));
    }
    times.sort((a, b) => a - b);

    const { popup, setCookies } = await signIn('noah.novak@contoso.example');
    const { identity, token } = popup.response.backstageIdentity;
    // Backstage first clears the cookie of an older path, then sets it.
    const refresh =
      setCookies.filter(c => /^microsoft-refresh-token=[^;]/.test(c)).pop() ??
      '';
    console.log(
      `sign-in round trip (${runs} runs)              median ${quantile(
        times,
        0.5,
      ).toFixed(1)} ms, p95 ${quantile(times, 0.95).toFixed(1)} ms`,
    );
    console.log(
      `person in 300 groups: ownership refs           ${identity.ownershipEntityRefs.length}`,
    );
    console.log(
      `person in 300 groups: Backstage token          ${Buffer.byteLength(
        token,
      )} bytes`,
    );
    console.log(
      `person in 300 groups: refresh-token cookie     ${Buffer.byteLength(
        refresh.split(';')[0],
      )} bytes`,
    );
    console.log(
      `person in 300 groups: all Set-Cookie headers   ${setCookies.reduce(
        (n, c) => n + Buffer.byteLength(c),
        0,
      )} bytes`,
    );
  } finally {
    process.kill(-backend.pid, 'SIGTERM');
    await emulator.close();
  }
}

main().then(
  () => process.exit(0),
  error => {
    console.error(error);
    process.exit(1);
  },
);
