#!/usr/bin/env node
/*
 * What carrying the person's identity costs a deploy step. Against the Entra
 * emulator (its token endpoint and sample deploy API), in one run:
 *
 *   - the `entra:deploy` step as the scaffolder runs it (verify the delegated
 *     token, on-behalf-of exchange with MSAL, call the target), each deploy
 *     with a fresh delegated token, so every exchange goes to Entra;
 *   - the same call to the target made with a token fetched beforehand;
 *   - 100 deploys by 10 people, each person reusing one delegated token as
 *     the frontend does until it expires: p50/p95 and MSAL's OBO cache hit
 *     rate.
 *
 *   bash scripts/toolchain.sh node bench/deploy-identity.cjs [--runs 50]
 *
 * Emulator on free ports; nothing else needs to be stopped.
 */
require('@backstage/cli-node/config/nodeTransform.cjs');
const { performance } = require('node:perf_hooks');
const { ConfigReader } = require('@backstage/config');
const { loadSeed } = require('@internal/entra-emulator');
const {
  delegatedToken,
  startTestEmulator,
} = require('@internal/entra-emulator/testUtils');
const {
  createEntraDeployAction,
  DelegatedTokenVerifier,
  OnBehalfOfClient,
  readEntraDeployConfig,
} = require('@internal/plugin-scaffolder-backend-module-entra-deploy');
const { printVariantTable } = require('./lib/table.cjs');
const { quantile } = require('./lib/quantiles.cjs');

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 50;
const quiet = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  child: () => quiet,
};
const auditor = {
  createEvent: async () => ({ success: async () => {}, fail: async () => {} }),
};

async function main() {
  const emulator = await startTestEmulator();
  const { portal } = emulator.apps;
  const settings = readEntraDeployConfig(
    new ConfigReader({
      auth: {
        environment: 'development',
        providers: {
          microsoft: {
            development: {
              clientId: portal.clientId,
              clientSecret: portal.clientSecret,
              tenantId: emulator.tenantId,
              authority: emulator.authority,
            },
          },
        },
      },
      scaffolder: {
        entraDeploy: {
          environments: [
            {
              name: 'staging',
              url: `${emulator.deployApiUrl}/deployments`,
              scope: emulator.apps.deployApi.scope,
            },
          ],
        },
      },
    }),
  );
  const onBehalfOf = new OnBehalfOfClient(settings.entra, quiet);
  const exchanges = { total: 0, fromCache: 0 };
  const exchange = onBehalfOf.exchange.bind(onBehalfOf);
  onBehalfOf.exchange = async (assertion, scope) => {
    const result = await exchange(assertion, scope);
    exchanges.total += 1;
    exchanges.fromCache += result.fromCache ? 1 : 0;
    return result;
  };
  const action = createEntraDeployAction(
    {
      verifier: new DelegatedTokenVerifier(settings.entra),
      onBehalfOf,
      auditor,
    },
    settings.environments,
  );

  const people = loadSeed()
    .users.filter(u => u.accountEnabled !== false && u.userType !== 'Guest')
    .slice(0, 10);
  const entityOf = person => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name: person.userPrincipalName.split('@')[0],
      annotations: { 'graph.microsoft.com/user-id': person.id },
    },
    spec: {},
  });
  let taskNo = 0;
  const deploy = async (person, token) => {
    const entity = entityOf(person);
    const start = performance.now();
    await action.handler({
      input: {
        component: 'component:default/payments-service',
        environment: 'staging',
        version: '1.0.0',
      },
      secrets: { entraDelegatedToken: token },
      user: { entity, ref: `user:default/${entity.metadata.name}` },
      task: { id: `bench-${(taskNo += 1)}` },
      logger: quiet,
      output() {},
    });
    return performance.now() - start;
  };

  // Warm up: discovery, JWKS, TLS sessions, MSAL's authority metadata.
  for (let i = 0; i < 5; i++) {
    await deploy(people[0], await delegatedToken(emulator, people[0].id));
  }

  const cold = [];
  for (let i = 0; i < runs; i++) {
    const person = people[i % people.length];
    cold.push(await deploy(person, await delegatedToken(emulator, person.id)));
  }

  const { accessToken } = await exchange(
    await delegatedToken(emulator, people[0].id),
    emulator.apps.deployApi.scope,
  );
  const prefetched = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const res = await fetch(`${emulator.deployApiUrl}/deployments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ component: 'payments-service', version: '1.0.0' }),
    });
    await res.json();
    prefetched.push(performance.now() - start);
  }

  // Fresh people's tokens, so the cache starts empty for this part.
  const tokens = await Promise.all(
    people.map(p => delegatedToken(emulator, p.id)),
  );
  exchanges.total = 0;
  exchanges.fromCache = 0;
  const mixed = [];
  for (let i = 0; i < 100; i++) {
    mixed.push(await deploy(people[i % 10], tokens[i % 10]));
  }
  await emulator.close();

  const results = [
    { name: 'entra:deploy, fresh token', times: cold },
    { name: 'pre-fetched token, call only', times: prefetched },
    {
      name: '100 deploys by 10 people',
      times: mixed,
      hitRate: exchanges.fromCache / exchanges.total,
    },
  ];
  console.log(
    `Deploy step overhead against the Entra emulator (${runs} runs each, 100 for the last column)\n`,
  );
  printVariantTable(
    [
      ['runs', r => String(r.times.length)],
      ['p50 ms', r => quantile(r.times, 0.5).toFixed(1)],
      ['p95 ms', r => quantile(r.times, 0.95).toFixed(1)],
      [
        'OBO cache hit rate',
        r => {
          if (r.hitRate === undefined) throw new Error('n/a');
          return `${(r.hitRate * 100).toFixed(0)}% (${exchanges.fromCache}/${
            exchanges.total
          })`;
        },
      ],
    ],
    results,
  );
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
