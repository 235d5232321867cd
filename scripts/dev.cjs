#!/usr/bin/env node
/*
 * `yarn dev`: the portal for development, against a real Entra test tenant
 * when AZURE_TENANT_ID, AZURE_CLIENT_ID and one credential variable
 * (AZURE_CLIENT_SECRET, AZURE_CLIENT_SECRET_FILE,
 * AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE) are set, and
 * otherwise against the bundled Entra emulator, started here.
 *
 *   yarn dev                  app on :3000 + backend on :7007
 *   yarn dev --backend-only   backend only (serves a built app; used by e2e)
 */
require('@backstage/cli-node/config/nodeTransform.cjs');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const TENANT_KEYS = ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID'];
// Azure's own variable names; app-config.yaml maps each to one credential key.
const CREDENTIAL_KEYS = [
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_SECRET_FILE',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_FEDERATED_TOKEN_FILE',
];

async function entraEnvironment() {
  const tenantSet = TENANT_KEYS.filter(k => process.env[k]);
  const credentialSet = CREDENTIAL_KEYS.filter(k => process.env[k]);
  if (tenantSet.length === TENANT_KEYS.length && credentialSet.length === 1) {
    console.log(
      `[dev] Entra mode: tenant ${process.env.AZURE_TENANT_ID} (from AZURE_* variables, credential ${credentialSet[0]}); the emulator is not started.\n` +
        '[dev] Sign in with an account of that tenant. Setup: docs/entra-setup.md',
    );
    return { env: {}, close: async () => {} };
  }
  if (credentialSet.length > 1) {
    throw new Error(
      `Set only one of ${CREDENTIAL_KEYS.join(', ')}; ${credentialSet.join(
        ' and ',
      )} are set`,
    );
  }
  if (tenantSet.length + credentialSet.length > 0) {
    const missing = [
      ...TENANT_KEYS.filter(k => !process.env[k]),
      ...(credentialSet.length ? [] : [`one of ${CREDENTIAL_KEYS.join(', ')}`]),
    ];
    throw new Error(
      `To use a real tenant set ${TENANT_KEYS.join(
        ', ',
      )} and one credential variable (${CREDENTIAL_KEYS.join(
        ', ',
      )}); to use the emulator set none of them. Missing: ${missing.join(
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
      '[dev] To use a real test tenant instead, set AZURE_TENANT_ID, AZURE_CLIENT_ID and one of AZURE_CLIENT_SECRET,\n' +
      '[dev] AZURE_CLIENT_SECRET_FILE, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE (docs/entra-setup.md).',
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

function findOnPath(command) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir || '.', command);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

// The interpreter mkdocs runs under, from its script's #! line: the plugin
// has to be importable there, not in whichever python3 comes first on PATH
// (pyenv, a venv).
function mkdocsPython(mkdocs) {
  let firstLine = '';
  try {
    firstLine = fs.readFileSync(mkdocs, 'utf8').split('\n', 1)[0];
  } catch {
    return 'python3';
  }
  const words = firstLine.replace(/^#!/, '').trim().split(/\s+/);
  const interpreter =
    path.basename(words[0] ?? '') === 'env' ? words[1] : words[0];
  return interpreter && /^python/.test(path.basename(interpreter))
    ? interpreter
    : 'python3';
}

/*
 * TechDocs (runIn: local) builds the Docs tab with the mkdocs on PATH, and
 * its generator adds the techdocs-core plugin to mkdocs.yml, which only pip
 * provides. When that mkdocs cannot import the plugin (Debian's mkdocs
 * package), the generator is told to leave it out (app-config.yaml,
 * TECHDOCS_OMIT_CORE_PLUGIN): plain mkdocs with its Material theme instead of
 * a failed build.
 */
function techdocsEnvironment() {
  if (process.env.TECHDOCS_OMIT_CORE_PLUGIN !== undefined) return {};
  const mkdocs = findOnPath('mkdocs');
  if (!mkdocs) {
    console.log(
      '[dev] TechDocs: mkdocs is not installed, so the Docs tab reports a failed build. ' +
        'Install `apt-get install mkdocs mkdocs-material` (Debian/Ubuntu) or `pip install mkdocs-techdocs-core`.',
    );
    return {};
  }
  const python = mkdocsPython(mkdocs);
  const canRun = code =>
    spawnSync(python, ['-c', code], { stdio: 'ignore' }).status === 0;
  if (canRun('import techdocs_core')) return {};
  // mkdocs.yml asks for the Material theme (what the TechDocs reader styles).
  const material = canRun(
    "from mkdocs.utils import get_theme_names; assert 'material' in get_theme_names()",
  );
  console.log(
    material
      ? `[dev] TechDocs: ${mkdocs} has no techdocs-core plugin, so docs build with plain mkdocs and Material ` +
          '(`pip install mkdocs-techdocs-core` for its Markdown extensions).'
      : `[dev] TechDocs: ${mkdocs} has neither techdocs-core nor the Material theme, so the Docs tab reports a failed build. ` +
          'Install `apt-get install mkdocs-material` (Debian/Ubuntu) or `pip install mkdocs-techdocs-core`.',
  );
  return { TECHDOCS_OMIT_CORE_PLUGIN: 'true' };
}

async function main() {
  const backendOnly = process.argv.includes('--backend-only');
  const entra = await entraEnvironment();
  const techdocs = techdocsEnvironment();
  const args = backendOnly
    ? ['workspace', 'backend', 'start']
    : ['backstage-cli', 'repo', 'start'];
  const child = spawn('yarn', args, {
    stdio: 'inherit',
    env: {
      // publish:local (app-config.yaml): development only, so only set here.
      LOCAL_PUBLISH_DIRECTORY: '../../.local-publish',
      ...process.env,
      ...techdocs,
      ...entra.env,
    },
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
