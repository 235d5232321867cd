/*
 * A throwaway PostgreSQL 15 instance for one harness run, from this
 * machine's installation (initdb into a temp dir, its own loopback port and
 * socket dir). The harness restarts it under load; the shared cluster on
 * 5432, which other tests use, is never touched.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile, execFileSync } = require('node:child_process');
const { promisify } = require('node:util');
const { freePort } = require('./ports.cjs');

function pgBinDir() {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base)
    ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a))
    : [];
  const dir =
    process.env.PG_BIN_DIR ??
    (versions[0] && path.join(base, versions[0], 'bin'));
  if (!dir || !fs.existsSync(path.join(dir, 'initdb'))) {
    throw new Error(
      'No PostgreSQL server binaries (initdb) under /usr/lib/postgresql; apt-get install postgresql, or set PG_BIN_DIR',
    );
  }
  return dir;
}

/** initdb refuses to run as root: run the server tools as `postgres` then. */
function asPostgres(cmd, args, options = {}) {
  const argv =
    process.getuid?.() === 0
      ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]]
      : [cmd, args];
  return execFileSync(argv[0], argv[1], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  });
}

/** The same, without blocking this process (its load loops keep running). */
function asPostgresAsync(cmd, args) {
  const argv =
    process.getuid?.() === 0
      ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]]
      : [cmd, args];
  return promisify(execFile)(argv[0], argv[1], { encoding: 'utf8' });
}

async function startThrowawayPostgres() {
  const bin = pgBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replicas-pg-'));
  fs.chmodSync(dir, 0o755);
  if (process.getuid?.() === 0)
    execFileSync('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  const port = await freePort();
  asPostgres(path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-sync',
    '-E',
    'UTF8',
  ]);
  // Two replicas open a pool per plugin database: more than the default 100.
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=500 -c fsync=off`;
  const ctl = (...args) =>
    asPostgres(path.join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      path.join(dir, 'server.log'),
      '-o',
      opts,
      '-w',
      ...args,
    ]);
  ctl('start');
  return {
    host: '127.0.0.1',
    port,
    version: execFileSync(path.join(bin, 'postgres'), ['--version'], {
      encoding: 'utf8',
    }).trim(),
    dir,
    /** `pg_ctl restart -m fast`: every connection is closed, then it accepts again. */
    restart: async () => {
      if (require('./procs.cjs').isStopping()) throw new Error('stopping');
      await asPostgresAsync(path.join(bin, 'pg_ctl'), [
        '-D',
        data,
        '-l',
        path.join(dir, 'server.log'),
        '-o',
        opts,
        '-w',
        'restart',
        '-m',
        'fast',
      ]);
    },
    stop: () => {
      try {
        ctl('stop', '-m', 'immediate');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

module.exports = { startThrowawayPostgres };
