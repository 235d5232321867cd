import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createSelfSignedCertificate,
  EntraEmulator,
  startWorkloadIdentityIssuer,
} from '@internal/entra-emulator';
import {
  EmulatorAdminClient,
  startTestEmulator,
} from '@internal/entra-emulator/testUtils';
import { runDoctor } from './doctor';

const DAY_MS = 24 * 60 * 60 * 1000;

jest.setTimeout(60_000);

describe('yarn doctor against the emulator', () => {
  let emulator: EntraEmulator;
  let admin: EmulatorAdminClient;
  let dir: string;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    admin = new EmulatorAdminClient(emulator);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-doctor-'));
  });
  afterAll(async () => {
    await emulator?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, content: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };

  const right = () => ({
    tenantId: emulator.tenantId,
    clientId: emulator.apps.portal.clientId,
    clientSecret: emulator.apps.portal.clientSecret,
    authorityHost: emulator.httpsUrl,
    graphUrl: emulator.graphBaseUrl,
    redirectUri: 'http://localhost:7007/api/auth/microsoft/handler/frame',
  });
  const failed = (checks: Awaited<ReturnType<typeof runDoctor>>) =>
    checks.filter(c => !c.ok);

  it('passes every check with the right settings', async () => {
    const checks = await runDoctor(right());
    expect(checks.map(c => c.name)).toEqual([
      'settings',
      'credential',
      'metadata',
      'client credentials',
      'graph permissions',
      'credential expiry',
      'redirect uri',
      'graph read',
    ]);
    expect(failed(checks)).toEqual([]);
    expect(checks.find(c => c.name === 'credential')!.detail).toBe(
      'client secret from AZURE_CLIENT_SECRET',
    );
    // The seeded secret is valid for two years: no warning.
    expect(checks.find(c => c.name === 'credential expiry')).toEqual({
      name: 'credential expiry',
      ok: true,
      warning: false,
      detail: expect.stringMatching(/in use, expires .* \(\d+ days left\)$/),
    });
  });

  it('names a tenant id that is not a GUID', async () => {
    const checks = await runDoctor({ ...right(), tenantId: 'contoso.example' });
    expect(failed(checks)).toEqual([
      expect.objectContaining({
        name: 'settings',
        detail: expect.stringContaining(
          'AZURE_TENANT_ID must be the directory (tenant) id',
        ),
      }),
    ]);
  });

  it('says the client secret is wrong', async () => {
    const checks = await runDoctor({
      ...right(),
      clientSecret: 'not-the-secret',
    });
    expect(failed(checks)[0]).toEqual(
      expect.objectContaining({
        name: 'client credentials',
        detail: expect.stringContaining('client secret is wrong or expired'),
      }),
    );
  });

  it('says the redirect URI is not registered', async () => {
    const checks = await runDoctor({
      ...right(),
      redirectUri:
        'https://portal.contoso.example/api/auth/microsoft/handler/frame',
    });
    expect(failed(checks)).toEqual([
      expect.objectContaining({
        name: 'redirect uri',
        detail: expect.stringContaining('is not a redirect URI of the app'),
      }),
    ]);
  });

  it('names missing Graph application permissions', async () => {
    // The deploy API app has a secret but no Graph roles.
    const deployApi = emulator.seed.apps.find(
      a => a.clientId === emulator.apps.deployApi.clientId,
    )!;
    const checks = await runDoctor({
      ...right(),
      clientId: deployApi.clientId,
      clientSecret: deployApi.clientSecrets![0],
    });
    expect(failed(checks).map(c => c.name)).toContain('graph permissions');
    expect(checks.find(c => c.name === 'graph permissions')!.detail).toContain(
      'User.Read.All, GroupMember.Read.All',
    );
  });

  it('says when the authority cannot be reached', async () => {
    const checks = await runDoctor({
      ...right(),
      authorityHost: 'https://localhost:9',
    });
    expect(failed(checks)).toEqual([
      expect.objectContaining({
        name: 'metadata',
        detail: expect.stringContaining('cannot be reached'),
      }),
    ]);
  });

  it('names the four credential variables when none is set, and the ones set when several are', async () => {
    const none = await runDoctor({ ...right(), clientSecret: undefined });
    expect(none).toEqual([
      expect.objectContaining({
        name: 'settings',
        ok: false,
        detail: expect.stringContaining(
          'set one of AZURE_CLIENT_SECRET, AZURE_CLIENT_SECRET_FILE, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE',
        ),
      }),
    ]);
    const two = await runDoctor({
      ...right(),
      clientSecretFile: file('secret', 'x'),
    });
    expect(two[0].detail).toContain(
      'AZURE_CLIENT_SECRET and AZURE_CLIENT_SECRET_FILE are set',
    );
  });

  it('reads a secret from AZURE_CLIENT_SECRET_FILE, and warns when Entra says it expires within 30 days', async () => {
    const { value } = await admin.addClientSecret('portal', {
      endDateTime: new Date(Date.now() + 10 * DAY_MS).toISOString(),
    });
    const checks = await runDoctor({
      ...right(),
      clientSecret: undefined,
      clientSecretFile: file('soon-secret', `${value}\n`),
    });
    expect(failed(checks)).toEqual([]);
    const expiry = checks.find(c => c.name === 'credential expiry')!;
    expect(expiry.warning).toBe(true);
    expect(expiry.detail).toMatch(
      /in use, expires .* \((9|10) days left\): create the next one now/,
    );
    expect(JSON.stringify(checks)).not.toContain(value);
  });

  describe('with a certificate (AZURE_CLIENT_CERTIFICATE_PATH)', () => {
    it('passes, reporting its thumbprint and expiry from the file and from Entra', async () => {
      const cert = createSelfSignedCertificate({ commonName: 'doctor' });
      await admin.addAppCertificate('portal', cert.certificatePem);
      const checks = await runDoctor({
        ...right(),
        clientSecret: undefined,
        clientCertificatePath: file('cert.pem', cert.pem),
      });
      expect(failed(checks)).toEqual([]);
      expect(checks.find(c => c.name === 'credential')!.detail).toBe(
        `certificate from AZURE_CLIENT_CERTIFICATE_PATH = ${path.join(
          dir,
          'cert.pem',
        )}: thumbprint ${
          cert.thumbprintSha1Hex
        }, CN=doctor, valid until ${cert.notAfter.toISOString()}`,
      );
      expect(checks.find(c => c.name === 'credential expiry')!.detail).toMatch(
        new RegExp(`certificate ${cert.thumbprintSha1Hex}, in use, expires`),
      );
      expect(JSON.stringify(checks)).not.toContain('PRIVATE KEY');
    });

    it('warns when it expires within 30 days', async () => {
      const cert = createSelfSignedCertificate({
        notAfter: new Date(Date.now() + 5 * DAY_MS),
      });
      await admin.addAppCertificate('portal', cert.certificatePem);
      const checks = await runDoctor({
        ...right(),
        clientSecret: undefined,
        clientCertificatePath: file('soon.pem', cert.pem),
      });
      expect(failed(checks)).toEqual([]);
      expect(checks.find(c => c.name === 'credential')).toEqual(
        expect.objectContaining({
          warning: true,
          detail: expect.stringMatching(
            /\((4|5) days left\): create the next certificate/,
          ),
        }),
      );
    });

    it('fails when it has expired, saying when', async () => {
      const cert = createSelfSignedCertificate({
        notBefore: new Date(Date.now() - 3 * DAY_MS),
        notAfter: new Date(Date.now() - DAY_MS),
      });
      const checks = await runDoctor({
        ...right(),
        clientSecret: undefined,
        clientCertificatePath: file('expired.pem', cert.pem),
      });
      expect(failed(checks)).toEqual([
        expect.objectContaining({
          name: 'settings',
          detail: expect.stringContaining(
            `whose certificate expired on ${cert.notAfter.toISOString()}`,
          ),
        }),
      ]);
    });

    it('says which certificate to register when Entra does not know it', async () => {
      const cert = createSelfSignedCertificate();
      const checks = await runDoctor({
        ...right(),
        clientSecret: undefined,
        clientCertificatePath: file('unknown.pem', cert.pem),
      });
      expect(failed(checks)[0]).toEqual(
        expect.objectContaining({
          name: 'client credentials',
          detail: expect.stringContaining(
            `Entra does not accept the certificate ${cert.thumbprintSha1Hex}: upload its public part to the app`,
          ),
        }),
      );
    });
  });

  describe('with a federated token (AZURE_FEDERATED_TOKEN_FILE)', () => {
    const subject = 'system:serviceaccount:portal:backstage';
    let issuer: Awaited<ReturnType<typeof startWorkloadIdentityIssuer>>;
    beforeAll(async () => {
      issuer = await startWorkloadIdentityIssuer();
      await admin.addFederatedCredential('portal', {
        issuer: issuer.issuer,
        subject,
      });
    });
    afterAll(() => issuer?.close());

    it("passes, showing the token's issuer, subject and expiry but not the token", async () => {
      const token = await issuer.mintToken({ subject });
      const checks = await runDoctor({
        ...right(),
        clientSecret: undefined,
        federatedTokenFile: file('token', token),
      });
      expect(failed(checks)).toEqual([]);
      expect(checks.find(c => c.name === 'credential')!.detail).toMatch(
        new RegExp(
          `^federated token from AZURE_FEDERATED_TOKEN_FILE = .*token: issuer ${issuer.issuer}, subject ${subject}, expires \\d{4}-`,
        ),
      );
      expect(JSON.stringify(checks)).not.toContain(token);
    });

    it('says no federated credential matches a token of another subject', async () => {
      const token = await issuer.mintToken({
        subject: 'system:serviceaccount:other:intruder',
      });
      const checks = await runDoctor({
        ...right(),
        clientSecret: undefined,
        federatedTokenFile: file('intruder-token', token),
      });
      expect(failed(checks)[0]).toEqual(
        expect.objectContaining({
          name: 'client credentials',
          detail: expect.stringContaining(
            `no federated identity credential of the app matches the token (issuer ${issuer.issuer}, subject system:serviceaccount:other:intruder)`,
          ),
        }),
      );
    });

    it('fails when the token file holds an expired token (not refreshed)', async () => {
      const token = await issuer.mintToken({ subject, expiresInSeconds: -60 });
      const checks = await runDoctor({
        ...right(),
        clientSecret: undefined,
        federatedTokenFile: file('old-token', token),
      });
      expect(failed(checks)).toEqual([
        expect.objectContaining({
          name: 'credential',
          detail: expect.stringContaining(
            'expired; the file is not being refreshed',
          ),
        }),
      ]);
    });
  });

  it('says which Graph permission lets it read credential expiry when Graph answers 403', async () => {
    const deployApi = emulator.seed.apps.find(
      a => a.clientId === emulator.apps.deployApi.clientId,
    )!;
    const checks = await runDoctor({
      ...right(),
      clientId: deployApi.clientId,
      clientSecret: deployApi.clientSecrets![0],
    });
    expect(checks.find(c => c.name === 'credential expiry')).toEqual({
      name: 'credential expiry',
      ok: true,
      warning: true,
      detail: expect.stringContaining(
        'grant the app the application permission Application.Read.All',
      ),
    });
  });
});
