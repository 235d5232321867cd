/*
 * Check 2: the scheduler's lock in the shared database runs the org
 * ingestion once per period across replicas, not once per replica. Counted
 * at the emulator: each full round starts with the first page of GET /users.
 */
const { sleep } = require('../lib/procs.cjs');
const { isUsersFirstPage } = require('../lib/entra.cjs');

const APPLIED = /Entra org ingestion applied/g;

module.exports = async function oneRunPerSchedule({
  report,
  emulator,
  attribution,
  replicas,
  replicaOfPid,
  ingestion,
}) {
  const periods = 3;
  report.section(
    `2. One ingestion run per schedule (period ${
      ingestion.period
    } s, ${periods} periods, ${Object.keys(replicas).length} replicas)`,
  );
  const since = Date.now();
  const appliedBefore = Object.fromEntries(
    Object.values(replicas).map(r => [
      r.name,
      (r.output().match(APPLIED) ?? []).length,
    ]),
  );
  await sleep(periods * ingestion.period * 1000);
  const until = Date.now();
  // Give a run that started in the window time to finish before counting lines.
  await sleep(3000);
  const reads = emulator
    .graphRequests()
    .filter(r => r.method === 'GET' && isUsersFirstPage(r.path))
    .filter(r => Date.parse(r.at) >= since && Date.parse(r.at) < until);
  const graphTotal = emulator
    .graphRequests()
    .filter(r => Date.parse(r.at) >= since && Date.parse(r.at) < until).length;
  const byReplica = {};
  for (const r of attribution.seen.filter(
    s => isUsersFirstPage(s.path) && s.at >= since && s.at < until,
  )) {
    const n = replicaOfPid(r.pid);
    byReplica[n] = (byReplica[n] ?? 0) + 1;
  }
  const applied = Object.values(replicas).reduce(
    (sum, r) =>
      sum + (r.output().match(APPLIED) ?? []).length - appliedBefore[r.name],
    0,
  );
  const who = Object.entries(byReplica)
    .map(([n, c]) => `${n}: ${c}`)
    .join(', ');
  report.check(
    `one full round per period across replicas (${periods} periods)`,
    reads.length >= periods - 1 && reads.length <= periods + 1,
    `${reads.length} full rounds (GET /users first pages) in ${(
      (until - since) /
      1000
    ).toFixed(0)} s; by replica ${who}; ${graphTotal} Graph requests in all`,
  );
  report.check(
    'every round that read Graph was applied once (no run on two replicas)',
    applied >= reads.length - 1 && applied <= reads.length + 1,
    `${applied} "ingestion applied" log lines for ${reads.length} rounds`,
  );
};
