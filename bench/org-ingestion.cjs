#!/usr/bin/env node
/*
 * Org ingestion, side by side: the upstream msgraph module and ours
 * (plugins/catalog-backend-module-entra-org) ingesting the same generated
 * Entra tenant into a real catalog. Per variant it prints the Graph requests
 * (counted by the emulator, which runs in this process), the Graph read time,
 * the time until every ingested user and group is visible through the
 * catalog API, the backend's CPU time, and its peak RSS (VmHWM). Prints
 * numbers; asserts nothing.
 *
 *   bash scripts/toolchain.sh node bench/org-ingestion.cjs \
 *     [--users 10000] [--groups 1000] [--variants upstream,entra-org,entra-org-tuned] \
 *     [--port 7107] [--photo-share 0] [--idle-seconds 30] [--timeout-minutes 30] [--keep]
 *
 * Variants (one backend each, started from bench/org-ingestion/backend.cjs
 * with only the catalog and the org module; permissions off; a static token):
 *   upstream                upstream module, its defaults (user photos on), SQLite in memory
 *   upstream-pg             the same on PostgreSQL
 *   entra-org               our module, its defaults (photos off), SQLite in memory (as `yarn dev`)
 *   entra-org-pg            our module on PostgreSQL, catalog defaults
 *   entra-org-pg-pool       ... with a catalog connection pool of 30 (knex default 10)
 *   entra-org-tuned         ... pool 30 and catalog.processingInterval 30 min
 *   entra-org-sqlite-tuned  our module, SQLite in memory, catalog.processingInterval 30 min
 * PostgreSQL variants need 127.0.0.1:5432 with trust auth for user postgres;
 * each run creates its own databases (prefix bench_org_<run>_) and drops them.
 *
 * "Visible" = /api/catalog/entities/by-query?filter=kind=user (and =group)
 * reports as many entities as the module says it ingested. Times are measured
 * from the first request the emulator sees from the backend (the token
 * request). On PostgreSQL the bench also reads the catalog's tables to tell
 * processing from stitching. After everything is visible the backend keeps
 * running for --idle-seconds so its steady-state CPU (the catalog's periodic
 * reprocessing) shows.
 *
 * Generated users have no photos unless --photo-share gives a share of them
 * one; upstream asks Graph for every user's photo either way.
 * Ports: the backend on --port (default 7107), the emulator on free ports.
 */
require('@backstage/cli-node/config/nodeTransform.cjs');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { cpuMs, memory } = require('./lib/proc.cjs');
const { printVariantTable } = require('./lib/table.cjs');
const { parseArgs } = require('node:util');

const { values: opts } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    groups: { type: 'string', default: '1000' },
    variants: { type: 'string', default: 'upstream,entra-org,entra-org-tuned' },
    port: { type: 'string', default: '7107' },
    'photo-share': { type: 'string', default: '0' },
    'idle-seconds': { type: 'string', default: '30' },
    'timeout-minutes': { type: 'string', default: '30' },
    'poll-ms': { type: 'string', default: '1000' },
    keep: { type: 'boolean', default: false },
  },
});

const root = path.resolve(__dirname, '..');
const backendEntry = path.join(__dirname, 'org-ingestion', 'backend.cjs');
const backendPort = Number(opts.port);
const backendUrl = `http://localhost:${backendPort}`;
const pollMs = Number(opts['poll-ms']);

const VARIANTS = {
  upstream: { module: 'upstream', db: 'sqlite' },
  'upstream-pg': { module: 'upstream', db: 'pg' },
  'entra-org': { module: 'entra-org', db: 'sqlite' },
  'entra-org-pg': { module: 'entra-org', db: 'pg' },
  'entra-org-pg-pool': { module: 'entra-org', db: 'pg', catalogPool: 30 },
  'entra-org-tuned': {
    module: 'entra-org',
    db: 'pg',
    catalogPool: 30,
    catalog: { processingInterval: { minutes: 30 } },
  },
  'entra-org-sqlite-tuned': {
    module: 'entra-org',
    db: 'sqlite',
    catalog: { processingInterval: { minutes: 30 } },
  },
};

const sleep = ms => new Promise(r => setTimeout(r, ms));
const sec = ms => (ms === undefined ? '-' : (ms / 1000).toFixed(1));
const mb = kb => (kb === undefined ? '-' : Math.round(kb / 1024));

// ---------------------------------------------------------------------------
// Requests the emulator serves, counted server-side. The emulator runs in this
// process; its servers are created through these functions.
const traffic = {
  reset() {
    this.byKind = {};
    this.graph = 0;
    this.first = undefined;
    this.firstGraph = undefined;
    this.lastGraphEnd = undefined;
  },
};
traffic.reset();

function classify(url) {
  const p = url.split('?')[0];
  if (p.startsWith('/v1.0/')) {
    if (/^\/v1\.0\/users\/[^/]+\/photo/.test(p)) return 'photo';
    if (/^\/v1\.0\/groups\/[^/]+\/members/.test(p)) return 'members';
    if (/^\/v1\.0\/users\/?$/.test(p)) return 'users';
    if (/^\/v1\.0\/groups\/?$/.test(p)) return 'groups';
    if (p.startsWith('/v1.0/organization')) return 'organization';
    return 'graph-other';
  }
  if (p.endsWith('/token')) return 'token';
  return 'identity-other';
}

for (const mod of [http, https]) {
  const createServer = mod.createServer;
  mod.createServer = function countingCreateServer(...args) {
    const i = typeof args[0] === 'function' ? 0 : 1;
    const handler = args[i];
    args[i] = (req, res) => {
      const now = performance.now();
      traffic.first ??= now;
      const kind = classify(req.url);
      traffic.byKind[kind] = (traffic.byKind[kind] ?? 0) + 1;
      if (req.url.startsWith('/v1.0/')) {
        traffic.graph++;
        traffic.firstGraph ??= now;
        res.on('finish', () => {
          traffic.lastGraphEnd = performance.now();
        });
      }
      handler(req, res);
    };
    return createServer.apply(this, args);
  };
}
const {
  createEntraEmulator,
  generateTenant,
} = require('@internal/entra-emulator');

// ---------------------------------------------------------------------------
// PostgreSQL: throwaway databases per run, and a look into the catalog's tables.
function pgClient(database = 'postgres') {
  const { Client } = require('pg');
  return new Client({
    host: '127.0.0.1',
    port: 5432,
    user: 'postgres',
    database,
  });
}

async function dropDatabases(prefix) {
  const c = pgClient();
  await c.connect();
  try {
    const { rows } = await c.query(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`${prefix}%`],
    );
    for (const { datname } of rows)
      await c.query(`DROP DATABASE "${datname}" WITH (FORCE)`);
    return rows.length;
  } finally {
    await c.end();
  }
}

async function catalogTables(client) {
  const { rows } = await client.query(`
    SELECT
      (SELECT count(*) FROM refresh_state) AS total,
      (SELECT count(*) FROM refresh_state WHERE processed_entity IS NOT NULL) AS processed,
      (SELECT count(*) FROM stitch_queue) AS stitch_pending,
      (SELECT count(*) FROM final_entities WHERE final_entity IS NOT NULL) AS stitched`);
  return Object.fromEntries(
    Object.entries(rows[0]).map(([k, v]) => [k, Number(v)]),
  );
}

// ---------------------------------------------------------------------------
// One variant: a backend, its ingestion, and the catalog until it shows all.
async function runVariant(name, ctx) {
  const variant = VARIANTS[name];
  if (!variant)
    throw new Error(
      `Unknown variant ${name}; known: ${Object.keys(VARIANTS).join(', ')}`,
    );
  const { emulator, dir } = ctx;
  const token = crypto.randomBytes(24).toString('base64url');
  const runId = `bench_org_${crypto.randomBytes(4).toString('hex')}_`;
  const database =
    variant.db === 'pg'
      ? {
          client: 'pg',
          connection: { host: '127.0.0.1', port: 5432, user: 'postgres' },
          prefix: runId,
          ...(variant.catalogPool && {
            plugin: {
              catalog: {
                knexConfig: { pool: { min: 0, max: variant.catalogPool } },
              },
            },
          }),
        }
      : { client: 'better-sqlite3', connection: ':memory:' };
  const config = {
    app: { baseUrl: backendUrl },
    backend: {
      baseUrl: backendUrl,
      listen: { port: backendPort },
      database,
      auth: {
        externalAccess: [
          { type: 'static', options: { token, subject: 'bench' } },
        ],
      },
    },
    permission: { enabled: false },
    catalog: {
      ...variant.catalog,
      providers: {
        microsoftGraphOrg: {
          default: {
            tenantId: emulator.tenantId,
            clientId: emulator.apps.portal.clientId,
            clientSecret: emulator.apps.portal.clientSecret,
            authority: emulator.httpsUrl,
            target: emulator.graphBaseUrl,
            // No initialDelay: the first run starts with the backend.
            schedule: { frequency: { hours: 24 }, timeout: { hours: 1 } },
          },
        },
      },
    },
  };
  const configFile = path.join(dir, `${name}.config.json`);
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const logFile = path.join(dir, `${name}.log`);
  const log = fs.createWriteStream(logFile);

  const result = { name, variant, load: os.loadavg()[0] };
  traffic.reset();
  const t0 = performance.now();
  const backend = spawn(
    process.execPath,
    [backendEntry, '--config', configFile],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_ENV: 'development',
        NODE_EXTRA_CA_CERTS: emulator.caCertPath,
        BENCH_ORG_MODULE: variant.module,
        ...(variant.module === 'upstream' && {
          BENCH_DISCOVERY_ORIGIN: emulator.httpsUrl,
        }),
      },
    },
  );
  let exited = false;
  backend.on('exit', () => {
    exited = true;
  });
  const onLine = line => {
    const at = performance.now();
    // eslint-disable-next-line no-control-regex
    const text = line.replace(/\x1b\[[0-9;]*m/g, '');
    log.write(`[+${sec(at - t0)}s] ${text}\n`);
    let m =
      /Read (\d+) msgraph users and (\d+) msgraph groups in ([\d.]+) seconds/.exec(
        text,
      );
    if (m) {
      result.ingested = { users: Number(m[1]), groups: Number(m[2]) };
      result.moduleReadMs = Number(m[3]) * 1000;
    }
    m = /Committed .* in ([\d.]+) seconds/.exec(text);
    if (m) {
      result.appliedAt = at;
      result.applyMs = Number(m[1]) * 1000;
    }
    m =
      /Entra org ingestion applied (\d+) users and (\d+) groups in (\d+) ms \(Graph read (\d+) ms\): (\d+) Graph requests/.exec(
        text,
      );
    if (m) {
      result.appliedAt = at;
      result.ingested = { users: Number(m[1]), groups: Number(m[2]) };
      result.moduleReadMs = Number(m[4]);
      result.applyMs = Number(m[3]) - Number(m[4]);
      result.moduleRequests = Number(m[5]);
    }
    if (/Entra org ingestion (failed|refused)|refresh failed/.test(text)) {
      result.error = text.slice(0, 400);
    }
  };
  for (const stream of [backend.stdout, backend.stderr]) {
    let buffer = '';
    stream.on('data', chunk => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop();
      lines.forEach(onLine);
    });
  }

  const headers = { authorization: `Bearer ${token}` };
  const count = async kind => {
    const res = await fetch(
      `${backendUrl}/api/catalog/entities/by-query?filter=kind=${kind}&limit=1&fields=kind`,
      { headers },
    );
    if (!res.ok) throw new Error(`catalog answered ${res.status}`);
    return (await res.json()).totalItems;
  };

  let pg;
  const deadline = t0 + Number(opts['timeout-minutes']) * 60_000;
  const timeline = [];
  try {
    // Ready: the catalog answers.
    for (;;) {
      if (exited) throw new Error(`backend exited; see ${logFile}`);
      if (performance.now() > deadline)
        throw new Error('backend never became ready');
      try {
        await count('user');
        break;
      } catch {
        await sleep(250);
      }
    }
    result.readyAt = performance.now();
    result.rssReady = memory(backend.pid).rss;
    result.cpuReady = cpuMs(backend.pid);
    if (variant.db === 'pg') {
      pg = pgClient(`${runId}catalog`);
      await pg.connect();
    }

    let lastTable = 0;
    for (;;) {
      if (exited) throw new Error(`backend exited; see ${logFile}`);
      if (result.error) throw new Error(result.error);
      if (performance.now() > deadline)
        throw new Error('timed out; raise --timeout-minutes');
      const [users, groups] = [await count('user'), await count('group')];
      const now = performance.now();
      if (pg && now - lastTable >= 5000) {
        lastTable = now;
        timeline.push({ at: now, users, groups, ...(await catalogTables(pg)) });
      }
      const want = result.ingested;
      if (want && result.appliedAt) {
        if (users >= want.users) result.usersVisibleAt ??= now;
        if (groups >= want.groups) result.groupsVisibleAt ??= now;
        if (result.usersVisibleAt && result.groupsVisibleAt) break;
      }
      result.visibleSoFar = { users, groups };
      await sleep(pollMs);
    }
    result.allVisibleAt = Math.max(
      result.usersVisibleAt,
      result.groupsVisibleAt,
    );
    result.cpuVisible = cpuMs(backend.pid);
    result.hwmVisible = memory(backend.pid).hwm;
    if (pg)
      timeline.push({ at: performance.now(), ...(await catalogTables(pg)) });

    // Steady state: what the catalog keeps doing once everything is in.
    const idleMs = Number(opts['idle-seconds']) * 1000;
    if (idleMs > 0) {
      const cpu0 = cpuMs(backend.pid);
      const i0 = performance.now();
      await sleep(idleMs);
      result.idleCpuShare =
        (cpuMs(backend.pid) - cpu0) / (performance.now() - i0);
      if (pg)
        timeline.push({ at: performance.now(), ...(await catalogTables(pg)) });
    }
    result.hwm = memory(backend.pid).hwm;
  } catch (error) {
    result.error ??= error.message;
    result.hwm = memory(backend.pid).hwm;
  } finally {
    if (pg) await pg.end().catch(() => {});
    result.traffic = {
      graph: traffic.graph,
      byKind: { ...traffic.byKind },
      first: traffic.first,
      readMs:
        traffic.firstGraph !== undefined
          ? traffic.lastGraphEnd - traffic.firstGraph
          : undefined,
    };
    result.t0 = t0;
    result.timeline = timeline;
    if (!exited) {
      backend.kill('SIGTERM');
      const killAt = Date.now() + 15_000;
      while (!exited && Date.now() < killAt) await sleep(100);
      if (!exited) backend.kill('SIGKILL');
    }
    log.end();
    if (variant.db === 'pg') {
      await sleep(500);
      result.droppedDatabases = await dropDatabases(runId).catch(
        e => `drop failed: ${e.message}`,
      );
    }
  }
  result.logFile = logFile;
  return result;
}

// ---------------------------------------------------------------------------
function printResults(results, ctx) {
  const { seed } = ctx;
  const enabled = seed.users.filter(u => u.accountEnabled !== false);
  const nonGuest = enabled.filter(u => u.userType !== 'Guest');
  console.log(
    `\nTenant: ${seed.users.length} users (${enabled.length} enabled, ${nonGuest.length} enabled non-guest), ` +
      `${seed.groups.length} groups (+1 tenant root group the reader adds); ` +
      `${seed.users.filter(u => u.photo).length} users with photos.`,
  );
  console.log(
    `Machine: ${
      os.cpus().length
    } cores, load average at each start in the table; backend on Node ${
      process.version
    }.\n`,
  );
  const from = r => t =>
    t === undefined || r.traffic.first === undefined
      ? undefined
      : t - r.traffic.first;
  const rows = [
    [
      'module / database',
      r =>
        `${r.variant.module} / ${
          r.variant.db === 'pg' ? 'PostgreSQL' : 'SQLite mem'
        }`,
    ],
    [
      'catalog settings',
      r =>
        [
          r.variant.catalog && JSON.stringify(r.variant.catalog),
          r.variant.catalogPool && `catalog pool max ${r.variant.catalogPool}`,
        ]
          .filter(Boolean)
          .join(', ') || 'defaults',
    ],
    ['load average (1 min) at start', r => r.load.toFixed(2)],
    ['Graph requests (emulator)', r => String(r.traffic.graph)],
    [
      '  users pages / photos',
      r => `${r.traffic.byKind.users ?? 0} / ${r.traffic.byKind.photo ?? 0}`,
    ],
    [
      '  groups pages / members pages',
      r => `${r.traffic.byKind.groups ?? 0} / ${r.traffic.byKind.members ?? 0}`,
    ],
    ['  token requests', r => String(r.traffic.byKind.token ?? 0)],
    [
      'Graph requests (module log)',
      r => (r.moduleRequests === undefined ? '-' : String(r.moduleRequests)),
    ],
    ['Graph read s (emulator first→last)', r => sec(r.traffic.readMs)],
    ['Graph read s (module log)', r => sec(r.moduleReadMs)],
    ['apply (full mutation) s', r => sec(r.applyMs)],
    [
      'ingested users / groups',
      r => (r.ingested ? `${r.ingested.users} / ${r.ingested.groups}` : '-'),
    ],
    ['backend ready s (after spawn)', r => sec(r.readyAt - r.t0)],
    ['users visible s (from 1st request)', r => sec(from(r)(r.usersVisibleAt))],
    [
      'groups visible s (from 1st request)',
      r => sec(from(r)(r.groupsVisibleAt)),
    ],
    ['all visible s (from 1st request)', r => sec(from(r)(r.allVisibleAt))],
    [
      '  of which catalog after apply s',
      r => sec(r.allVisibleAt - r.appliedAt),
    ],
    [
      '  catalog entities/s after apply',
      r =>
        r.allVisibleAt && r.ingested
          ? (
              (r.ingested.users + r.ingested.groups) /
              ((r.allVisibleAt - r.appliedAt) / 1000)
            ).toFixed(0)
          : '-',
    ],
    [
      'backend CPU s until visible',
      r =>
        sec(r.cpuVisible === undefined ? undefined : r.cpuVisible - r.cpuReady),
    ],
    [
      `backend CPU share ${opts['idle-seconds']} s after`,
      r =>
        r.idleCpuShare === undefined
          ? '-'
          : `${Math.round(r.idleCpuShare * 100)}%`,
    ],
    ['RSS at ready MB', r => String(mb(r.rssReady))],
    ['peak RSS (VmHWM) at visible MB', r => String(mb(r.hwmVisible))],
    ['peak RSS (VmHWM) at end MB', r => String(mb(r.hwm))],
    ['error', r => r.error ?? '-'],
  ];
  printVariantTable(rows, results);

  for (const r of results) {
    if (!r.timeline.length) continue;
    console.log(
      `\n${r.name}: catalog tables (s from 1st request: processed / stitch pending / stitched of total)`,
    );
    for (const t of r.timeline) {
      console.log(
        `  ${sec(t.at - r.traffic.first).padStart(6)}  ${t.processed} / ${
          t.stitch_pending
        } / ${t.stitched} of ${t.total}`,
      );
    }
  }
  console.log(`\nBackend logs: ${results.map(r => r.logFile).join(', ')}`);
}

async function main() {
  const users = Number(opts.users);
  const groups = Number(opts.groups);
  const photoShare = Number(opts['photo-share']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-org-ingestion-'));
  const tg = performance.now();
  const seed = generateTenant({ users, groups, seed: 1 });
  if (photoShare > 0) {
    seed.users.forEach((u, i) => {
      if ((i * 7919) % 1000 < photoShare * 1000) u.photo = true;
    });
  }
  const emulator = await createEntraEmulator({
    httpPort: 0,
    httpsPort: 0,
    dataDir: dir,
    seed,
  });
  console.log(
    `Emulator ${
      emulator.httpsUrl
    }: ${users} users, ${groups} groups generated in ${sec(
      performance.now() - tg,
    )} s; work dir ${dir}`,
  );
  const results = [];
  try {
    for (const name of opts.variants
      .split(',')
      .map(s => s.trim())
      .filter(Boolean)) {
      console.log(`[${new Date().toISOString()}] ${name} ...`);
      const r = await runVariant(name, { emulator, dir });
      console.log(
        `[${new Date().toISOString()}] ${name}: ${
          r.error
            ? `error: ${r.error}`
            : `all visible after ${sec(r.allVisibleAt - r.traffic.first)} s`
        }`,
      );
      results.push(r);
      await sleep(2000);
    }
  } finally {
    await emulator.close();
  }
  printResults(results, { seed });
  if (!opts.keep) {
    for (const f of fs.readdirSync(dir))
      if (!f.endsWith('.log'))
        fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
