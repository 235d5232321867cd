import { parseArgs } from 'node:util';
import { createEntraEmulator, EntraEmulator } from './emulator';
import { generateTenant } from './seed/generateTenant';

/** Text printed at start: everything needed to point an app at the emulator. */
export function describeEmulator(emulator: EntraEmulator): string {
  const people = emulator.seed.users
    .map(u => {
      const notes = [
        u.userType === 'Guest' ? 'guest' : '',
        u.accountEnabled === false ? 'disabled' : '',
        u.mail ? '' : 'no mail',
      ].filter(Boolean);
      return `  ${u.displayName.padEnd(24)} ${u.userPrincipalName.padEnd(44)} ${
        u.id
      }${notes.length ? `  (${notes.join(', ')})` : ''}`;
    })
    .slice(0, 50);
  const more = emulator.seed.users.length - people.length;
  return [
    'Entra emulator (development only; never a real tenant)',
    `  tenant id        ${emulator.tenantId}`,
    `  http             ${emulator.httpUrl}`,
    `  https            ${emulator.httpsUrl}`,
    `  authority        ${emulator.authority}`,
    `  issuer           ${emulator.issuer}`,
    `  metadata         ${emulator.metadataUrl}`,
    `  graph            ${emulator.graphBaseUrl}`,
    `  deploy API       ${emulator.deployApiUrl}`,
    `  portal client    ${emulator.apps.portal.clientId} (secret: ${emulator.apps.portal.clientSecret}, emulator-only)`,
    `  portal API scope ${emulator.apps.portal.apiScope}`,
    `  deploy client    ${emulator.apps.deployApi.clientId} (scope ${emulator.apps.deployApi.scope})`,
    `  dev CA           ${emulator.caCertPath}`,
    `                   export NODE_EXTRA_CA_CERTS=${emulator.caCertPath}`,
    `  admin            ${emulator.httpUrl}/_emulator/faults, ${emulator.httpUrl}/_emulator/deploy-calls, PATCH ${emulator.httpUrl}/_emulator/users/{id}`,
    `                   GET|DELETE ${emulator.httpUrl}/_emulator/graph-requests, GET ${emulator.httpUrl}/_emulator/token-requests`,
    `  app credentials  ${emulator.httpUrl}/_emulator/apps/{appId|portal|deployApi}/…`,
    `                   POST certificates {certificatePem}, DELETE certificates/{thumbprint}`,
    `                   POST|DELETE federated-credentials {issuer, subject, audiences?}`,
    `                   POST|DELETE client-secrets {value?, endDateTime?}`,
    `                   (token endpoint: client_secret, or client_assertion signed by a registered certificate or issued by a federated issuer)`,
    ...(emulator.seed.otherTenants ?? []).map(
      t =>
        `  other tenant     ${t.tenant.id} ${t.tenant.displayName} (${t.users.length} people; sign in through ${emulator.httpsUrl}/common or /organizations)`,
    ),
    '',
    `Seeded people (${emulator.seed.users.length}):`,
    ...people,
    ...(more > 0 ? [`  … and ${more} more`] : []),
  ].join('\n');
}

const HELP = `Usage: yarn entra:emulator [options]
  --http-port <n>        plain HTTP port (default 8400)
  --https-port <n>       HTTPS port (default 8401)
  --seed <file>          seed YAML (default: the bundled seed/tenant.yaml)
  --data-dir <dir>       where the signing key and dev CA persist
  --generate-users <n>   serve a generated tenant of n users instead of the seed
  --generate-groups <n>  groups of the generated tenant (default n/10)
  --seed-number <n>      seed of the generator (default 1)`;

/** Runs the `entra-emulator` command until SIGINT/SIGTERM. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'http-port': { type: 'string' },
      'https-port': { type: 'string' },
      seed: { type: 'string' },
      'data-dir': { type: 'string' },
      'generate-users': { type: 'string' },
      'generate-groups': { type: 'string' },
      'seed-number': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const users = values['generate-users']
    ? Number(values['generate-users'])
    : undefined;
  const emulator = await createEntraEmulator({
    httpPort: values['http-port'] ? Number(values['http-port']) : undefined,
    httpsPort: values['https-port'] ? Number(values['https-port']) : undefined,
    dataDir: values['data-dir'],
    seed: users
      ? generateTenant({
          users,
          groups: Number(
            values['generate-groups'] ?? Math.max(1, Math.floor(users / 10)),
          ),
          seed: Number(values['seed-number'] ?? 1),
        })
      : values.seed,
  });
  process.stdout.write(`${describeEmulator(emulator)}\n`);
  const stop = () => {
    emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch(e => {
    process.stderr.write(
      `entra-emulator: ${e instanceof Error ? e.message : e}\n`,
    );
    process.exit(1);
  });
}
