/*
 * Check 5: both replicas use the shared Redis cache (backend.cache.store:
 * redis). Each holds a connection Redis can see (its client list, mapped to
 * the replica's pid by local port); a TechDocs page read through one is
 * stored under this run's namespace, and the other then serves it from there
 * (its last Redis command is the GET that found it; no new key is written).
 */
const { execFileSync } = require('node:child_process');
const { pidOfLocalPort } = require('../lib/ports.cjs');
const { waitFor } = require('../lib/procs.cjs');
const { signInAcross } = require('../lib/entra.cjs');

const ENTITY = 'default/component/backstage-entra-starter';

/** Redis's clients, by replica name: { name: [{ port, cmd }] }. */
function redisClientsByReplica(replicaOfPid) {
  const list = execFileSync(
    'redis-cli',
    ['-h', '127.0.0.1', 'client', 'list'],
    { encoding: 'utf8' },
  );
  const byReplica = {};
  for (const line of list.split('\n')) {
    const port = /addr=127\.0\.0\.1:(\d+)/.exec(line)?.[1];
    if (!port) continue;
    const name = replicaOfPid(pidOfLocalPort(Number(port)));
    (byReplica[name] ??= []).push({
      port: Number(port),
      cmd: /cmd=(\S+)/.exec(line)?.[1],
    });
  }
  return byReplica;
}

module.exports = async function sharedRedisCache({
  report,
  replicas,
  replicaOfPid,
  redisKeys,
  namespace,
  lb,
  staticToken,
}) {
  report.section(
    '5. Cache shared in Redis (backend.cache.store: redis, the local Redis)',
  );
  const { a, b } = replicas;
  const { token } = await signInAcross(
    lb.url,
    lb.url,
    'ada.admin@contoso.example',
  );
  const auth = { headers: { authorization: `Bearer ${token}` } };
  await waitFor(
    'the portal component in the catalog',
    async () =>
      (
        await fetch(
          `${lb.url}/api/catalog/entities/by-name/component/default/backstage-entra-starter`,
          { headers: { authorization: `Bearer ${staticToken}` } },
        )
      ).status === 200,
    60_000,
    500,
  );
  // TechDocs caches the pages it serves (techdocs.cache.ttl): build the
  // portal's own docs (mkdocs), then read a page through each replica.
  const sync = await fetch(`${a.url}/api/techdocs/sync/${ENTITY}`, auth);
  await sync.text();
  const page = async r => {
    const res = await fetch(
      `${r.url}/api/techdocs/static/docs/${ENTITY}/index.html`,
      auth,
    );
    const body = await res.text();
    return { status: res.status, bytes: body.length };
  };
  const keys0 = redisKeys().length;
  const first = await page(a);
  const keys1 = redisKeys();
  const second = await page(b);
  const keys2 = redisKeys().length;
  const clients = redisClientsByReplica(replicaOfPid);
  const names = Object.keys(replicas);
  report.info(
    `docs built through ${a.name} (sync ${sync.status}); index.html: ${a.name} ${first.status} (${first.bytes} B), ${b.name} ${second.status} (${second.bytes} B)`,
  );
  report.check(
    'every replica holds a connection to the local Redis',
    names.every(n => clients[n]?.length),
    names.map(n => `${n}: ${clients[n]?.length ?? 0} connections`).join(', '),
  );
  const plugins = [...new Set(keys1.map(k => k.split(':')[1]))];
  report.check(
    `a page read through ${a.name} is cached in Redis under this run's namespace (${namespace}:*)`,
    first.status === 200 && keys1.length > keys0,
    `${keys0} -> ${keys1.length} keys, plugins: ${
      plugins.join(', ') || 'none'
    }`,
  );
  const bCmds = (clients[b.name] ?? []).map(c => c.cmd);
  report.check(
    `${b.name} serves the same page from what ${a.name} cached`,
    second.status === 200 &&
      second.bytes === first.bytes &&
      keys2 === keys1.length &&
      bCmds.includes('get'),
    `no new key (${keys1.length} -> ${keys2}); ${
      b.name
    }'s last Redis commands: ${bCmds.join(', ') || 'none'}`,
  );
};
