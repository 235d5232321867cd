/*
 * Brings up what the replica checks and bench/replicas.cjs run against:
 * a throwaway PostgreSQL, the Entra emulator, N built backends with the
 * production configuration and haproxy in front of them. Everything started
 * registers its own cleanup (procs.cjs).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { ensureBuilt, prepareRuntime } = require('./bundle.cjs');
const { startThrowawayPostgres } = require('./postgres.cjs');
const { startHaproxy } = require('./haproxy.cjs');
const { startEmulator, attributeGraphRequests } = require('./entra.cjs');
const { startReplica } = require('./backend.cjs');
const { freePort } = require('./ports.cjs');
const { onCleanup } = require('./procs.cjs');

const REDIS_URL = process.env.REPLICAS_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Deletes this run's keys (its namespace only) from the shared Redis. */
function redisKeys(namespace) {
  const url = new URL(REDIS_URL);
  const args = ['-h', url.hostname, '-p', url.port || '6379'];
  const keys = execFileSync(
    'redis-cli',
    [...args, '--scan', '--pattern', `${namespace}:*`],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean);
  return { keys, args };
}

async function startCluster({
  report,
  names = ['a', 'b'],
  ingestion = { period: 6, timeout: 20 },
  haproxyPools,
}) {
  const runId = `replicas_${Date.now().toString(36)}_${randomBytes(3).toString(
    'hex',
  )}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replicas-run-'));
  onCleanup('run directory', () => {
    if (process.env.REPLICAS_KEEP_LOGS) console.log(`   logs kept in ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  });

  ensureBuilt(report);
  const backendDir = prepareRuntime(path.join(dir, 'runtime'));
  report.info(
    `built backend unpacked from packages/backend/dist/bundle.tar.gz into ${dir}/runtime`,
  );

  const pg = await startThrowawayPostgres();
  onCleanup('PostgreSQL', () => pg.stop());
  report.info(
    `throwaway ${pg.version} on 127.0.0.1:${pg.port} (initdb in ${pg.dir}; the shared 5432 is not used)`,
  );

  const ports = Object.fromEntries(
    await Promise.all(names.map(async n => [n, await freePort()])),
  );
  const pools = haproxyPools ?? { main: names };
  const proxies = {};
  for (const [pool, members] of Object.entries(pools)) {
    const proxyDir = path.join(dir, `haproxy-${pool}`);
    fs.mkdirSync(proxyDir);
    proxies[pool] = await startHaproxy({
      dir: proxyDir,
      servers: members.map(n => ({ name: n, port: ports[n] })),
    });
    onCleanup(`haproxy ${pool}`, () => proxies[pool].stop());
  }
  const lb = proxies.main ?? Object.values(proxies)[0];
  report.info(
    `${lb.version}: ${Object.entries(proxies)
      .map(([p, h]) => `${p} on ${h.url}`)
      .join(', ')}`,
  );

  // Sign-in returns through the load balancer the browser used.
  const { emulator, dataDir: emulatorDir } = await startEmulator({
    callbackUrl: `${lb.url}/api/auth/microsoft/handler/frame`,
  });
  onCleanup('Entra emulator', async () => {
    await emulator.close();
    fs.rmSync(emulatorDir, { recursive: true, force: true });
  });
  const attribution = attributeGraphRequests();
  onCleanup('Graph attribution', () => attribution.stop());
  report.info(
    `Entra emulator (in process) at ${emulator.httpsUrl}, tenant ${emulator.tenantId}`,
  );

  const namespace = runId;
  onCleanup('Redis keys', () => {
    const { keys, args } = redisKeys(namespace);
    for (let i = 0; i < keys.length; i += 500)
      execFileSync('redis-cli', [...args, 'del', ...keys.slice(i, i + 500)]);
  });

  const staticToken = randomBytes(24).toString('base64url');
  const env = {
    POSTGRES_HOST: pg.host,
    POSTGRES_PORT: String(pg.port),
    POSTGRES_USER: 'postgres',
    POSTGRES_PASSWORD: '',
    POSTGRES_DB_PREFIX: `${runId}_`,
    APP_BASE_URL: lb.url,
    AZURE_TENANT_ID: emulator.tenantId,
    AZURE_CLIENT_ID: emulator.apps.portal.clientId,
    AZURE_CLIENT_SECRET: emulator.apps.portal.clientSecret,
    ENTRA_AUTHORITY: emulator.authority,
    ENTRA_AUTHORITY_HOST: emulator.httpsUrl,
    ENTRA_GRAPH_URL: emulator.graphBaseUrl,
    NODE_EXTRA_CA_CERTS: emulator.caCertPath,
    PORTAL_TEST_ALLOW_LOOPBACK_ENTRA: '1',
    BACKEND_CACHE_STORE: 'redis',
    REDIS_URL,
    REDIS_NAMESPACE: namespace,
    REPLICAS_STATIC_TOKEN: staticToken,
    // Debian's mkdocs has Material but not techdocs-core (docs/operations.md, TechDocs).
    TECHDOCS_OMIT_CORE_PLUGIN: 'true',
    REPLICAS_INGESTION_PERIOD_SECONDS: String(ingestion.period),
    REPLICAS_INGESTION_TIMEOUT_SECONDS: String(ingestion.timeout),
  };

  const replicas = {};
  const start = name => {
    const replica = startReplica({
      name,
      port: ports[name],
      backendDir,
      env,
      logDir: dir,
    });
    replicas[name] = replica;
    onCleanup(`replica ${name}`, () => replica.stop());
    return replica;
  };
  // One after the other: on empty databases, replicas started at once race
  // for the first migrations and the loser exits ("knex_migrations already
  // exists" / MigrationLocked; Kubernetes restarts it). docs/operations.md.
  const started = [];
  const readyMs = [];
  for (const name of names) {
    started.push(start(name));
    readyMs.push(await started[started.length - 1].waitReady());
  }
  report.info(
    `replicas ready: ${started
      .map(
        (r, i) =>
          `${r.name} (pid ${r.pid}, :${r.port}) in ${(
            readyMs[i] / 1000
          ).toFixed(1)} s`,
      )
      .join(', ')}`,
  );

  const replicaOfPid = pid =>
    Object.values(replicas).find(r => r.pid === pid)?.name ?? `pid ${pid}`;
  return {
    runId,
    dir,
    pg,
    lb,
    proxies,
    emulator,
    attribution,
    replicas,
    staticToken,
    namespace,
    redisKeys: () => redisKeys(namespace).keys,
    replicaOfPid,
    /** Starts `name` again on its port (after a kill), waits for readiness. */
    async restart(name) {
      const replica = start(name);
      return replica.waitReady();
    },
  };
}

module.exports = { startCluster };
