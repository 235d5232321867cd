/*
 * Check 2: the scheduler's lock in the shared database runs the org
 * ingestion once per period across replicas, not once per replica. Counted
 * at the emulator: each full round starts with the first page of GET /users.
 */
const { sleep, waitFor } = require('../lib/procs.cjs');
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
  const appliedLines = () =>
    Object.values(replicas).reduce(
      (sum, r) => sum + (r.output().match(APPLIED) ?? []).length,
      0,
    );
  // Start the window right after a round has finished, so that no round
  // straddles its start; at its end, wait for the rounds it saw to finish.
  const appliedAtStart = appliedLines();
  await waitFor(
    'a round to finish',
    () => appliedLines() > appliedAtStart,
    (ingestion.period + ingestion.timeout) * 1000,
    200,
  );
  const since = Date.now();
  const appliedBefore = appliedLines();
  await sleep(periods * ingestion.period * 1000);
  const until = Date.now();
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
  await waitFor(
    'the rounds of the window to finish',
    () => appliedLines() - appliedBefore >= reads.length,
    60_000,
    200,
  ).catch(() => {});
  const applied = appliedLines() - appliedBefore;
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
    applied === reads.length,
    `${applied} "ingestion applied" log lines for ${reads.length} rounds`,
  );
};
