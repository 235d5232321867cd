import { DoctorCheck, runDoctor } from './doctor';

async function main() {
  const baseUrl = process.env.BACKEND_BASE_URL ?? 'http://localhost:7007';
  const checks = await runDoctor({
    tenantId: process.env.AZURE_TENANT_ID,
    clientId: process.env.AZURE_CLIENT_ID,
    clientSecret: process.env.AZURE_CLIENT_SECRET,
    clientSecretFile: process.env.AZURE_CLIENT_SECRET_FILE,
    clientCertificatePath: process.env.AZURE_CLIENT_CERTIFICATE_PATH,
    federatedTokenFile: process.env.AZURE_FEDERATED_TOKEN_FILE,
    authorityHost: process.env.ENTRA_AUTHORITY_HOST,
    graphUrl: process.env.ENTRA_GRAPH_URL,
    redirectUri: `${baseUrl}/api/auth/microsoft/handler/frame`,
  });
  const status = (c: DoctorCheck) => {
    if (!c.ok) return 'FAIL';
    return c.warning ? 'warn' : 'ok  ';
  };
  for (const c of checks) {
    process.stdout.write(`${status(c)}  ${c.name.padEnd(18)} ${c.detail}\n`);
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
