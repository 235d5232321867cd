import { runDoctor } from './doctor';

async function main() {
  const baseUrl = process.env.BACKEND_BASE_URL ?? 'http://localhost:7007';
  const checks = await runDoctor({
    tenantId: process.env.AZURE_TENANT_ID,
    clientId: process.env.AZURE_CLIENT_ID,
    clientSecret: process.env.AZURE_CLIENT_SECRET,
    authorityHost: process.env.ENTRA_AUTHORITY_HOST,
    graphUrl: process.env.ENTRA_GRAPH_URL,
    redirectUri: `${baseUrl}/api/auth/microsoft/handler/frame`,
  });
  for (const c of checks) {
    process.stdout.write(
      `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(18)} ${c.detail}\n`,
    );
  }
  const failed = checks.filter(c => !c.ok).length;
  process.stdout.write(
    failed === 0
      ? 'Entra configuration looks right.\n'
      : `${failed} check(s) failed: fix them in order, top first.\n`,
  );
  process.exit(failed === 0 ? 0 : 1);
}

main().catch(error => {
  process.stderr.write(`doctor: ${error.message}\n`);
  process.exit(2);
});
