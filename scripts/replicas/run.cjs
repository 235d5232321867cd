#!/usr/bin/env node
/*
 * yarn test:replicas: two built backends with the production configuration
 * behind Debian's haproxy, on a throwaway PostgreSQL, with the shared Redis
 * cache and the Entra emulator, checked the ways several replicas fail:
 *
 *   1. sign-in across replicas          4. PostgreSQL restart under load
 *   2. one ingestion run per schedule   5. the cache shared in Redis
 *   3. kill -9 during an ingestion run and during a scaffolder task
 *
 * Starts and stops everything itself (also on failure and Ctrl-C). Ends with
 * `N passed, N failed`; exits non-zero when a check failed.
 * Needs: haproxy, redis-cli, ss, PostgreSQL 15 server binaries, Redis on
 * 127.0.0.1:6379 (REPLICAS_REDIS_URL to change). REPLICAS_KEEP_LOGS=1 keeps
 * the run directory (backend logs) for inspection; REPLICAS_SKIP_BUILD=1 uses
 * packages/backend/dist as it is; REPLICAS_COUNTS_FILE=<file> writes
 * { passed, failed } there. docs/operations.md.
 */
require('@backstage/cli-node/config/nodeTransform.cjs');
const fs = require('node:fs');
const path = require('node:path');
const { Report } = require('./lib/report.cjs');
const { cleanupAll, isStopping, stopOnSignals } = require('./lib/procs.cjs');
const { startCluster } = require('./lib/cluster.cjs');
const signInAcrossReplicas = require('./checks/signIn.cjs');
const sharedRedisCache = require('./checks/cache.cjs');
const oneRunPerSchedule = require('./checks/schedule.cjs');
const { killDuringIngestion, killDuringTask } = require('./checks/kills.cjs');
const restartPostgresUnderLoad = require('./checks/postgresRestart.cjs');

// A full round of the seeded org takes ~13 s here (221 groups, one members
// request each): the period leaves room for it, the timeout for a slow one.
const INGESTION = { period: 20, timeout: 30 };

async function main() {
  const started = Date.now();
  const report = new Report();
  stopOnSignals();
  let ctx;
  try {
    report.section('Setup');
    ctx = {
      report,
      ingestion: INGESTION,
      ...(await startCluster({ report, ingestion: INGESTION })),
    };
    const { waitFor } = require('./lib/procs.cjs');
    let states = [];
    await waitFor(
      'haproxy to see both replicas UP',
      async () =>
        (states = await ctx.lb.serverStates()).every(s => s.status === 'UP'),
      30_000,
    ).catch(() => {});
    report.check(
      'haproxy health checks see both replicas UP',
      states.every(s => s.status === 'UP') && states.length === 2,
      states.map(s => `${s.name} ${s.status}`).join(', '),
    );
    const { countEntities } = require('./lib/portal.cjs');
    const orgStart = Date.now();
    const users = await waitFor(
      'the first org ingestion to reach the catalog',
      async () => {
        const u = await countEntities(ctx.lb.url, ctx.staticToken, 'kind=user');
        const g = await countEntities(
          ctx.lb.url,
          ctx.staticToken,
          'kind=group',
        );
        return u > 0 && g > 0 ? `${u} users, ${g} groups` : undefined;
      },
      120_000,
      500,
    );
    report.info(
      `org in the catalog after ${((Date.now() - orgStart) / 1000).toFixed(
        1,
      )} s more: ${users}`,
    );
    for (const check of [
      signInAcrossReplicas,
      sharedRedisCache,
      oneRunPerSchedule,
      killDuringIngestion,
      killDuringTask,
      restartPostgresUnderLoad,
    ]) {
      if (isStopping()) break;
      try {
        await check(ctx);
      } catch (error) {
        report.error(check.name, error);
      }
      // A check that failed half-way may leave a replica killed: the next
      // check needs both.
      for (const r of Object.values(ctx.replicas)) {
        if (!r.running() && !isStopping()) {
          report.info(`starting ${r.name} again for the next check`);
          await ctx.restart(r.name);
        }
      }
    }
    const states2 = await ctx.lb.serverStates();
    report.info(
      `haproxy requests per replica: ${states2
        .map(s => `${s.name} ${s.requests}`)
        .join(', ')}`,
    );
  } catch (error) {
    report.error('setup', error);
  } finally {
    if (report.failed && ctx) {
      const keep = path.join(ctx.dir, '..', `${path.basename(ctx.dir)}-logs`);
      fs.mkdirSync(keep, { recursive: true });
      for (const f of fs.readdirSync(ctx.dir).filter(f => f.endsWith('.log')))
        fs.copyFileSync(path.join(ctx.dir, f), path.join(keep, f));
      console.log(`\n   backend logs of the failed run: ${keep}`);
    }
    await cleanupAll();
  }
  console.log(
    `\nreplica harness took ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  console.log(report.summaryLine());
  // scripts/test-all.sh sums these into its own closing line.
  if (process.env.REPLICAS_COUNTS_FILE) {
    fs.writeFileSync(
      process.env.REPLICAS_COUNTS_FILE,
      JSON.stringify({ passed: report.passed, failed: report.failed }),
    );
  }
  process.exit(report.failed ? 1 : 0);
}

main();
