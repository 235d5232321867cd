#!/usr/bin/env node
/*
 * Catalog read throughput (requests/s, p50/p95) and sign-in p95 through
 * haproxy with ONE and with TWO replicas, side by side in one run: the same
 * two built backends (scripts/replicas harness), one haproxy whose pool is
 * replica a only and one whose pool is a and b.
 *
 *   yarn bench:replicas [--seconds 15] [--concurrency 8] [--signins 30] [--rounds 2]
 */
require('@backstage/cli-node/config/nodeTransform.cjs');
const { Report } = require('../scripts/replicas/lib/report.cjs');
const {
  cleanupAll,
  stopOnSignals,
  waitFor,
} = require('../scripts/replicas/lib/procs.cjs');
const { startCluster } = require('../scripts/replicas/lib/cluster.cjs');
const { signInAcross } = require('../scripts/replicas/lib/entra.cjs');
const {
  loadLoop,
  catalogRead,
  countEntities,
} = require('../scripts/replicas/lib/portal.cjs');
const { quantile } = require('./lib/quantiles.cjs');
const { printVariantTable } = require('./lib/table.cjs');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('seconds', 15);
const concurrency = arg('concurrency', 8);
const signins = arg('signins', 30);
const rounds = arg('rounds', 2);

async function measure(name, lb, token) {
  const load = loadLoop(catalogRead(lb.url, token), concurrency);
  await new Promise(r => setTimeout(r, seconds * 1000));
  const reads = await load.stop();
  const ok = reads.filter(r => r.ok);
  const readMs = ok.map(r => r.end - r.at);
  const signInMs = [];
  for (let i = 0; i < signins; i++) {
    const t = Date.now();
    await signInAcross(lb.url, lb.url, 'ben.builder@contoso.example');
    signInMs.push(Date.now() - t);
  }
  return {
    name,
    reads: reads.length,
    errors: reads.length - ok.length,
    rps: ok.length / seconds,
    readMs,
    signInMs,
  };
}

async function main() {
  stopOnSignals();
  const report = new Report();
  try {
    const c = await startCluster({
      report,
      ingestion: { period: 3600, timeout: 600 },
      haproxyPools: { one: ['a'], two: ['a', 'b'] },
    });
    await waitFor(
      'the org in the catalog',
      async () =>
        (await countEntities(c.proxies.two.url, c.staticToken, 'kind=user')) >
        0,
      120_000,
      500,
    );
    await waitFor(
      'haproxy to see its pools UP',
      async () => {
        const states = [
          ...(await c.proxies.one.serverStates()),
          ...(await c.proxies.two.serverStates()),
        ];
        return states.every(s => s.status === 'UP');
      },
      30_000,
    );
    // Interleaved rounds (one, two, one, two, ...), so that whatever else
    // the machine does drifts into both columns alike.
    const results = [];
    for (let round = 0; round < rounds; round++) {
      for (const [name, lb] of [
        ['1 replica', c.proxies.one],
        ['2 replicas', c.proxies.two],
      ]) {
        const r = await measure(name, lb, c.staticToken);
        const total = results.find(x => x.name === name);
        if (!total) results.push(r);
        else {
          total.reads += r.reads;
          total.errors += r.errors;
          total.rps = (total.rps * round + r.rps) / (round + 1);
          total.readMs.push(...r.readMs);
          total.signInMs.push(...r.signInMs);
        }
      }
    }
    console.log(
      `\n${rounds} interleaved rounds; catalog reads (GET by-query kind=user, limit 20) for ${seconds} s at concurrency ${concurrency}; ${signins} sign-ins each, sequential`,
    );
    printVariantTable(
      [
        ['catalog reads/s', r => r.rps.toFixed(1)],
        ['catalog read p50 ms', r => quantile(r.readMs, 0.5)],
        ['catalog read p95 ms', r => quantile(r.readMs, 0.95)],
        ['catalog read errors', r => `${r.errors} of ${r.reads}`],
        ['sign-in p50 ms', r => quantile(r.signInMs, 0.5)],
        ['sign-in p95 ms', r => quantile(r.signInMs, 0.95)],
      ],
      results,
    );
  } finally {
    await cleanupAll();
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
