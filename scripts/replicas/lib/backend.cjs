/*
 * One replica: the built backend (`node packages/backend`, NODE_ENV=production)
 * with app-config.yaml, app-config.production.yaml and the harness overlay,
 * on its own loopback port, started from the repository root as the image
 * starts it from /app (catalog files are relative to it).
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const yaml = require('yaml');
const { ROOT } = require('./bundle.cjs');
const { waitFor } = require('./procs.cjs');

const CONFIG_FILES = [
  'app-config.yaml',
  'app-config.production.yaml',
  'deploy/replicas/app-config.replicas.yaml',
];

/**
 * Production's catalog locations plus the harness's slow task template:
 * config lists replace each other, so the overlay cannot just add one.
 */
function harnessLocations() {
  const production = yaml.parse(
    fs.readFileSync(path.join(ROOT, 'app-config.production.yaml'), 'utf8'),
  );
  return [
    ...(production.catalog?.locations ?? []),
    {
      type: 'file',
      target: './deploy/replicas/templates/slow-task.yaml',
      rules: [{ allow: ['Template'] }],
    },
  ];
}

/**
 * Starts replica `name` on `port`; resolves once its process is spawned.
 * `waitReady()` then waits for readiness 200.
 */
function startReplica({ name, port, backendDir, env, logDir }) {
  const portConfig = path.join(logDir, `${name}.port.json`);
  fs.writeFileSync(
    portConfig,
    JSON.stringify({
      backend: { listen: { port, host: '127.0.0.1' } },
      catalog: { locations: harnessLocations() },
    }),
  );
  const args = [
    backendDir,
    ...[...CONFIG_FILES, portConfig].flatMap(f => ['--config', f]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logFile = fs.createWriteStream(path.join(logDir, `${name}.log`), {
    flags: 'a',
  });
  let output = '';
  const collect = d => {
    output += d;
    logFile.write(d);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise(r =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const replica = {
    name,
    port,
    url,
    pid: child.pid,
    startedAt: Date.now(),
    output: () => output,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    async waitReady(timeoutMs = 180_000) {
      await waitFor(
        `${name} readiness`,
        async () => {
          if (!replica.running()) {
            throw new Error(
              `${name} exited before it was ready:\n${output.slice(-4000)}`,
            );
          }
          try {
            const res = await fetch(`${url}/.backstage/health/v1/readiness`);
            return res.status === 200;
          } catch {
            return false;
          }
        },
        timeoutMs,
      );
      return Date.now() - replica.startedAt;
    },
    /** kill -9: no shutdown hooks, no lock release, as a crashed pod. */
    async kill9() {
      if (replica.running()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (replica.running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      logFile.end();
    },
  };
  return replica;
}

module.exports = { startReplica, CONFIG_FILES };
