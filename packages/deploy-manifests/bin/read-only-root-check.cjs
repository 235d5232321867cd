#!/usr/bin/env node
/*
 * Runs the built backend the way deploy/helm/values.yaml runs it in a pod:
 * the root filesystem read-only, a fresh tmpfs at /tmp (the emptyDir), the
 * pod's own inline environment (BACKEND_CACHE_STORE, serverShutdownDelay,
 * ...) from the generated values, the production configuration, the local
 * PostgreSQL and Redis. Then checks that it serves without writing outside
 * /tmp and that SIGTERM drains as the docs say.
 *
 *   yarn workspace @internal/deploy-manifests check:read-only-root
 *
 * Needs root (a private mount namespace: unshare + mount; nothing outside
 * that namespace changes), PostgreSQL on 127.0.0.1:5432 (POSTGRES_* to
 * override) and Redis on 127.0.0.1:6379 (REDIS_URL). Builds the backend
 * first when packages/backend/dist is older than the sources. Not part of
 * `yarn test`: it needs root and a build. Ends with `N passed, N failed`.
 */
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const YAML = require('yaml');
// The replica harness's way to run the built bundle as the image does
// (yarn test:replicas), shared rather than copied.
const {
  ROOT,
  ensureBuilt,
  prepareRuntime,
  // eslint-disable-next-line @backstage/no-relative-monorepo-imports
} = require('../../../scripts/replicas/lib/bundle.cjs');

const PORT = Number(process.env.READ_ONLY_CHECK_PORT ?? 17117);
const BASE = `http://127.0.0.1:${PORT}`;
const READY_TIMEOUT_MS = 180_000;
const pg = {
  host: process.env.POSTGRES_HOST ?? '127.0.0.1',
  port: process.env.POSTGRES_PORT ?? '5432',
  user: process.env.POSTGRES_USER ?? 'postgres',
  password: process.env.POSTGRES_PASSWORD ?? 'postgres',
};

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed += 1;
  else failed += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

const sleep = ms => new Promise(r => setTimeout(r, ms));
async function status(url, headers = {}) {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0; // refused or timed out
  }
}

/** The inline environment the pod gets from the generated Helm values. */
function podEnvironment() {
  const values = YAML.parse(
    fs.readFileSync(path.join(ROOT, 'deploy/helm/values.yaml'), 'utf8'),
  );
  return Object.fromEntries(
    values.backstage.extraEnvVars.map(e => [e.name, e.value]),
  );
}

function psql(sql) {
  return execFileSync(
    'psql',
    ['-h', pg.host, '-p', pg.port, '-U', pg.user, '-Atc', sql],
    { env: { ...process.env, PGPASSWORD: pg.password }, encoding: 'utf8' },
  );
}

async function main() {
  if (process.getuid?.() !== 0) {
    throw new Error('needs root: a private mount namespace (unshare --mount)');
  }
  ensureBuilt({ info: message => console.log(`     ${message}`) });

  // The runtime must not live under /tmp: the tmpfs mounted there hides it.
  const work = fs.mkdtempSync(
    path.join(os.homedir(), '.cache', 'read-only-root-check-'),
  );
  const runtime = path.join(work, 'app');
  fs.mkdirSync(runtime);
  const backendDir = prepareRuntime(runtime);
  // What the Dockerfile copies into /app beside the bundle.
  for (const file of [
    'app-config.yaml',
    'app-config.production.yaml',
    'catalog-info.yaml',
  ]) {
    fs.copyFileSync(path.join(ROOT, file), path.join(runtime, file));
  }
  fs.cpSync(path.join(ROOT, 'catalog'), path.join(runtime, 'catalog'), {
    recursive: true,
  });
  const token = crypto.randomBytes(24).toString('hex');
  fs.writeFileSync(
    path.join(runtime, 'read-only-check.yaml'),
    YAML.stringify({
      backend: {
        listen: { port: PORT },
        auth: {
          externalAccess: [
            { type: 'static', options: { token, subject: 'read-only-check' } },
          ],
        },
      },
      // Nothing calls Microsoft: ingestion waits an hour.
      catalog: {
        providers: {
          microsoftGraphOrg: {
            default: { schedule: { initialDelay: { hours: 1 } } },
          },
        },
      },
    }),
  );

  const prefix = `ro_check_${Date.now()}_`;
  const logFile = path.join(work, 'backend.log');
  const log = fs.openSync(logFile, 'w');
  const inNamespace = [
    'set -e',
    'mount -o remount,bind,ro /',
    'mount -t tmpfs -o size=2g,mode=1777 tmpfs /tmp',
    `if touch ${JSON.stringify(path.join(work, 'write-probe'))} 2>/dev/null; then echo "root filesystem is writable" >&2; exit 97; fi`,
    `cd ${JSON.stringify(runtime)}`,
    `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(backendDir)} --config app-config.yaml --config app-config.production.yaml --config read-only-check.yaml`,
  ].join('\n');
  const env = {
    PATH: process.env.PATH,
    HOME: os.homedir(),
    NODE_ENV: 'production',
    ...podEnvironment(),
    APP_BASE_URL: BASE,
    POSTGRES_HOST: pg.host,
    POSTGRES_PORT: pg.port,
    POSTGRES_USER: pg.user,
    POSTGRES_PASSWORD: pg.password,
    POSTGRES_DB_PREFIX: prefix,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_NAMESPACE: prefix,
    // Tenant-shaped, never called (sign-in discovers its authority lazily).
    AZURE_TENANT_ID: '11111111-2222-4333-8444-555555555555',
    AZURE_CLIENT_ID: '66666666-7777-4888-9999-000000000000',
    AZURE_CLIENT_SECRET: crypto.randomBytes(16).toString('hex'),
  };
  const started = Date.now();
  const child = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', inNamespace],
    { env, stdio: ['ignore', log, log] },
  );
  let exitedAt;
  child.on('exit', () => {
    exitedAt = Date.now();
  });

  try {
    let ready = 0;
    while (!exitedAt && Date.now() - started < READY_TIMEOUT_MS) {
      ready = await status(`${BASE}/.backstage/health/v1/readiness`);
      if (ready === 200) break;
      await sleep(500);
    }
    check(
      'readiness 200 with / read-only and /tmp a tmpfs',
      ready === 200,
      `${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    if (ready !== 200) return;

    const auth = { Authorization: `Bearer ${token}` };
    check('serves the app', (await status(`${BASE}/`)) === 200);
    // The catalog processes its file locations shortly after startup.
    let catalog = 0;
    for (let i = 0; i < 60 && catalog !== 200; i++) {
      if (i > 0) await sleep(1000);
      catalog = await status(
        `${BASE}/api/catalog/entities/by-name/component/default/backstage-entra-starter`,
        auth,
      );
    }
    check('catalog API serves the portal component', catalog === 200, `${catalog}`);
    check(
      'search answers',
      (await status(`${BASE}/api/search/query?term=entra`, auth)) === 200,
    );
    await sleep(5000); // scheduled tasks' first runs
    const writeErrors = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(line => /EROFS|read-only file system/i.test(line));
    check(
      'no write outside /tmp failed',
      writeErrors.length === 0,
      writeErrors.slice(0, 3).join(' | '),
    );

    // SIGTERM as the kubelet sends it: readiness 503 while still answering
    // for the shutdown delay, then the port closes.
    const terminated = Date.now();
    child.kill('SIGTERM');
    let first503;
    let closed;
    while (!exitedAt && Date.now() - terminated < 60_000) {
      const code = await status(`${BASE}/.backstage/health/v1/readiness`);
      const t = (Date.now() - terminated) / 1000;
      if (code === 503 && first503 === undefined) first503 = t;
      if (code === 0 && closed === undefined) closed = t;
      await sleep(200);
    }
    check(
      'after SIGTERM readiness answers 503 at once',
      first503 !== undefined && first503 < 2,
      `${first503?.toFixed(2)} s`,
    );
    const delay = parseFloat(podEnvironment().APP_CONFIG_backend_lifecycle_serverShutdownDelay);
    check(
      `keeps answering for the ${delay} s shutdown delay, then closes`,
      closed !== undefined && closed >= delay - 0.5,
      `closed after ${closed?.toFixed(1)} s`,
    );
    console.log(
      `     process exited ${
        exitedAt ? `after ${((exitedAt - terminated) / 1000).toFixed(1)} s` : 'not within 60 s'
      } of SIGTERM (Kubernetes' default grace: 30 s)`,
    );
  } finally {
    if (!exitedAt) child.kill('SIGKILL');
    while (!exitedAt) await sleep(100);
    for (const db of psql(
      `select datname from pg_database where datname like '${prefix}%'`,
    )
      .split('\n')
      .filter(Boolean)) {
      psql(`drop database "${db}"`);
    }
    if (failed > 0) console.log(`     backend log: ${logFile}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

main()
  .catch(error => {
    failed += 1;
    console.log(`FAIL ${error.message}`);
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed > 0 ? 1 : 0;
  });
