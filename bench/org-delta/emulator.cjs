/*
 * The emulator for bench/org-delta.cjs, in its own process so that the
 * bench's CPU readings are the provider's alone. Generates the tenant, then
 * applies the directory changes the parent sends over IPC and counts the
 * Graph requests it answers.
 */
require('@backstage/cli-node/config/nodeTransform.cjs');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');

let graphRequests = 0;
for (const mod of [http, https]) {
  const createServer = mod.createServer;
  mod.createServer = function countingCreateServer(...args) {
    const i = typeof args[0] === 'function' ? 0 : 1;
    const handler = args[i];
    args[i] = (req, res) => {
      if (req.url.startsWith('/v1.0/')) graphRequests++;
      handler(req, res);
    };
    return createServer.apply(this, args);
  };
}
const {
  createEntraEmulator,
  generateTenant,
} = require('@internal/entra-emulator');

async function main() {
  const users = Number(process.argv[2]);
  const groups = Number(process.argv[3]);
  const seed = generateTenant({ users, groups, seed: 1 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-org-delta-'));
  const emulator = await createEntraEmulator({
    httpPort: 0,
    httpsPort: 0,
    dataDir: dir,
    seed,
  });
  const d = emulator.directory;
  process.on('message', msg => {
    const { id, op, args } = msg;
    try {
      const result = op === 'graphRequests' ? graphRequests : d[op](...args);
      process.send({ id, result: result === undefined ? null : result });
    } catch (error) {
      process.send({ id, error: String(error) });
    }
  });
  process.send({
    ready: true,
    graphBaseUrl: emulator.graphBaseUrl,
    httpsUrl: emulator.httpsUrl,
    tenantId: emulator.tenantId,
    clientId: emulator.apps.portal.clientId,
    clientSecret: emulator.apps.portal.clientSecret,
    caCertPath: emulator.caCertPath,
    users: seed.users.map(u => ({
      id: u.id,
      enabled: u.accountEnabled !== false,
    })),
    groups: seed.groups.map(g => ({
      id: g.id,
      members: g.members.slice(0, 50),
    })),
  });
  process.on('disconnect', () => emulator.close().then(() => process.exit(0)));
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
