#!/usr/bin/env node
/*
 * Requests per second a pipeline's Entra app token sustains on the catalog
 * API, against the same with a Backstage token, and p50/p95 latency: the
 * acceptance backend of plugins/auth-backend-module-entra-app-provider
 * (createBackend with the entra-app middleware, auth, catalog, permission
 * backend, ownership policy; SQLite in memory) against the Entra emulator.
 * GET /api/catalog/entities/by-query?limit=20 with `concurrency` callers
 * for `seconds` per variant:
 *   backstage token      the Backstage token the exchange issued, sent as is
 *   entra token, cached  one Entra app token: one exchange, then the cache
 *   entra token, fresh   a new Entra token (distinct signature) per request:
 *                        every request pays a full exchange (verify, catalog
 *                        lookup, nested groups, token issue)
 * Prints numbers; asserts nothing.
 *
 *   bash scripts/toolchain.sh node bench/pipeline-rps.cjs [--seconds 10] [--concurrency 8]
 */
require('@backstage/cli-node/config/nodeTransform.cjs');
const { quantile } = require('./lib/quantiles.cjs');
const { printVariantTable } = require('./lib/table.cjs');

const dir =
  '../plugins/auth-backend-module-entra-app-provider/src/__testUtils__';
const { startPipelineBackend } = require(`${dir}/pipelineBackend.ts`);
const apps = require(`${dir}/pipelineApps.ts`);
const {
  startTestEmulator,
  decodeJwt,
  pipelineAppToken,
} = require('@internal/entra-emulator/testUtils');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('seconds', 10);
const concurrency = arg('concurrency', 8);

async function load(name, url, nextToken) {
  const latencies = [];
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const started = process.hrtime.bigint();
        const res = await fetch(url, {
          headers: { authorization: `Bearer ${nextToken()}` },
        });
        await res.arrayBuffer();
        if (res.status === 200) {
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        } else errors++;
      }
    }),
  );
  return {
    name,
    requests: latencies.length,
    errors,
    rps: latencies.length / seconds,
    latencies,
  };
}

async function main() {
  const emulator = await startTestEmulator();
  const token = await pipelineAppToken(emulator, 'payments-pipeline');
  const entities = [
    apps.group('payments'),
    apps.servicePrincipalEntity(emulator, 'payments-pipeline'),
    ...Array.from({ length: 200 }, (_, i) =>
      apps.component(`service-${i}`, 'payments'),
    ),
  ];
  const { backend, baseUrl, logs } = await startPipelineBackend({
    emulator,
    entities,
    entraApp: {},
    // The fixed entities above stand for ingestion: 203 entities, no Graph.
    orgIngestion: false,
    ownershipPolicy: { admins: ['group:default/platform-admins'] },
  });
  const url = `${baseUrl}/api/catalog/entities/by-query?limit=20`;
  // Wait for ingestion to be stitched: the exchange finds the entity.
  let backstageToken;
  for (let i = 0; !backstageToken; i++) {
    const res = await fetch(`${baseUrl}/api/auth/entra-app/refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    if (res.status === 200)
      backstageToken = (await res.json()).backstageIdentity.token;
    else if (i > 400) throw new Error(`exchange answered ${res.status}`);
    else await new Promise(r => setTimeout(r, 250));
  }
  const claims = decodeJwt(token);
  let n = 0;
  const fresh = () => emulator.signToken({ ...claims, uti: `bench-${n++}` });

  // Warm up both paths (JIT, the JWKS fetch, the catalog's first queries).
  await load('warmup', url, () => token);
  const results = [
    await load('backstage token', url, () => backstageToken),
    await load('entra token, cached', url, () => token),
    await load('entra token, fresh', url, fresh),
  ];
  const exchanges = logs.filter(
    r => r.meta.type === 'entra-app-sign-in',
  ).length;
  console.log(
    `GET /api/catalog/entities/by-query?limit=20, ${concurrency} concurrent callers, ${seconds} s per variant, 203 entities\n`,
  );
  printVariantTable(
    [
      ['requests/s', r => r.rps.toFixed(0)],
      ['p50 ms', r => quantile(r.latencies, 0.5).toFixed(1)],
      ['p95 ms', r => quantile(r.latencies, 0.95).toFixed(1)],
      ['requests', r => String(r.requests)],
      ['errors', r => String(r.errors)],
    ],
    results,
  );
  console.log(`\nexchanges performed in total: ${exchanges}`);
  await backend.stop();
  await emulator.close();
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
