#!/usr/bin/env node
/*
 * Benchmarks the Entra emulator: token issuance per second, Graph /users
 * pages per second, and the time to generate and serve a 50,000-user tenant.
 *
 *   node bench/emulator-bench.js [--users 50000] [--groups 5000] [--seconds 5]
 *
 * Runs the package's TypeScript source directly (backstage-cli's transform).
 */
require('@backstage/cli/config/nodeTransform.cjs');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const {
  createEntraEmulator,
  generateTenant,
} = require('../packages/entra-emulator/src');

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '50000' },
    groups: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

async function forDuration(fn) {
  const end = Date.now() + seconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await fn();
        count++;
      }
    }),
  );
  return count / seconds;
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-bench-'));
  const t0 = performance.now();
  const seed = generateTenant({
    users: Number(values.users),
    groups: Number(values.groups),
    seed: 1,
  });
  const tGenerated = performance.now();
  const emulator = await createEntraEmulator({
    httpPort: 0,
    httpsPort: 0,
    dataDir,
    seed,
  });
  const tStarted = performance.now();
  const { portal } = emulator.apps;
  const tokenUrl = `${emulator.httpUrl}/${emulator.tenantId}/oauth2/v2.0/token`;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: portal.clientId,
    client_secret: portal.clientSecret,
    scope: 'https://graph.microsoft.com/.default',
  }).toString();
  const getToken = async () => {
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    return (await res.json()).access_token;
  };
  const token = await getToken();
  const headers = { authorization: `Bearer ${token}` };

  // First full walk of /users: part of "serve a 50k tenant".
  let link = `${emulator.httpUrl}/v1.0/users?$top=999&$select=id,displayName,mail,userPrincipalName,accountEnabled`;
  let users = 0;
  let pages = 0;
  while (link) {
    const page = await (await fetch(link, { headers })).json();
    users += page.value.length;
    pages++;
    link = page['@odata.nextLink'];
  }
  const tServed = performance.now();

  const tokensPerSecond = await forDuration(getToken);
  const lastPage = Math.floor((users - 1) / 999) * 999;
  let offset = 0;
  const pagesPerSecond = await forDuration(async () => {
    // Cycle through the pages so every page size and skiptoken is exercised.
    const skip = Buffer.from(JSON.stringify({ o: offset })).toString(
      'base64url',
    );
    offset = offset >= lastPage ? 0 : offset + 999;
    const res = await fetch(
      `${emulator.httpUrl}/v1.0/users?$top=999&$select=id,displayName,mail,userPrincipalName,accountEnabled&$skiptoken=RFNwdAIA${skip}`,
      { headers },
    );
    await res.arrayBuffer();
  });
  await emulator.close();

  const ms = v => `${v.toFixed(0)} ms`;
  console.log(
    `tenant: ${users} enabled+disabled users read in ${pages} pages, ${seed.groups.length} groups`,
  );
  console.log(
    `generate ${seed.users.length} users x ${seed.groups.length} groups: ${ms(
      tGenerated - t0,
    )}`,
  );
  console.log(
    `start emulator with it:            ${ms(tStarted - tGenerated)}`,
  );
  console.log(`serve every /users page ($top=999): ${ms(tServed - tStarted)}`);
  console.log(`generate + start + serve total:     ${ms(tServed - t0)}`);
  console.log(
    `token issuance (client credentials, ${concurrency} concurrent): ${tokensPerSecond.toFixed(
      0,
    )} tokens/s`,
  );
  console.log(
    `/users pages of 999 (${concurrency} concurrent): ${pagesPerSecond.toFixed(
      1,
    )} pages/s`,
  );
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
