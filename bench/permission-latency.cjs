#!/usr/bin/env node
/*
 * Catalog list latency under a permission policy, side by side: the upstream
 * allow-all policy and the portal's ownership policy
 * (plugins/permission-backend-module-ownership-policy), over the same
 * generated catalog. Per variant it prints, for requests made sequentially
 * with a signed-in (non-admin) person's Backstage user token:
 *   - latency (median, p95, ms) of GET /api/catalog/entities/by-query?limit=100
 *     (first page) and of GET /api/catalog/entities?filter=kind=component
 *     (full list);
 *   - permission decisions per list request: POST /api/permission/authorize
 *     requests and their items (counted by the backend's HTTP server), and
 *     calls of the policy class's `handle`. Conditional decisions should keep
 *     this at one per list request whatever the catalog's size;
 *   - what the person sees (items the catalog answers);
 *   - the backend's CPU per request, RSS, and peak RSS (VmHWM).
 * Prints numbers; asserts nothing.
 *
 *   bash scripts/toolchain.sh node bench/permission-latency.cjs \
 *     [--entities 10000] [--requests 200] [--full-requests <requests>] \
 *     [--variants allow-all,ownership,ownership-restricted,ownership-restricted-read-guard] \
 *     [--warmup 5] \
 *     [--port 7207] [--processing-interval-minutes 30] \
 *     [--timeout-minutes 30] [--keep]
 *
 * Variants (one backend each, started from bench/permissions/backend.cjs with
 * only the auth, catalog and permission plugins and the policy module):
 *   allow-all             @backstage/plugin-permission-backend-module-allow-all-policy
 *                         (a line-for-line stand-in when it is not installed;
 *                         the table says which ran)
 *   ownership             the ownership policy with permission.ownershipPolicy
 *                         from app-config.yaml (reads allowed to everyone signed in)
 *   ownership-restricted  the same plus restrictReadToOwners: { kinds: [Resource] }
 *                         (reads answered with a conditional decision)
 *   ownership-restricted-read-guard
 *                         the same with plugins/catalog-backend-module-read-guard,
 *                         as packages/backend runs it (relations to hidden
 *                         entities dropped: one by-refs check per answer)
 *
 * The catalog: --entities entities in one YAML file registered through
 * catalog.locations (file target): 2% groups (a tree of teams, nested, plus
 * platform-admins), 10% users, the rest components (70%) and resources (30%)
 * owned round-robin by the teams. The person measured is a member of two
 * teams deep in the tree; their ownership refs include the teams' ancestors,
 * as the portal's sign-in computes them. Tokens come from a bench-only
 * sign-in provider in the bench backend (real Backstage user tokens; the
 * ownership refs are served by the auth backend's userinfo endpoint, as
 * since Backstage 1.50).
 *
 * The catalog is ingested once, by a first backend on SQLite files in
 * /dev/shm (RAM, like `yarn dev`'s in-memory SQLite), until every entity is
 * visible through the catalog API; each variant then starts on its own copy
 * of those files, so every variant serves the same catalog and its memory is
 * not the ingestion's. catalog.processingInterval is 30 minutes unless
 * --processing-interval-minutes says otherwise (0: the catalog's default of
 * 100-150 s, which keeps a 2-core machine busy reprocessing 10,000 entities
 * and makes latencies noisy). Each variant waits for its backend's CPU to
 * settle, makes --warmup requests per route, then measures.
 *
 * Ports: the backend on --port (default 7207), bound to 127.0.0.1.
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { cpuMs, memory } = require('./lib/proc.cjs');
const { printVariantTable } = require('./lib/table.cjs');
const { parseArgs } = require('node:util');

const { values: opts } = parseArgs({
  options: {
    entities: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '200' },
    'full-requests': { type: 'string' },
    variants: {
      type: 'string',
      default:
        'allow-all,ownership,ownership-restricted,ownership-restricted-read-guard',
    },
    warmup: { type: 'string', default: '5' },
    port: { type: 'string', default: '7207' },
    'processing-interval-minutes': { type: 'string', default: '30' },
    'timeout-minutes': { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
  },
});

const root = path.resolve(__dirname, '..');
const backendEntry = path.join(__dirname, 'permissions', 'backend.cjs');
const backendPort = Number(opts.port);
const backendUrl = `http://127.0.0.1:${backendPort}`;
const BY_QUERY = '/api/catalog/entities/by-query?limit=100';
const FULL_LIST = '/api/catalog/entities?filter=kind=component';

const sleep = ms => new Promise(r => setTimeout(r, ms));
const sec = ms => (ms === undefined ? '-' : (ms / 1000).toFixed(1));
const mb = kb => (kb === undefined ? '-' : String(Math.round(kb / 1024)));

// The ownership policy's configuration as shipped, read from app-config.yaml.
function shippedOwnershipPolicy() {
  const YAML = require('yaml');
  const appConfig = YAML.parse(
    fs.readFileSync(path.join(root, 'app-config.yaml'), 'utf8'),
  );
  const block = appConfig?.permission?.ownershipPolicy;
  if (!block)
    throw new Error('app-config.yaml has no permission.ownershipPolicy');
  return block;
}

const VARIANTS = {
  'allow-all': { policy: 'allow-all' },
  ownership: {
    policy: 'ownership',
    ownershipPolicy: () => shippedOwnershipPolicy(),
  },
  'ownership-restricted': {
    policy: 'ownership',
    ownershipPolicy: () => restrictedOwnershipPolicy(),
  },
  'ownership-restricted-read-guard': {
    policy: 'ownership',
    readGuard: true,
    ownershipPolicy: () => restrictedOwnershipPolicy(),
  },
};

function restrictedOwnershipPolicy() {
  const block = structuredClone(shippedOwnershipPolicy());
  block.catalog = {
    ...block.catalog,
    restrictReadToOwners: { kinds: ['Resource'] },
  };
  return block;
}

// ---------------------------------------------------------------------------
// The generated organisation and catalog.
function generateCatalog(total) {
  const groupCount = Math.max(4, Math.round(total * 0.02));
  const userCount = Math.max(4, Math.round(total * 0.1));
  const rest = total - groupCount - userCount;
  if (rest < 2) throw new Error('--entities is too small');
  const componentCount = Math.round(rest * 0.7);
  const resourceCount = rest - componentCount;

  const pad = (n, w) => String(n).padStart(w, '0');
  const teamCount = groupCount - 1; // plus platform-admins
  const team = i => `team-${pad(i, 4)}`;
  // A tree of teams, four children each: team-0000 is the root.
  const parentOf = i => (i === 0 ? undefined : Math.floor((i - 1) / 4));
  const docs = [];
  docs.push({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: 'platform-admins' },
    spec: { type: 'team', children: [] },
  });
  for (let i = 0; i < teamCount; i++) {
    const p = parentOf(i);
    docs.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: team(i) },
      spec: {
        type: 'team',
        children: [],
        ...(p !== undefined && { parent: team(p) }),
      },
    });
  }
  // user-00000 is an admin; user-00001 is the person measured, in the two
  // deepest teams; the others are in one or two teams.
  const person = {
    name: 'user-00001',
    teams: [teamCount - 1, teamCount - 2].filter(t => t >= 0),
  };
  for (let i = 0; i < userCount; i++) {
    let memberOf;
    if (i === 0) memberOf = ['platform-admins'];
    else if (i === 1) memberOf = person.teams.map(team);
    else
      memberOf = [team(i % teamCount)].concat(
        i % 3 === 0 ? [team((i * 7) % teamCount)] : [],
      );
    docs.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name: `user-${pad(i, 5)}` },
      spec: {
        profile: { displayName: `User ${i}` },
        memberOf: [...new Set(memberOf)],
      },
    });
  }
  const ownerOf = i => `group:default/${team(i % teamCount)}`;
  for (let i = 0; i < componentCount; i++) {
    docs.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: `component-${pad(i, 6)}`,
        description: `Component ${i}`,
      },
      spec: { type: 'service', lifecycle: 'production', owner: ownerOf(i) },
    });
  }
  for (let i = 0; i < resourceCount; i++) {
    docs.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Resource',
      metadata: { name: `resource-${pad(i, 6)}`, description: `Resource ${i}` },
      spec: { type: 'database', owner: ownerOf(i + 1) },
    });
  }

  // Ownership refs as the portal's sign-in computes them: the person, their
  // groups and every ancestor group.
  const refs = new Set([`user:default/${person.name}`]);
  for (let t of person.teams) {
    for (; t !== undefined; t = parentOf(t))
      refs.add(`group:default/${team(t)}`);
  }
  const ownedResources = Array.from({ length: resourceCount }, (_, i) =>
    ownerOf(i + 1),
  ).filter(o => refs.has(o)).length;

  return {
    yaml: docs.map(d => JSON.stringify(d)).join('\n---\n'),
    counts: {
      group: groupCount,
      user: userCount,
      component: componentCount,
      resource: resourceCount,
    },
    person: { ref: `user:default/${person.name}`, ent: [...refs] },
    ownedResources,
  };
}

// ---------------------------------------------------------------------------
// A backend: spawned, logged to a file, stopped.
function startBackend({
  name,
  dir,
  policy,
  readGuard,
  dbDir,
  ownershipPolicy,
  token,
  catalogFile,
}) {
  const interval = Number(opts['processing-interval-minutes']);
  const config = {
    app: { baseUrl: 'http://127.0.0.1:3000' },
    backend: {
      baseUrl: backendUrl,
      listen: { port: backendPort, host: '127.0.0.1' },
      database: { client: 'better-sqlite3', connection: { directory: dbDir } },
      auth: {
        externalAccess: [
          { type: 'static', options: { token, subject: 'bench' } },
        ],
      },
    },
    auth: { providers: { 'bench-header': { enabled: true } } },
    catalog: {
      rules: [
        { allow: ['Component', 'Resource', 'Group', 'User', 'Location'] },
      ],
      locations: [{ type: 'file', target: catalogFile }],
      ...(interval > 0 && { processingInterval: { minutes: interval } }),
    },
    permission: {
      enabled: true,
      ...(ownershipPolicy && { ownershipPolicy }),
    },
  };
  const configFile = path.join(dir, `${name}.config.json`);
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const logFile = path.join(dir, `${name}.log`);
  const log = fs.createWriteStream(logFile);
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [backendEntry, '--config', configFile],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_ENV: 'development',
        BENCH_POLICY: policy,
        BENCH_READ_GUARD: readGuard ? '1' : '',
      },
    },
  );
  const backend = { child, t0, logFile, exited: false, errors: [] };
  child.on('exit', code => {
    backend.exited = true;
    backend.exitCode = code;
  });
  for (const stream of [child.stdout, child.stderr]) {
    let buffer = '';
    stream.on('data', chunk => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop();
      for (const line of lines) {
        // eslint-disable-next-line no-control-regex
        const text = line.replace(/\x1b\[[0-9;]*m/g, '');
        log.write(`[+${sec(performance.now() - t0)}s] ${text}\n`);
        if (/\berror\b/i.test(text) && backend.errors.length < 5) {
          backend.errors.push(text.slice(0, 300));
        }
      }
    });
  }
  backend.stop = async () => {
    if (!backend.exited) {
      child.kill('SIGTERM');
      const killAt = Date.now() + 20_000;
      while (!backend.exited && Date.now() < killAt) await sleep(100);
      if (!backend.exited) child.kill('SIGKILL');
      while (!backend.exited) await sleep(50);
    }
    log.end();
  };
  return backend;
}

async function getJson(url, headers) {
  const res = await fetch(`${backendUrl}${url}`, { headers });
  if (!res.ok) {
    throw new Error(
      `GET ${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`,
    );
  }
  return res.json();
}

/** Entities per kind, as a service (no permission filtering) sees them. */
async function kindCounts(token) {
  const headers = { authorization: `Bearer ${token}` };
  const out = {};
  for (const kind of ['group', 'user', 'component', 'resource']) {
    const body = await getJson(
      `/api/catalog/entities/by-query?filter=kind=${kind}&limit=1&fields=kind`,
      headers,
    );
    out[kind] = body.totalItems;
  }
  return out;
}

async function waitReady(backend, token, deadline) {
  for (;;) {
    if (backend.exited)
      throw new Error(`backend exited; see ${backend.logFile}`);
    if (performance.now() > deadline)
      throw new Error(`backend never became ready; see ${backend.logFile}`);
    try {
      await kindCounts(token);
      return performance.now();
    } catch {
      await sleep(250);
    }
  }
}

async function waitVisible(backend, token, want, deadline) {
  let last;
  for (;;) {
    if (backend.exited)
      throw new Error(`backend exited; see ${backend.logFile}`);
    const got = await kindCounts(token);
    if (Object.keys(want).every(k => got[k] >= want[k]))
      return performance.now();
    if (performance.now() > deadline) {
      throw new Error(
        `timed out with ${JSON.stringify(got)} of ${JSON.stringify(
          want,
        )} visible`,
      );
    }
    const now = performance.now();
    if (!last || now - last > 15_000) {
      last = now;
      const n = Object.values(got).reduce((a, b) => a + b, 0);
      console.log(
        `  ${sec(now - backend.t0)} s: ${n} of ${Object.values(want).reduce(
          (a, b) => a + b,
          0,
        )} visible`,
      );
    }
    await sleep(1000);
  }
}

/** Waits until the backend uses under 10% of a core for 3 s (120 s at most). */
async function waitQuiet(pid) {
  const t0 = performance.now();
  while (performance.now() - t0 < 120_000) {
    const c0 = cpuMs(pid);
    await sleep(3000);
    if ((cpuMs(pid) - c0) / 3000 < 0.1) break;
  }
  return performance.now() - t0;
}

async function signIn(person) {
  const res = await fetch(`${backendUrl}/api/auth/bench-header/refresh`, {
    headers: {
      'x-bench-user': person.ref,
      'x-bench-ent': JSON.stringify(person.ent),
      'x-requested-with': 'XMLHttpRequest',
    },
  });
  if (!res.ok)
    throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  return (await res.json()).backstageIdentity.token;
}

const counters = () => getJson('/bench/counters', {});

function diff(after, before) {
  const http = {};
  for (const k of new Set([
    ...Object.keys(after.http),
    ...Object.keys(before.http),
  ])) {
    const d = (after.http[k] ?? 0) - (before.http[k] ?? 0);
    if (d) http[k] = d;
  }
  const decisions = {};
  for (const k of Object.keys(after.decisions)) {
    const d = after.decisions[k] - (before.decisions[k] ?? 0);
    if (d) decisions[k] = d;
  }
  return {
    http,
    decisions,
    authorizeRequests: after.authorizeRequests - before.authorizeRequests,
    authorizeItems: after.authorizeItems - before.authorizeItems,
    policyHandle: after.policyHandle - before.policyHandle,
  };
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = p =>
    s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const mid = s.length / 2;
  return {
    n: s.length,
    median: s.length % 2 ? s[Math.floor(mid)] : (s[mid - 1] + s[mid]) / 2,
    p95: q(0.95),
    max: s[s.length - 1],
  };
}

/** `count` sequential GETs of `url`; latency includes reading the body. */
async function measure(url, token, count, warmup, pid) {
  const headers = { authorization: `Bearer ${token}` };
  let seen;
  const call = async () => {
    const t = performance.now();
    const res = await fetch(`${backendUrl}${url}`, { headers });
    const text = await res.text();
    const ms = performance.now() - t;
    if (!res.ok)
      throw new Error(
        `GET ${url} answered ${res.status}: ${text.slice(0, 300)}`,
      );
    const body = JSON.parse(text);
    seen = Array.isArray(body)
      ? { items: body.length }
      : { items: body.items.length, totalItems: body.totalItems };
    return ms;
  };
  for (let i = 0; i < warmup; i++) await call();
  const before = await counters();
  const load0 = os.loadavg()[0];
  const cpu0 = cpuMs(pid);
  const samples = [];
  for (let i = 0; i < count; i++) samples.push(await call());
  const cpu = cpuMs(pid) - cpu0;
  const after = await counters();
  return {
    ...stats(samples),
    seen,
    counts: diff(after, before),
    cpuPerRequest: cpu / count,
    load: [load0, os.loadavg()[0]],
  };
}

// ---------------------------------------------------------------------------
async function ingest(ctx) {
  const { dir, dbRoot, catalog, catalogFile } = ctx;
  const token = crypto.randomBytes(24).toString('base64url');
  const dbDir = path.join(dbRoot, 'seed');
  const backend = startBackend({
    name: 'ingest',
    dir,
    policy: 'allow-all',
    dbDir,
    token,
    catalogFile,
  });
  const deadline = backend.t0 + Number(opts['timeout-minutes']) * 60_000;
  try {
    const readyAt = await waitReady(backend, token, deadline);
    const visibleAt = await waitVisible(
      backend,
      token,
      catalog.counts,
      deadline,
    );
    return {
      dbDir,
      readyMs: readyAt - backend.t0,
      visibleMs: visibleAt - readyAt,
      hwm: memory(backend.child.pid).hwm,
      logFile: backend.logFile,
    };
  } finally {
    await backend.stop();
  }
}

async function runVariant(name, ctx) {
  const variant = VARIANTS[name];
  if (!variant) {
    throw new Error(
      `Unknown variant ${name}; known: ${Object.keys(VARIANTS).join(', ')}`,
    );
  }
  const { dir, dbRoot, seedDir, catalog, catalogFile } = ctx;
  const dbDir = path.join(dbRoot, name);
  fs.cpSync(seedDir, dbDir, { recursive: true });
  const token = crypto.randomBytes(24).toString('base64url');
  const result = { name, variant };
  const backend = startBackend({
    name,
    dir,
    policy: variant.policy,
    readGuard: variant.readGuard,
    dbDir,
    ownershipPolicy: variant.ownershipPolicy?.(),
    token,
    catalogFile,
  });
  result.logFile = backend.logFile;
  const pid = backend.child.pid;
  const deadline = backend.t0 + Number(opts['timeout-minutes']) * 60_000;
  try {
    result.readyMs = (await waitReady(backend, token, deadline)) - backend.t0;
    await waitVisible(backend, token, catalog.counts, deadline);
    result.rssReady = memory(pid).rss;
    result.quietMs = await waitQuiet(pid);
    result.catalogTotal = (
      await getJson('/api/catalog/entities/by-query?limit=1&fields=kind', {
        authorization: `Bearer ${token}`,
      })
    ).totalItems;
    result.policySource = (await counters()).policySource;
    const userToken = await signIn(catalog.person);
    const requests = Number(opts.requests);
    const fullRequests = Number(opts['full-requests'] ?? opts.requests);
    const warmup = Number(opts.warmup);
    result.byQuery = await measure(BY_QUERY, userToken, requests, warmup, pid);
    if (fullRequests > 0) {
      result.fullList = await measure(
        FULL_LIST,
        userToken,
        fullRequests,
        warmup,
        pid,
      );
    }
    const s = memory(pid);
    result.rssEnd = s.rss;
    result.hwm = s.hwm;
  } catch (error) {
    result.error = error.message;
    result.hwm = memory(pid).hwm;
  } finally {
    await backend.stop();
    result.backendErrors = backend.errors;
    if (!opts.keep) fs.rmSync(dbDir, { recursive: true, force: true });
  }
  return result;
}

// ---------------------------------------------------------------------------
function printResults(results, ctx) {
  const { catalog, seed } = ctx;
  const c = catalog.counts;
  const total = c.group + c.user + c.component + c.resource;
  console.log(
    `\nCatalog: ${total} entities (${c.group} groups, ${c.user} users, ${c.component} components, ${c.resource} resources), ` +
      `ingested once in ${sec(
        seed.visibleMs,
      )} s after the backend was ready (peak RSS ${mb(seed.hwm)} MB).`,
  );
  console.log(
    `Person: ${catalog.person.ref}, not an admin, ${catalog.person.ent.length} ownership refs (2 teams + their ancestors); ` +
      `owns ${catalog.ownedResources} of ${c.resource} resources.`,
  );
  console.log(
    `Requests: sequential, one connection; ${opts.warmup} warm-up requests per route not counted. ` +
      `Machine: ${os.cpus().length} cores; Node ${
        process.version
      }; SQLite (files in RAM).\n`,
  );
  const per = (m, f) => (m ? (f(m) / m.n).toFixed(2) : '-');
  const ms = v => (v === undefined ? '-' : v.toFixed(1));
  const route = (label, key) => [
    [`${label}: requests`, r => String(r[key]?.n ?? '-')],
    [
      `  items answered (of total)`,
      r =>
        r[key]
          ? `${r[key].seen.items}${
              r[key].seen.totalItems !== undefined
                ? ` (${r[key].seen.totalItems})`
                : ''
            }`
          : '-',
    ],
    [
      `  load average (1 min) before / after`,
      r => (r[key] ? r[key].load.map(l => l.toFixed(2)).join(' / ') : '-'),
    ],
    [`  median ms`, r => ms(r[key]?.median)],
    [`  p95 ms`, r => ms(r[key]?.p95)],
    [`  max ms`, r => ms(r[key]?.max)],
    [
      `  authorize HTTP requests / list request`,
      r => per(r[key], m => m.counts.authorizeRequests),
    ],
    [
      `  decisions asked (items) / list request`,
      r => per(r[key], m => m.counts.authorizeItems),
    ],
    [
      `  policy handle() calls / list request`,
      r => per(r[key], m => m.counts.policyHandle),
    ],
    [
      `  decision results`,
      r =>
        r[key]
          ? Object.entries(r[key].counts.decisions)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ') || '-'
          : '-',
    ],
    [
      `  auth userinfo HTTP / list request`,
      r => per(r[key], m => m.counts.http['auth/v1/userinfo'] ?? 0),
    ],
    [`  backend CPU ms / list request`, r => ms(r[key]?.cpuPerRequest)],
  ];
  const rows = [
    ['policy', r => r.policySource ?? r.variant.policy],
    [
      'restrictReadToOwners',
      r =>
        r.variant.ownershipPolicy
          ? JSON.stringify(
              r.variant.ownershipPolicy().catalog?.restrictReadToOwners
                ?.kinds ?? [],
            )
          : '-',
    ],
    ['backend ready s (after spawn)', r => sec(r.readyMs)],
    ['waited for idle CPU s', r => sec(r.quietMs)],
    ['entities in catalog (service view)', r => String(r.catalogTotal ?? '-')],
    ...route(`by-query ?limit=100`, 'byQuery'),
    ...route(`entities ?filter=kind=component`, 'fullList'),
    ['RSS at ready MB', r => mb(r.rssReady)],
    ['RSS at end MB', r => mb(r.rssEnd)],
    ['peak RSS (VmHWM) MB', r => mb(r.hwm)],
    ['error', r => r.error ?? '-'],
  ];
  printVariantTable(rows, results);
  for (const r of results) {
    const other = Object.entries(r.byQuery?.counts.http ?? {})
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    if (other)
      console.log(
        `\n${r.name}: HTTP requests the backend served while measuring by-query: ${other}`,
      );
    if (r.backendErrors?.length)
      console.log(
        `${r.name}: backend logged errors, e.g. ${r.backendErrors[0]}`,
      );
  }
  console.log(
    `\nBackend logs: ${[seed.logFile, ...results.map(r => r.logFile)].join(
      ', ',
    )}`,
  );
}

async function main() {
  const entities = Number(opts.entities);
  const dir = fs.mkdtempSync(
    path.join(os.tmpdir(), 'bench-permission-latency-'),
  );
  const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const dbRoot = fs.mkdtempSync(path.join(shm, 'bench-permission-latency-'));
  const catalog = generateCatalog(entities);
  const catalogFile = path.join(dir, 'catalog.yaml');
  fs.writeFileSync(catalogFile, catalog.yaml);
  console.log(
    `[${new Date().toISOString()}] ${entities} entities written to ${catalogFile}; load average ${os
      .loadavg()
      .map(l => l.toFixed(2))
      .join(' ')}; ingesting ...`,
  );
  const results = [];
  let seed;
  try {
    seed = await ingest({ dir, dbRoot, catalog, catalogFile });
    console.log(
      `[${new Date().toISOString()}] all visible ${sec(
        seed.visibleMs,
      )} s after ready`,
    );
    for (const name of opts.variants
      .split(',')
      .map(s => s.trim())
      .filter(Boolean)) {
      console.log(`[${new Date().toISOString()}] ${name} ...`);
      const r = await runVariant(name, {
        dir,
        dbRoot,
        seedDir: seed.dbDir,
        catalog,
        catalogFile,
      });
      console.log(
        `[${new Date().toISOString()}] ${name}: ${
          r.error
            ? `error: ${r.error}`
            : `by-query median ${r.byQuery.median.toFixed(1)} ms`
        }`,
      );
      results.push(r);
    }
  } finally {
    if (!opts.keep) fs.rmSync(dbRoot, { recursive: true, force: true });
  }
  printResults(results, { catalog, seed });
  if (!opts.keep) {
    for (const f of fs.readdirSync(dir)) {
      if (!f.endsWith('.log'))
        fs.rmSync(path.join(dir, f), { recursive: true, force: true });
    }
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
