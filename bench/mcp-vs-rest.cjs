#!/usr/bin/env node
/*
 * Latency of an agent's MCP catalog query against the same query over REST,
 * side by side (p50/p95, ms), for one person (Carla, member of payments):
 *   mcp tool call       the official MCP SDK client, connected through the
 *                       portal's OAuth flow, calls catalog.query-catalog-entities
 *                       { kind: component } (streamable HTTP; the agent guard
 *                       introspects the grant and audits every call)
 *   rest, agent token   GET /api/catalog/entities/by-query?filter=kind=component
 *                       with the agent's access token
 *   rest, person token  the same with the person's own (browser) token
 * Backend: the agent tests' backend (plugins/auth-backend-module-agent-access,
 * startTestBackend: auth + Entra sign-in against the emulator, agent-access,
 * catalog, permission with the ownership policy, MCP actions + agent guard;
 * SQLite in memory) with --components components owned by payments.
 * Requests are sequential; --warmup each first. Prints numbers; asserts nothing.
 *
 *   bash scripts/toolchain.sh node bench/mcp-vs-rest.cjs [--requests 200] [--components 200] [--warmup 20]
 */
require('@backstage/cli-node/config/nodeTransform.cjs');
const { quantile } = require('./lib/quantiles.cjs');
const { printVariantTable } = require('./lib/table.cjs');

const {
  startAgentBackend,
} = require('../plugins/auth-backend-module-agent-access/src/__testUtils__/backend.ts');
const {
  approveAs,
  connectAgent,
  signIn,
  startAgentClientHost,
} = require('@internal/portal-test-utils');
const { startTestEmulator } = require('@internal/entra-emulator/testUtils');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const requests = arg('requests', 200);
const components = arg('components', 200);
const warmup = arg('warmup', 20);

async function measure(name, call) {
  for (let i = 0; i < warmup; i++) await call();
  const latencies = [];
  let items;
  for (let i = 0; i < requests; i++) {
    const started = process.hrtime.bigint();
    items = await call();
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return { name, latencies, items };
}

async function main() {
  const emulator = await startTestEmulator();
  const host = await startAgentClientHost(emulator, 'Bench Agent');
  const extraEntities = Array.from({ length: components }, (_, i) => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: `service-${i}` },
    spec: {
      type: 'service',
      lifecycle: 'production',
      owner: 'group:default/payments',
    },
  }));
  const { backend, baseUrl } = await startAgentBackend({
    emulator,
    agentClientIds: [host.clientId],
    extraEntities,
  });
  try {
    let person;
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        person = await signIn(baseUrl, 'carla.chen@contoso.example');
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise(r => setTimeout(r, 250));
      }
    }
    // Until the catalog has stitched every component.
    const restUrl = `${baseUrl}/api/catalog/entities/by-query?filter=kind=component&limit=${
      components + 10
    }`;
    const rest = token => async () => {
      const res = await fetch(restUrl, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.status !== 200) throw new Error(`REST answered ${res.status}`);
      return (await res.json()).items.length;
    };
    while ((await rest(person.token)()) < components + 1) {
      if (Date.now() > deadline) throw new Error('Catalog never filled');
      await new Promise(r => setTimeout(r, 500));
    }
    const agent = await connectAgent({
      baseUrl,
      host,
      approve: approveAs(baseUrl, person.token),
    });
    const mcp = async () => {
      const result = await agent.client.callTool({
        name: 'catalog.query-catalog-entities',
        arguments: { query: { kind: 'component' }, limit: components + 10 },
      });
      if (result.isError) throw new Error(JSON.stringify(result.content));
      return JSON.parse(result.content[0].text).items.length;
    };
    const results = [
      await measure('mcp tool call', mcp),
      await measure(
        'rest, agent token',
        rest(agent.provider.tokens().access_token),
      ),
      await measure('rest, person token', rest(person.token)),
    ];
    console.log(
      `${requests} sequential requests per variant after ${warmup} warm-up; ` +
        `${components + 1} components visible to the person`,
    );
    printVariantTable(
      [
        ['items per answer', r => String(r.items)],
        ['p50 ms', r => quantile(r.latencies, 0.5).toFixed(1)],
        ['p95 ms', r => quantile(r.latencies, 0.95).toFixed(1)],
        ['max ms', r => Math.max(...r.latencies).toFixed(1)],
      ],
      results,
    );
    await agent.close();
  } finally {
    await backend.stop();
    await host.close();
    await emulator.close();
  }
}

main().then(
  () => process.exit(0),
  error => {
    console.error(error);
    process.exit(1);
  },
);
