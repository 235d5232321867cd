/*
 * Check 3: kill -9 the replica that is running the org ingestion, then the
 * one running a scaffolder task. The survivor keeps serving through haproxy
 * (requests counted during the kill), the ingestion is run again once the
 * scheduler's lock has expired and completes on the survivor, the task ends
 * failed with a clear message (task recovery is off in production), and no
 * entity is lost.
 */
const { sleep, waitFor } = require('../lib/procs.cjs');
const { isUsersFirstPage, signInAcross } = require('../lib/entra.cjs');
const {
  errorKinds,
  countEntities,
  loadLoop,
  catalogRead,
  getTask,
  taskEvents,
  createTask,
} = require('../lib/portal.cjs');

/**
 * How long after a kill requests may fail: those the killed replica held
 * when it died and any sent before haproxy's health check marks it down
 * (fall 2 x inter 500 ms, plus a check that times out). Counting by time
 * rather than by number keeps the check about failover, not about how many
 * requests the load loops happened to have in flight.
 */
const DETECTION_WINDOW_MS = 3000;

const summarize = (results, killedAt) => {
  const failed = results.filter(r => !r.ok);
  return {
    kinds: errorKinds(results),
    sent: results.length,
    errors: failed.length,
    afterKill: results.filter(r => r.at >= killedAt).length,
    errorsAfterKill: failed.filter(r => r.at >= killedAt).length,
    errorsBeforeKill: failed.filter(r => r.end < killedAt).length,
    errorsAfterWindow: failed.filter(r => r.at > killedAt + DETECTION_WINDOW_MS)
      .length,
  };
};

/** The survivor served throughout: failures only around the kill. */
const keptServing = s =>
  s.afterKill > 0 && s.errorsBeforeKill === 0 && s.errorsAfterWindow === 0;

const servingDetail = s =>
  `${s.sent} catalog reads through haproxy, ${s.errors} errors (${
    s.afterKill
  } sent after the kill, ${s.errorsAfterKill} of them failed, ${
    s.errorsAfterWindow
  } later than ${DETECTION_WINDOW_MS / 1000} s after it; ${
    s.errorsBeforeKill
  } before it)${s.kinds ? `: ${s.kinds}` : ''}`;

async function bothUp(lb) {
  await waitFor(
    'haproxy to see both replicas UP',
    async () => (await lb.serverStates()).every(s => s.status === 'UP'),
    30_000,
  );
}

async function killDuringIngestion(ctx) {
  const {
    report,
    emulator,
    attribution,
    replicas,
    replicaOfPid,
    lb,
    staticToken,
    ingestion,
  } = ctx;
  report.section('3a. kill -9 the replica running the org ingestion');
  const entitiesBefore = await countEntities(lb.url, staticToken);
  const usersBefore = await countEntities(lb.url, staticToken, 'kind=user');
  // The next round waits on its first Graph page, long enough to kill its replica mid-run.
  emulator.setFaults([
    { route: '/v1.0/users', type: 'latency', ms: 15_000, times: 1 },
  ]);
  const seenBefore = attribution.seen.length;
  const run = await waitFor(
    'an ingestion round to start',
    () =>
      attribution.seen.slice(seenBefore).find(s => isUsersFirstPage(s.path)),
    (ingestion.period + 10) * 1000,
    100,
  );
  const victim = replicas[replicaOfPid(run.pid)];
  const survivor = Object.values(replicas).find(r => r !== victim);
  if (!victim)
    throw new Error(
      `the round was read by pid ${run.pid}, which is no replica`,
    );
  const load = loadLoop(catalogRead(lb.url, staticToken));
  await sleep(1000);
  const killedAt = Date.now();
  await victim.kill9();
  emulator.clearFaults();
  report.info(
    `round started on ${victim.name}; killed ${victim.name} (pid ${
      victim.pid
    }) ${((killedAt - run.at) / 1000).toFixed(1)} s into it`,
  );

  const appliedBefore = (
    survivor.output().match(/Entra org ingestion applied/g) ?? []
  ).length;
  let retry;
  try {
    retry = await waitFor(
      'the round to run again on the survivor',
      () =>
        attribution.seen.find(
          s =>
            s.at > killedAt &&
            isUsersFirstPage(s.path) &&
            replicaOfPid(s.pid) === survivor.name,
        ),
      // The scheduler's janitor frees an expired lock once a minute.
      (ingestion.timeout + 60 + ingestion.period + 30) * 1000,
      200,
    );
    await waitFor(
      'the survivor to apply it',
      () =>
        (survivor.output().match(/Entra org ingestion applied/g) ?? []).length >
        appliedBefore,
      60_000,
      200,
    );
  } catch {
    /* reported below */
  }
  await sleep(2000);
  const results = await load.stop();
  const s = summarize(results, killedAt);
  report.check(
    `${survivor.name} keeps serving through haproxy while ${victim.name} is killed`,
    keptServing(s),
    servingDetail(s),
  );
  report.check(
    `the round is run again on ${survivor.name} after the lock expires (timeout ${ingestion.timeout} s, janitor every 60 s) and completes`,
    Boolean(retry) &&
      (survivor.output().match(/Entra org ingestion applied/g) ?? []).length >
        appliedBefore,
    retry
      ? `re-run started ${((retry.at - run.at) / 1000).toFixed(
          1,
        )} s after the killed one started, ${(
          (retry.at - killedAt) /
          1000
        ).toFixed(1)} s after the kill`
      : 'no re-run seen',
  );
  const entitiesAfter = await countEntities(lb.url, staticToken);
  const usersAfter = await countEntities(lb.url, staticToken, 'kind=user');
  report.check(
    'no entity lost',
    entitiesAfter === entitiesBefore && usersAfter === usersBefore,
    `entities before/after ${entitiesBefore}/${entitiesAfter}, users ${usersBefore}/${usersAfter}`,
  );
  const readyMs = await ctx.restart(victim.name);
  await bothUp(lb);
  report.info(
    `${victim.name} started again in ${(readyMs / 1000).toFixed(
      1,
    )} s; haproxy sees both UP`,
  );
}

async function killDuringTask(ctx) {
  const { report, replicas, lb, staticToken } = ctx;
  report.section('3b. kill -9 the replica running a scaffolder task');
  const entitiesBefore = await countEntities(lb.url, staticToken);
  const session = await signInAcross(
    lb.url,
    lb.url,
    'ada.admin@contoso.example',
  );
  const taskId = await createTask(
    lb.url,
    session.token,
    'template:default/replicas-slow-task',
    { seconds: 120 },
  );
  const marker = new RegExp(`replica harness slow task started: ${taskId}`);
  const victim = await waitFor(
    'a replica to run the task',
    () =>
      Object.values(replicas).find(r => r.running() && marker.test(r.output())),
    60_000,
    200,
  );
  const survivor = Object.values(replicas).find(r => r !== victim);
  const load = loadLoop(catalogRead(lb.url, staticToken));
  await sleep(1500);
  const killedAt = Date.now();
  await victim.kill9();
  report.info(
    `task ${taskId} ran on ${victim.name}; killed it (pid ${victim.pid})`,
  );
  let task;
  try {
    task = await waitFor(
      'the task to end',
      async () => {
        const t = await getTask(survivor.url, session.token, taskId);
        return ['failed', 'completed', 'cancelled'].includes(t.status)
          ? t
          : undefined;
      },
      90_000,
      1000,
    );
  } catch {
    task = await getTask(survivor.url, session.token, taskId);
  }
  const endedAfter = (Date.now() - killedAt) / 1000;
  const results = await load.stop();
  const s = summarize(results, killedAt);
  const events = await taskEvents(survivor.url, session.token, taskId);
  const completion = events.find(e => e.type === 'completion');
  report.check(
    `${survivor.name} keeps serving through haproxy while ${victim.name} is killed`,
    keptServing(s),
    servingDetail(s),
  );
  report.check(
    'the task ends in a clear state: failed, marked stale by the janitor',
    task.status === 'failed' &&
      /marked as stale/.test(completion?.body?.message ?? ''),
    `status ${task.status} ${endedAfter.toFixed(0)} s after the kill: "${
      completion?.body?.message ?? 'no completion event'
    }"`,
  );
  const entitiesAfter = await countEntities(lb.url, staticToken);
  report.check(
    'no entity lost',
    entitiesAfter === entitiesBefore,
    `entities before/after ${entitiesBefore}/${entitiesAfter}`,
  );
  const readyMs = await ctx.restart(victim.name);
  await bothUp(lb);
  report.info(
    `${victim.name} started again in ${(readyMs / 1000).toFixed(
      1,
    )} s; haproxy sees both UP`,
  );
}

module.exports = { killDuringIngestion, killDuringTask };
