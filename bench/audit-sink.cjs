#!/usr/bin/env node
/*
 * What storing the audit trail costs, side by side: the same backend (auth,
 * catalog, permission with the ownership policy; bench/permissions/backend.cjs)
 * on PostgreSQL, once with Backstage's own auditor (events go to the logs
 * only) and once with the portal's (every event also queued and written to
 * the audit plugin's database, plugins/audit-backend). Per variant it prints
 * p50/p95 latency of:
 *   - catalog writes: POST /api/catalog/refresh by an owner, sequential
 *     (one catalog.entity-mutate event each, plus the policy's decision);
 *   - a burst of permission denials: POST /api/catalog/refresh of a component
 *     by a person who owns nothing, --denials requests, --concurrency at a
 *     time (each a 403 decided by the ownership policy's IS_ENTITY_OWNER:
 *     one permission.permission-denied and one failed catalog.entity-mutate
 *     event), and the burst's wall time;
 * and, with the sink, how long the queue took to drain and how many events
 * it stored and dropped. Then, with the sink only, the Audit page's query
 * time over --events synthetic events (default 1,000,000) inserted straight
 * into the audit tables: GET /api/audit/events with each filter, a deep page
 * through the cursor, and an export of one person's events.
 * Prints numbers; asserts nothing.
 *
 *   bash scripts/toolchain.sh node bench/audit-sink.cjs \
 *     [--writes 300] [--denials 1000] [--concurrency 20] [--events 1000000] \
 *     [--queries 20] [--port 7217] [--keep]
 *
 * PostgreSQL from POSTGRES_HOST/PORT/USER/PASSWORD (default 127.0.0.1:5432,
 * postgres); each variant gets its own databases (prefix bench_audit_<run>_),
 * dropped at the end unless --keep.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { quantile } = require('./lib/quantiles.cjs');
const { printVariantTable } = require('./lib/table.cjs');

const { values: opts } = parseArgs({
  options: {
    writes: { type: 'string', default: '300' },
    denials: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '20' },
    events: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '20' },
    port: { type: 'string', default: '7217' },
    keep: { type: 'boolean', default: false },
  },
});

const root = path.resolve(__dirname, '..');
const port = Number(opts.port);
const backendUrl = `http://127.0.0.1:${port}`;
const backendEntry = path.join(__dirname, 'permissions', 'backend.cjs');
const run = `${Date.now().toString(36)}`;
const pg = {
  host: process.env.POSTGRES_HOST ?? '127.0.0.1',
  port: Number(process.env.POSTGRES_PORT ?? 5432),
  user: process.env.POSTGRES_USER ?? 'postgres',
  password: process.env.POSTGRES_PASSWORD ?? '',
};
const sleep = ms => new Promise(r => setTimeout(r, ms));
const ms = v => (Number.isFinite(v) ? v.toFixed(1) : '-');

// ---------------------------------------------------------------------------
// The catalog: an admin, an owning team with its member, a person who owns
// nothing, and --writes components owned by the team.
const COMPONENTS = Math.max(Number(opts.writes), 50);
function catalogYaml() {
  const docs = [
    {
      kind: 'Group',
      metadata: { name: 'platform-admins' },
      spec: { type: 'team', children: [] },
    },
    {
      kind: 'Group',
      metadata: { name: 'team-a' },
      spec: { type: 'team', children: [] },
    },
    {
      kind: 'User',
      metadata: { name: 'ada' },
      spec: { memberOf: ['platform-admins'] },
    },
    {
      kind: 'User',
      metadata: { name: 'olive' },
      spec: { memberOf: ['team-a'] },
    },
    { kind: 'User', metadata: { name: 'nina' }, spec: { memberOf: [] } },
  ];
  for (let i = 0; i < COMPONENTS; i++) {
    docs.push({
      kind: 'Component',
      metadata: { name: `component-${i}` },
      spec: { type: 'service', lifecycle: 'production', owner: 'group:team-a' },
    });
  }
  return docs
    .map(d => JSON.stringify({ apiVersion: 'backstage.io/v1alpha1', ...d }))
    .join('\n---\n');
}
const people = {
  ada: { ref: 'user:default/ada', ent: ['group:default/platform-admins'] },
  olive: { ref: 'user:default/olive', ent: ['group:default/team-a'] },
  nina: { ref: 'user:default/nina', ent: [] },
};

// ---------------------------------------------------------------------------
function startBackend(name, dir, withSink, catalogFile) {
  const config = {
    app: { baseUrl: 'http://127.0.0.1:3000' },
    backend: {
      baseUrl: backendUrl,
      listen: { port, host: '127.0.0.1' },
      database: {
        client: 'pg',
        connection: pg,
        prefix: `bench_audit_${run}_${name.replace(/\W/g, '_')}_`,
      },
      auth: {
        externalAccess: [
          {
            type: 'static',
            options: { token: 'bench-static', subject: 'bench' },
          },
        ],
      },
    },
    auth: { providers: { 'bench-header': { enabled: true } } },
    catalog: {
      rules: [{ allow: ['Component', 'Group', 'User', 'Location'] }],
      locations: [{ type: 'file', target: catalogFile }],
      processingInterval: { minutes: 30 },
    },
    permission: {
      enabled: true,
      ownershipPolicy: { admins: ['group:default/platform-admins'] },
    },
  };
  const configFile = path.join(dir, `${name}.config.json`);
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const logFile = path.join(dir, `${name}.log`);
  const log = fs.openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    [backendEntry, '--config', configFile],
    {
      cwd: root,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        NODE_ENV: 'development',
        BENCH_POLICY: 'ownership',
        BENCH_AUDIT: withSink ? '1' : '',
      },
    },
  );
  const backend = {
    child,
    logFile,
    exited: false,
    database: config.backend.database,
  };
  child.on('exit', () => {
    backend.exited = true;
  });
  backend.stop = async () => {
    if (!backend.exited) child.kill('SIGTERM');
    for (let i = 0; i < 200 && !backend.exited; i++) await sleep(100);
    if (!backend.exited) child.kill('SIGKILL');
  };
  return backend;
}

async function call(method, url, token, body) {
  const res = await fetch(`${backendUrl}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body && { 'content-type': 'application/json' }),
    },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text };
}

async function signIn(person) {
  const res = await fetch(`${backendUrl}/api/auth/bench-header/refresh`, {
    headers: {
      'x-bench-user': person.ref,
      'x-bench-ent': JSON.stringify(person.ent),
      'x-requested-with': 'XMLHttpRequest',
    },
  });
  if (!res.ok) throw new Error(`sign-in answered ${res.status}`);
  return (await res.json()).backstageIdentity.token;
}

async function waitCatalog(backend) {
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (backend.exited)
      throw new Error(`backend exited; see ${backend.logFile}`);
    if (Date.now() > deadline)
      throw new Error(`no catalog; see ${backend.logFile}`);
    const r = await call(
      'GET',
      '/api/catalog/entities/by-query?filter=kind=component&limit=1',
      'bench-static',
    ).catch(() => undefined);
    if (r?.status === 200 && JSON.parse(r.text).totalItems >= COMPONENTS)
      return;
    await sleep(500);
  }
}

const summary = samples => ({
  n: samples.length,
  p50: quantile(samples, 0.5),
  p95: quantile(samples, 0.95),
});

async function timed(method, url, token, body, want) {
  const t = performance.now();
  const r = await call(method, url, token, body);
  const elapsed = performance.now() - t;
  if (r.status !== want) {
    throw new Error(
      `${method} ${url} answered ${r.status}, not ${want}: ${r.text.slice(
        0,
        200,
      )}`,
    );
  }
  return elapsed;
}

async function catalogWrites(token) {
  const n = Number(opts.writes);
  const refresh = i =>
    timed(
      'POST',
      '/api/catalog/refresh',
      token,
      { entityRef: `component:default/component-${i % COMPONENTS}` },
      200,
    );
  for (let i = 0; i < 20; i++) await refresh(i);
  const samples = [];
  for (let i = 0; i < n; i++) samples.push(await refresh(i));
  return summary(samples);
}

async function denialBurst(token) {
  const n = Number(opts.denials);
  const concurrency = Number(opts.concurrency);
  const del = i =>
    timed(
      'POST',
      '/api/catalog/refresh',
      token,
      { entityRef: `component:default/component-${i % COMPONENTS}` },
      403,
    );
  for (let i = 0; i < 20; i++) await del(i);
  const samples = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) samples.push(await del(next++));
    }),
  );
  return { ...summary(samples), wallMs: performance.now() - t0 };
}

async function sinkHealth(token) {
  const r = await call('GET', '/api/audit/health', token);
  if (r.status !== 200) throw new Error(`health answered ${r.status}`);
  return JSON.parse(r.text);
}

async function waitDrained(token) {
  const t0 = performance.now();
  for (;;) {
    const h = await sinkHealth(token);
    if (h.buffered === 0) return { ...h, drainMs: performance.now() - t0 };
    if (performance.now() - t0 > 300_000) return { ...h, drainMs: NaN };
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------
// 1,000,000 synthetic events, written by PostgreSQL itself
// (generate_series), spread over 400 days, 2,000 actors, 40 actions, 10,000
// entities, 5% failed: the shape of a year of a mid-size portal.
async function seedEvents(knex, count) {
  const t0 = performance.now();
  await knex.raw(
    `INSERT INTO audit_events (id, occurred_at, plugin, event_id, action, severity, outcome,
       actor_kind, actor_ref, actor_oid, actor_tid, actor, request_method, request_route,
       entity_refs, meta)
     SELECT md5('e' || g)::uuid,
       now() - ((? - g) * interval '400 days' / ?),
       'plugin' || (g % 8), 'event-' || (g % 40), 'plugin' || (g % 8) || '.event-' || (g % 40),
       'medium', CASE WHEN g % 20 = 0 THEN 'failed' ELSE 'succeeded' END,
       'person', 'user:default/person-' || (g % 2000), md5('o' || (g % 2000))::uuid::text,
       '11111111-1111-1111-1111-111111111111',
       '{"kind":"person","entityRef":"user:default/person-' || (g % 2000) || '"}',
       'POST', '/api/catalog/refresh',
       '["component:default/c-' || (g % 10000) || '"]',
       '{"environment":"production","n":' || g || '}'
     FROM generate_series(1, ?) AS g`,
    [count, count, count],
  );
  await knex.raw(
    `INSERT INTO audit_event_entities (event_seq, event_id, entity_ref)
     SELECT seq, id, 'component:default/c-' || (substring(entity_refs from 'c-([0-9]+)'))
     FROM audit_events WHERE request_route = '/api/catalog/refresh' AND actor_ref LIKE 'user:default/person-%'`,
  );
  await knex.raw('ANALYZE audit_events');
  await knex.raw('ANALYZE audit_event_entities');
  return performance.now() - t0;
}

async function queryTimes(token) {
  const n = Number(opts.queries);
  const day = 24 * 3600 * 1000;
  const cases = [
    ['newest 50, no filter', ''],
    ['person', 'person=user:default/person-42'],
    ['action', 'action=plugin3.event-11'],
    ['outcome failed', 'outcome=failed'],
    ['entity', 'entity=component:default/c-4242'],
    ['person + failed', 'person=user:default/person-40&outcome=failed'],
    [
      'one day 200 days ago',
      `from=${new Date(Date.now() - 201 * day).toISOString()}&to=${new Date(
        Date.now() - 200 * day,
      ).toISOString()}`,
    ],
  ];
  const out = [];
  for (const [label, query] of cases) {
    const url = `/api/audit/events?limit=50${query && `&${query}`}`;
    await timed('GET', url, token, undefined, 200);
    const samples = [];
    let items = 0;
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await call('GET', url, token);
      samples.push(performance.now() - t);
      items = JSON.parse(r.text).items.length;
    }
    out.push({ label, items, ...summary(samples) });
  }
  // 20 pages deep through the cursor, one person.
  let cursor;
  const pages = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const r = await call(
      'GET',
      `/api/audit/events?limit=50&action=plugin1.event-1${
        cursor ? `&cursor=${cursor}` : ''
      }`,
      token,
    );
    pages.push(performance.now() - t);
    cursor = JSON.parse(r.text).nextCursor;
    if (!cursor) break;
  }
  out.push({
    label: `cursor pages (action, ${pages.length})`,
    items: 50,
    ...summary(pages),
  });
  const t = performance.now();
  const exp = await call(
    'GET',
    '/api/audit/events/export?format=jsonl&person=user:default/person-7',
    token,
  );
  out.push({
    label: 'export jsonl, one person',
    items: exp.text.split('\n').filter(Boolean).length,
    n: 1,
    p50: performance.now() - t,
    p95: NaN,
  });
  return out;
}

// ---------------------------------------------------------------------------
async function runVariant(name, withSink, dir, catalogFile) {
  console.log(`\n== ${name}`);
  const backend = startBackend(name, dir, withSink, catalogFile);
  try {
    await waitCatalog(backend);
    const tokens = {
      ada: await signIn(people.ada),
      olive: await signIn(people.olive),
      nina: await signIn(people.nina),
    };
    const result = { name, backend };
    result.writes = await catalogWrites(tokens.olive);
    console.log(`  writes p50 ${ms(result.writes.p50)} ms`);
    result.denials = await denialBurst(tokens.nina);
    console.log(`  denials p50 ${ms(result.denials.p50)} ms`);
    if (withSink) {
      result.sink = await waitDrained(tokens.ada);
      const knex = require('knex')({
        client: 'pg',
        connection: { ...pg, database: `${backend.database.prefix}audit` },
      });
      try {
        result.deniedRows = Number(
          (
            await knex('audit_events')
              .where({ action: 'permission.permission-denied' })
              .count({ n: '*' })
          )[0].n,
        );
        const events = Number(opts.events);
        console.log(`  seeding ${events} events ...`);
        result.seedMs = await seedEvents(knex, events);
        result.totalRows = Number(
          (await knex('audit_events').count({ n: '*' }))[0].n,
        );
        result.queries = await queryTimes(tokens.ada);
      } finally {
        await knex.destroy();
      }
    }
    return result;
  } finally {
    await backend.stop();
  }
}

async function dropDatabases() {
  const knex = require('knex')({
    client: 'pg',
    connection: { ...pg, database: 'postgres' },
  });
  try {
    const { rows } = await knex.raw(
      `SELECT datname FROM pg_database WHERE datname LIKE ?`,
      [`bench_audit_${run}_%`],
    );
    for (const { datname } of rows)
      await knex.raw(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await knex.destroy();
  }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-audit-'));
  const catalogFile = path.join(dir, 'catalog.yaml');
  fs.writeFileSync(catalogFile, catalogYaml());
  console.log(
    `audit sink bench: ${os.cpus().length} cores, PostgreSQL ${pg.host}:${
      pg.port
    }, logs in ${dir}`,
  );
  const results = [];
  try {
    results.push(await runVariant('logs only', false, dir, catalogFile));
    results.push(await runVariant('with sink', true, dir, catalogFile));
  } finally {
    if (!opts.keep) await dropDatabases();
  }
  console.log(
    `\nCatalog writes (POST /api/catalog/refresh by an owner, sequential, ${opts.writes}) and a burst of ${opts.denials} denied refreshes (${opts.concurrency} at a time), ms:`,
  );
  printVariantTable(
    [
      ['write p50', r => ms(r.writes.p50)],
      ['write p95', r => ms(r.writes.p95)],
      ['denial p50', r => ms(r.denials.p50)],
      ['denial p95', r => ms(r.denials.p95)],
      ['burst wall time', r => ms(r.denials.wallMs)],
      ['queue drained after burst', r => (r.sink ? ms(r.sink.drainMs) : 'n/a')],
      [
        'events written / dropped',
        r => (r.sink ? `${r.sink.written} / ${r.sink.dropped}` : 'n/a'),
      ],
      ['denial events stored', r => (r.sink ? String(r.deniedRows) : 'n/a')],
    ],
    results,
  );
  const withSink = results.find(r => r.queries);
  if (withSink) {
    console.log(
      `\nAudit page queries over ${withSink.totalRows} events (seeded in ${ms(
        withSink.seedMs / 1000,
      )} s), ${opts.queries} each, ms:`,
    );
    for (const q of withSink.queries) {
      console.log(
        `  ${q.label.padEnd(34)} items ${String(q.items).padStart(6)}  p50 ${ms(
          q.p50,
        ).padStart(8)}  p95 ${ms(q.p95).padStart(8)}`,
      );
    }
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
