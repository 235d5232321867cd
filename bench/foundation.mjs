#!/usr/bin/env node
// Foundation numbers: clean-cache install time, time from backend start to
// first healthy answer (development and production), and the built app's
// initial JavaScript (raw and gzip). Prints numbers; asserts nothing.
//
//   bash scripts/toolchain.sh node bench/foundation.mjs [--skip-install]
//
// Production start uses the built backend (`yarn build:backend`, run first if
// packages/backend/dist is missing) against the local PostgreSQL.
import { execSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..');
const args = new Set(process.argv.slice(2));
const sh = (cmd, opts = {}) =>
  execSync(cmd, { cwd: root, stdio: 'inherit', ...opts });
const seconds = ms => (ms / 1000).toFixed(1);

function installFromCleanCache() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-install-'));
  try {
    sh(`git clone -q ${root} ${dir}/repo`);
    const start = Date.now();
    sh('yarn install --immutable > install.log 2>&1', {
      cwd: `${dir}/repo`,
      env: {
        ...process.env,
        YARN_ENABLE_GLOBAL_CACHE: 'false',
        YARN_CACHE_FOLDER: `${dir}/cache`,
      },
    });
    return Date.now() - start;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timeToHealthy(command, argv, env, cwd = root) {
  const start = Date.now();
  const deadline = start + 300_000;
  const child = spawn(command, argv, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${command} exited early`);
      if (Date.now() > deadline)
        throw new Error(`${command} not ready in 5 min`);
      try {
        const res = await fetch(
          'http://127.0.0.1:7007/.backstage/health/v1/readiness',
        );
        if (res.ok) return Date.now() - start;
      } catch {
        /* not yet listening */
      }
      await new Promise(r => setTimeout(r, 100));
    }
  } finally {
    process.kill(-child.pid, 'SIGTERM');
    await new Promise(r => child.once('exit', r));
  }
}

function initialJs() {
  const dist = join(root, 'packages/app/dist');
  if (!existsSync(join(dist, 'index.html'))) sh('yarn workspace app build');
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)].map(
    m => m[1],
  );
  let raw = 0;
  let gzip = 0;
  for (const src of scripts) {
    const file = join(dist, src.replace(/^\//, ''));
    raw += statSync(file).size;
    gzip += gzipSync(readFileSync(file), { level: 9 }).length;
  }
  return { files: scripts.length, raw, gzip };
}

const report = (name, value) => console.log(`${name.padEnd(56)} ${value}`);

if (!args.has('--skip-install')) {
  report('yarn install, clean cache', `${seconds(installFromCleanCache())} s`);
}

// Development as a developer runs it: the emulator, then the backend.
const dev = await timeToHealthy('yarn', ['dev:backend']);
report('backend start → ready, development (+ emulator)', `${seconds(dev)} s`);

// Production: the built backend (bundled with the app) with production
// dependencies only, unpacked into a scratch folder as the image does.
sh('yarn build:backend');
const scratch = mkdtempSync(join(tmpdir(), 'bench-prod-'));
for (const f of [
  'package.json',
  'yarn.lock',
  '.yarnrc.yml',
  'backstage.json',
]) {
  sh(`cp ${f} ${scratch}/`);
}
sh(
  `cp -r .yarn/releases --parents ${scratch}/ 2>/dev/null || (mkdir -p ${scratch}/.yarn && cp -r .yarn/releases ${scratch}/.yarn/)`,
);
sh(
  `mkdir -p ${scratch}/scripts && cp scripts/check-node.cjs ${scratch}/scripts/`,
);
sh(`tar xzf packages/backend/dist/skeleton.tar.gz -C ${scratch}`);
sh('yarn workspaces focus --all --production > focus.log 2>&1', {
  cwd: scratch,
});
sh(`tar xzf packages/backend/dist/bundle.tar.gz -C ${scratch}`);
sh(
  `cp -r app-config.yaml app-config.production.yaml catalog-info.yaml catalog ${scratch}/`,
);
const prefix = `bench_${Date.now()}_`;
const prod = await timeToHealthy(
  process.execPath,
  [
    'packages/backend',
    '--config',
    'app-config.yaml',
    '--config',
    'app-config.production.yaml',
  ],
  {
    NODE_ENV: 'production',
    POSTGRES_HOST: '127.0.0.1',
    POSTGRES_PORT: '5432',
    POSTGRES_USER: 'postgres',
    POSTGRES_PASSWORD: '',
    POSTGRES_DB_PREFIX: prefix,
    // Shaped like a real tenant. Sign-in discovers lazily; org ingestion is
    // held back, so nothing calls Microsoft from this machine.
    AZURE_TENANT_ID: '11111111-2222-4333-8444-555555555555',
    AZURE_CLIENT_ID: '66666666-7777-4888-9999-000000000000',
    AZURE_CLIENT_SECRET: 'bench-only-not-a-secret',
    APP_CONFIG_catalog_providers_microsoftGraphOrg_default_schedule_initialDelay:
      '{"hours":1}',
  },
  scratch,
);
rmSync(scratch, { recursive: true, force: true });
report(
  'backend start → ready, production (built, PostgreSQL)',
  `${seconds(prod)} s`,
);
execSync(
  `psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE '${prefix}%'" | xargs -r -I{} psql -h 127.0.0.1 -U postgres -d postgres -qc 'DROP DATABASE "{}" WITH (FORCE)'`,
);

const js = initialJs();
report(
  `app initial JavaScript (${js.files} files)`,
  `${(js.raw / 1024).toFixed(0)} KiB raw, ${(js.gzip / 1024).toFixed(
    0,
  )} KiB gzip`,
);
