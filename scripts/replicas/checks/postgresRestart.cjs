/*
 * Check 4: restart PostgreSQL (the harness's own instance) under a bounded
 * load of catalog reads and sign-ins through haproxy. The backends reconnect
 * by themselves (same pids), and requests fail only around the outage.
 */
const { sleep } = require('../lib/procs.cjs');
const { signInAcross } = require('../lib/entra.cjs');
const { errorKinds, loadLoop, catalogRead } = require('../lib/portal.cjs');

// How long after PostgreSQL accepts again a pooled connection may still be
// found dead on first use (each pool drops it and dials again).
const RECONNECT_GRACE_MS = 5000;

module.exports = async function restartPostgresUnderLoad({
  report,
  pg,
  lb,
  staticToken,
  replicas,
}) {
  report.section(
    "4. Restart PostgreSQL under load (the harness's own instance, never the shared 5432)",
  );
  const pids = Object.fromEntries(
    Object.values(replicas).map(r => [r.name, r.pid]),
  );
  const reads = loadLoop(catalogRead(lb.url, staticToken), 3);
  const signIns = loadLoop(
    async () =>
      Boolean(
        (await signInAcross(lb.url, lb.url, 'ben.builder@contoso.example'))
          .token,
      ),
    1,
  );
  await sleep(4000);
  const outageStart = Date.now();
  await pg.restart();
  const outageEnd = Date.now();
  await sleep(15_000);
  const all = [...(await reads.stop()), ...(await signIns.stop())];
  const inWindow = r =>
    r.end >= outageStart && r.at <= outageEnd + RECONNECT_GRACE_MS;
  const window = all.filter(inWindow);
  const outside = all.filter(r => !inWindow(r));
  const lateOk = all.filter(
    r => r.at > outageEnd + RECONNECT_GRACE_MS && r.ok,
  ).length;
  report.info(
    `pg_ctl restart -m fast took ${((outageEnd - outageStart) / 1000).toFixed(
      1,
    )} s; ${all.length} requests (${
      all.length - reads.results.length
    } sign-ins)`,
  );
  report.check(
    'errors only during the outage window',
    outside.every(r => r.ok),
    `${window.filter(r => !r.ok).length} errors of ${
      window.length
    } requests in the window (restart + ${RECONNECT_GRACE_MS / 1000} s), ${
      outside.filter(r => !r.ok).length
    } errors of ${outside.length} outside it${
      errorKinds(all) ? `; ${errorKinds(all)}` : ''
    }`,
  );
  report.check(
    'the backends reconnect without a restart',
    lateOk > 0 &&
      Object.values(replicas).every(r => r.running() && r.pid === pids[r.name]),
    `${lateOk} requests succeeded after the window; replica pids unchanged (${Object.entries(
      pids,
    )
      .map(([n, p]) => `${n} ${p}`)
      .join(', ')})`,
  );
  const ready = await Promise.all(
    Object.values(replicas).map(
      async r =>
        (
          await fetch(`${r.url}/.backstage/health/v1/readiness`)
        ).status,
    ),
  );
  report.check(
    'readiness is 200 on every replica afterwards',
    ready.every(s => s === 200),
    `answers ${ready.join(', ')}`,
  );
};
