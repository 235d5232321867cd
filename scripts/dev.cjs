#!/usr/bin/env node
/*
 * `yarn dev`: the portal for development, against a real Entra test tenant
 * when AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set, and
 * otherwise against the bundled Entra emulator, started here.
 *
 *   yarn dev                  app on :3000 + backend on :7007
 *   yarn dev --backend-only   backend only (serves a built app; used by e2e)
 */
require('@backstage/cli-node/config/nodeTransform.cjs');
const { spawn } = require('node:child_process');

const TENANT_KEYS = [
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
];

async function entraEnvironment() {
  const set = TENANT_KEYS.filter(k => process.env[k]);
  if (set.length === TENANT_KEYS.length) {
    console.log(
      `[dev] Entra mode: tenant ${process.env.AZURE_TENANT_ID} (from AZURE_* variables); the emulator is not started.\n` +
        '[dev] Sign in with an account of that tenant. Setup: docs/entra-setup.md',
    );
    return { env: {}, close: async () => {} };
  }
  if (set.length > 0) {
    const missing = TENANT_KEYS.filter(k => !process.env[k]);
    throw new Error(
      `Set all of ${TENANT_KEYS.join(
        ', ',
      )} to use a real tenant, or none to use the emulator; missing ${missing.join(
        ', ',
      )}`,
    );
  }
  const { createEntraEmulator } = require('@internal/entra-emulator');
  const emulator = await createEntraEmulator({});
  const { portal } = emulator.apps;
  const people = emulator.seed.users
    .filter(u => u.accountEnabled !== false)
    .slice(0, 8)
    .map(u => `  - ${u.displayName} <${u.userPrincipalName}>`)
    .join('\n');
  console.log(
    `[dev] Emulator mode: no AZURE_* variables, so the bundled Entra emulator runs at ${emulator.httpUrl} (tenant ${emulator.tenantId}).\n` +
      '[dev] Open http://localhost:3000, choose "Sign in", and pick a seeded person, e.g.:\n' +
      `${people}\n` +
      '[dev] To use a real test tenant instead, set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET.',
  );
  return {
    env: {
      AZURE_TENANT_ID: emulator.tenantId,
      AZURE_CLIENT_ID: portal.clientId,
      AZURE_CLIENT_SECRET: portal.clientSecret,
      ENTRA_AUTHORITY: emulator.authority,
      ENTRA_AUTHORITY_HOST: emulator.httpsUrl,
      ENTRA_GRAPH_URL: emulator.graphBaseUrl,
      // Only processes started here trust the emulator's development CA.
      NODE_EXTRA_CA_CERTS: emulator.caCertPath,
    },
    close: () => emulator.close(),
  };
}

async function main() {
  const backendOnly = process.argv.includes('--backend-only');
  const entra = await entraEnvironment();
  const args = backendOnly
    ? ['workspace', 'backend', 'start']
    : ['backstage-cli', 'repo', 'start'];
  const child = spawn('yarn', args, {
    stdio: 'inherit',
    env: { ...process.env, ...entra.env },
  });
  const stop = signal => child.kill(signal);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', async code => {
    await entra.close();
    process.exit(code ?? 0);
  });
}

main().catch(error => {
  console.error(`[dev] ${error.message}`);
  process.exit(1);
});
