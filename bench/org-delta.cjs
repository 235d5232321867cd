#!/usr/bin/env node
/*
 * Delta ingestion at scale (plugins/catalog-backend-module-entra-org): the
 * provider runs in this process against a generated tenant served by the
 * emulator in a child process (bench/org-delta/emulator.cjs), with the
 * delta state in SQLite in memory and a catalog stand-in that applies the
 * mutations. Prints, side by side with a full round: Graph requests, wall
 * time and this process's CPU (the provider's alone) for a steady-state poll
 * with no change and for a poll with 100 changes, then the time from a
 * change in the emulator to its mutation (p50/p95 over --samples changes,
 * made at random points of a poll loop of --interval-seconds). Prints
 * numbers; asserts nothing. The real catalog's processing of the changed
 * entities comes on top (see bench/org-ingestion.cjs for a full mutation).
 *
 *   bash scripts/toolchain.sh node bench/org-delta.cjs \
 *     [--users 50000] [--groups 5000] [--samples 50] [--interval-seconds 5]
 */
require('@backstage/cli-node/config/nodeTransform.cjs');
const { fork } = require('node:child_process');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { quantile } = require('./lib/quantiles.cjs');

const { values: opts } = parseArgs({
  options: {
    users: { type: 'string', default: '50000' },
    groups: { type: 'string', default: '5000' },
    samples: { type: 'string', default: '50' },
    'interval-seconds': { type: 'string', default: '5' },
    'quiet-polls': { type: 'string', default: '10' },
  },
});

const sleep = ms => new Promise(r => setTimeout(r, ms));
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function startEmulator() {
  const child = fork(
    path.join(__dirname, 'org-delta', 'emulator.cjs'),
    [opts.users, opts.groups],
    { stdio: 'inherit' },
  );
  let next = 0;
  const waiting = new Map();
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.on('message', msg => {
      if (msg.ready) {
        resolve({
          info: msg,
          child,
          call: (op, ...args) =>
            new Promise((res, rej) => {
              const id = next++;
              waiting.set(id, { res, rej });
              child.send({ id, op, args });
            }),
        });
        return;
      }
      // nodeTransform in the child reports loaded modules over IPC too.
      const w = waiting.get(msg?.id);
      if (!w) return;
      waiting.delete(msg.id);
      if (msg.error) w.rej(new Error(msg.error));
      else w.res(msg.result);
    });
  });
}

async function main() {
  const { stringifyEntityRef } = require('@backstage/catalog-model');
  const { trustCa } = require('@internal/entra-emulator/testUtils');
  const knex = require('knex')({
    client: 'better-sqlite3',
    connection: { filename: ':memory:' },
    useNullAsDefault: true,
  });
  const src = '../plugins/catalog-backend-module-entra-org/src';
  const { EntraOrgEntityProvider } = require(`${src}/entraOrgProvider`);
  const { createGraphClient } = require(`${src}/graphClient`);
  const { DatabaseProviderStateStore } = require(`${src}/ingestionState`);
  const { DeltaStateStore } = require(`${src}/deltaSync`);

  const t0 = performance.now();
  const emu = await startEmulator();
  const { info } = emu;
  trustCa(info.caCertPath);
  console.log(
    `Emulator: ${opts.users} users, ${opts.groups} groups, ready in ${(
      (performance.now() - t0) /
      1000
    ).toFixed(1)} s`,
  );

  const config = {
    id: 'default',
    target: info.graphBaseUrl,
    authority: info.httpsUrl,
    tenantId: info.tenantId,
    clientId: info.clientId,
    clientSecret: info.clientSecret,
  };
  // The catalog stand-in notes when each entity last changed.
  const catalog = new Map();
  const changedAt = new Map();
  const connection = {
    applyMutation: async m => {
      const now = performance.now();
      if (m.type === 'full') {
        catalog.clear();
        for (const e of m.entities)
          catalog.set(stringifyEntityRef(e.entity), e.entity);
        return;
      }
      for (const r of m.removed) {
        catalog.delete(r.entityRef);
        changedAt.set(r.entityRef, now);
      }
      for (const e of m.added) {
        const ref = stringifyEntityRef(e.entity);
        catalog.set(ref, e.entity);
        changedAt.set(
          e.entity.metadata.annotations['graph.microsoft.com/user-id'] ?? ref,
          now,
        );
      }
    },
    refresh: async () => {},
  };
  const noop = () => {};
  const logger = {
    info: noop,
    warn: console.warn,
    error: console.error,
    debug: noop,
    child: () => logger,
  };
  const provider = new EntraOrgEntityProvider({
    config,
    client: createGraphClient(config),
    store: await DatabaseProviderStateStore.create(knex),
    logger,
    taskRunner: { run: async () => {} },
    taskId: 'bench',
    maxDeletionShare: 1,
    delta: {
      store: await DeltaStateStore.create(knex),
      fullRoundEveryMs: 864e5,
    },
  });
  await provider.connect(connection);

  const measure = async (label, fn) => {
    const r0 = await emu.call('graphRequests');
    const c0 = cpu();
    const w0 = performance.now();
    const status = await fn();
    const result = {
      label,
      ms: performance.now() - w0,
      cpuMs: cpu() - c0,
      requests: (await emu.call('graphRequests')) - r0,
      status,
    };
    console.log(
      `${label}: ${status.outcome}, ${
        result.requests
      } Graph requests, ${result.ms.toFixed(0)} ms, CPU ${result.cpuMs.toFixed(
        0,
      )} ms` +
        (status.applied
          ? `, ${status.applied.added} added/changed, ${status.applied.removed} removed`
          : ''),
    );
    return result;
  };

  const full = await measure('full round', () => provider.read());
  const quiet = [];
  for (let i = 0; i < Number(opts['quiet-polls']); i++)
    quiet.push(await measure(`quiet poll ${i + 1}`, () => provider.poll()));

  // 100 changes: renames, disables, joins and leaves.
  const people = info.users.filter(u => u.enabled);
  const withMembers = info.groups.filter(g => g.members.length > 0);
  let k = 0;
  const pick = list => list[(k++ * 7919) % list.length];
  for (let i = 0; i < 40; i++)
    await emu.call('updateUser', pick(people).id, {
      displayName: `Renamed ${i}`,
    });
  for (let i = 0; i < 20; i++)
    await emu.call('setAccountEnabled', people[i * 97].id, false);
  for (let i = 0; i < 20; i++) {
    const g = withMembers[i];
    await emu.call('removeMember', g.id, g.members[0]);
    g.members.shift();
  }
  for (let i = 0; i < 20; i++)
    await emu.call(
      'addMember',
      withMembers[withMembers.length - 1 - i].id,
      people[i * 89 + 1].id,
    );
  const hundred = await measure('poll with 100 changes', () => provider.poll());
  const hundred2 = await measure('next poll (quiet again)', () =>
    provider.poll(),
  );

  // Latency: one change at a random point of the poll loop, until it lands.
  const intervalMs = Number(opts['interval-seconds']) * 1000;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      await provider.poll();
      await sleep(intervalMs);
    }
  })();
  const latencies = [];
  // People the change step above left enabled: a disabled one's rename
  // changes nothing in the catalog.
  const disabled = new Set(
    Array.from({ length: 20 }, (_, i) => people[i * 97].id),
  );
  const subjects = people.filter(u => !disabled.has(u.id));
  for (let i = 0; i < Number(opts.samples); i++) {
    await sleep(Math.random() * intervalMs);
    const user = subjects[(i * 31 + 5) % subjects.length];
    const at = performance.now();
    await emu.call('updateUser', user.id, { displayName: `Latency ${i}` });
    while (!((changedAt.get(user.id) ?? 0) > at)) {
      if (performance.now() - at > 10 * intervalMs + 120_000)
        throw new Error(
          `Change ${i} (user ${user.id}) never reached the catalog`,
        );
      await sleep(20);
    }
    latencies.push(changedAt.get(user.id) - at);
  }
  stop = true;
  await loop;

  const avg = list => list.reduce((a, b) => a + b, 0) / list.length;
  console.log('');
  console.log(
    `Tenant: ${opts.users} users x ${opts.groups} groups; catalog ${catalog.size} entities`,
  );
  console.log('                           requests   wall ms   CPU ms');
  const row = (label, r) =>
    console.log(
      `${label.padEnd(26)} ${String(r.requests).padStart(8)} ${r.ms
        .toFixed(0)
        .padStart(9)} ${r.cpuMs.toFixed(0).padStart(8)}`,
    );
  row('full round (reconcile)', full);
  row('quiet poll (avg)', {
    requests: avg(quiet.map(q => q.requests)),
    ms: avg(quiet.map(q => q.ms)),
    cpuMs: avg(quiet.map(q => q.cpuMs)),
  });
  row('poll with 100 changes', hundred);
  row('poll after that (quiet)', hundred2);
  console.log(
    `change -> mutation, poll every ${opts['interval-seconds']} s, ${
      latencies.length
    } changes: p50 ${(quantile(latencies, 0.5) / 1000).toFixed(1)} s, p95 ${(
      quantile(latencies, 0.95) / 1000
    ).toFixed(1)} s, max ${(Math.max(...latencies) / 1000).toFixed(1)} s`,
  );
  console.log(
    `full re-read instead: each change waits for the next round (schedule/2 on average) plus a round of ${(
      full.ms / 1000
    ).toFixed(1)} s and a full mutation`,
  );
  emu.child.disconnect();
  await knex.destroy();
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
