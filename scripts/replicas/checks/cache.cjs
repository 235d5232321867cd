/*
 * Check 5: both replicas use the shared Redis cache (backend.cache.store:
 * redis): each holds a connection Redis can see (its client list, mapped to
 * the replica's pid by local port) and keys of this run's namespace appear.
 */
const { execFileSync } = require('node:child_process');
const { pidOfLocalPort } = require('../lib/ports.cjs');
const { waitFor } = require('../lib/procs.cjs');

function redisClientPorts() {
  const list = execFileSync(
    'redis-cli',
    ['-h', '127.0.0.1', 'client', 'list'],
    { encoding: 'utf8' },
  );
  return [...list.matchAll(/addr=127\.0\.0\.1:(\d+)/g)].map(m => Number(m[1]));
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
  // TechDocs caches the pages it serves (techdocs.cache.ttl): build the
  // portal's own docs once, then read a page through each replica.
  const { signInAcross } = require('../lib/entra.cjs');
  const { token } = await signInAcross(
    lb.url,
    lb.url,
    'ada.admin@contoso.example',
  );
  const entity = 'default/component/backstage-entra-starter';
  const sync = await fetch(`${replicas.a.url}/api/techdocs/sync/${entity}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await sync.text();
  const pages = [];
  for (const r of Object.values(replicas)) {
    const res = await fetch(
      `${r.url}/api/techdocs/static/docs/${entity}/index.html`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    await res.arrayBuffer();
    pages.push(`${r.name} ${res.status}`);
  }
  report.info(
    `docs built (sync ${sync.status}); index.html read through ${pages.join(
      ', ',
    )}`,
  );
  void staticToken;
  let holders = new Set();
  try {
    await waitFor(
      'a Redis connection from every replica',
      () => {
        holders = new Set(
          redisClientPorts().map(p => replicaOfPid(pidOfLocalPort(p))),
        );
        return Object.keys(replicas).every(n => holders.has(n));
      },
      20_000,
      500,
    );
  } catch {
    /* reported below */
  }
  const names = Object.keys(replicas);
  report.check(
    'every replica holds a connection to the local Redis',
    names.every(n => holders.has(n)),
    `Redis client list shows ${
      names.filter(n => holders.has(n)).join(', ') || 'none'
    } of ${names.join(', ')}`,
  );
  let keys = [];
  try {
    keys = await waitFor(
      'keys in the run namespace',
      () => {
        const k = redisKeys();
        return k.length > 0 ? k : undefined;
      },
      20_000,
      500,
    );
  } catch {
    /* reported below */
  }
  const plugins = [...new Set(keys.map(k => k.split(':')[1]))];
  report.check(
    `cached values are in Redis under this run's namespace (${namespace}:*)`,
    keys.length > 0,
    `${keys.length} keys, from plugins: ${plugins.join(', ') || 'none'}`,
  );
};
