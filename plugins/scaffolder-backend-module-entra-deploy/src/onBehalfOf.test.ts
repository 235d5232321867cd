import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createSelfSignedCertificate,
  EntraEmulator,
} from '@internal/entra-emulator';
import {
  decodeJwt,
  delegatedToken,
  EmulatorAdminClient,
  recordConnections,
  startTestEmulator,
} from '@internal/entra-emulator/testUtils';
import { readEntraDeployConfig } from './config';
import { OnBehalfOfClient } from './onBehalfOf';

const CARLA = '5a9214bd-9425-4fb9-9a9d-bbdfb8789017';

describe('OnBehalfOfClient against the emulator', () => {
  let emulator: EntraEmulator;
  let connections: ReturnType<typeof recordConnections>;
  beforeAll(async () => {
    connections = recordConnections();
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator.close();
    connections.restore();
  });

  const entra = () =>
    readEntraDeployConfig(
      new ConfigReader({
        auth: {
          environment: 'development',
          providers: {
            microsoft: {
              development: {
                clientId: emulator.apps.portal.clientId,
                clientSecret: emulator.apps.portal.clientSecret,
                tenantId: emulator.tenantId,
                authority: emulator.authority,
              },
            },
          },
        },
      }),
    ).entra;

  it('exchanges a person’s token for the target scope and serves repeats from its cache until the cache lifetime ends', async () => {
    let now = 0;
    const client = new OnBehalfOfClient(entra(), mockServices.logger.mock(), {
      cacheLifetimeMs: 1000,
      now: () => now,
    });
    const token = await delegatedToken(emulator, CARLA);
    const first = await client.exchange(token, emulator.apps.deployApi.scope);
    expect(decodeJwt(first.accessToken)).toMatchObject({
      oid: CARLA,
      aud: emulator.apps.deployApi.clientId,
      scp: 'deploy',
    });
    expect(first.fromCache).toBe(false);
    now = 999;
    const second = await client.exchange(token, emulator.apps.deployApi.scope);
    expect([second.fromCache, second.accessToken]).toEqual([
      true,
      first.accessToken,
    ]);
    now = 1000;
    const third = await client.exchange(token, emulator.apps.deployApi.scope);
    expect(third.fromCache).toBe(false);
  });

  it('says an admin must consent when the portal lacks the delegated permission (AADSTS65001)', async () => {
    const client = new OnBehalfOfClient(entra(), mockServices.logger.mock());
    const token = await delegatedToken(emulator, CARLA);
    const error = await client
      .exchange(token, 'https://graph.microsoft.com/Directory.Read.All')
      .catch(e => e);
    expect(error.name).toBe('NotAllowedError');
    expect(error.message).toContain('(invalid_grant, AADSTS65001)');
    expect(error.message).toContain(
      'an Entra admin must grant the portal that delegated permission with admin consent',
    );
    expect(error.message).not.toContain(token);
  });

  it("exchanges at the person's own tenant when the portal is configured multi-tenant", async () => {
    const { entra: multiTenant } = readEntraDeployConfig(
      new ConfigReader({
        auth: {
          environment: 'development',
          providers: {
            microsoft: {
              development: {
                clientId: emulator.apps.portal.clientId,
                clientSecret: emulator.apps.portal.clientSecret,
                tenantId: 'organizations',
                allowedTenantIds: [emulator.tenantId],
                authority: `${emulator.httpsUrl}/organizations`,
              },
            },
          },
        },
      }),
    );
    const client = new OnBehalfOfClient(
      multiTenant,
      mockServices.logger.mock(),
    );
    const before = emulator.tokenRequests().length;
    const { accessToken } = await client.exchange(
      await delegatedToken(emulator, CARLA),
      emulator.apps.deployApi.scope,
      emulator.tenantId,
    );
    expect(decodeJwt(accessToken).tid).toBe(emulator.tenantId);
    expect(
      emulator
        .tokenRequests()
        .slice(before)
        .filter(
          r => r.grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        )
        .map(r => r.tenant),
    ).toEqual([emulator.tenantId]);
  });

  describe('with a certificate credential', () => {
    const OBO = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
    let dir: string;
    let admin: EmulatorAdminClient;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obo-certificate-'));
      admin = new EmulatorAdminClient(emulator);
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const withCertificate = (certificatePath: string) =>
      readEntraDeployConfig(
        new ConfigReader({
          auth: {
            environment: 'development',
            providers: {
              microsoft: {
                development: {
                  clientId: emulator.apps.portal.clientId,
                  clientCertificatePath: certificatePath,
                  tenantId: emulator.tenantId,
                  authority: emulator.authority,
                },
              },
            },
          },
        }),
      ).entra;
    const oboAuth = (since: number) =>
      emulator
        .tokenRequests()
        .slice(since)
        .filter(r => r.grantType === OBO)
        .map(r => r.clientAuth);

    it('exchanges with a signed assertion, and with the new key after the file is replaced', async () => {
      const file = path.join(dir, 'portal.pem');
      const first = createSelfSignedCertificate();
      const { thumbprint } = await admin.addAppCertificate(
        'portal',
        first.certificatePem,
      );
      fs.writeFileSync(file, first.pem);
      const client = new OnBehalfOfClient(
        withCertificate(file),
        mockServices.logger.mock(),
      );
      const before = emulator.tokenRequests().length;
      const one = await client.exchange(
        await delegatedToken(emulator, CARLA),
        emulator.apps.deployApi.scope,
      );
      expect(decodeJwt(one.accessToken)).toMatchObject({ oid: CARLA });

      // Rotated: the new certificate registered and mounted, the old removed.
      const next = createSelfSignedCertificate();
      await admin.addAppCertificate('portal', next.certificatePem);
      fs.writeFileSync(`${file}.new`, next.pem);
      fs.renameSync(`${file}.new`, file);
      await admin.removeAppCertificate('portal', thumbprint);
      const two = await client.exchange(
        await delegatedToken(emulator, CARLA),
        emulator.apps.deployApi.scope,
      );
      expect(two.fromCache).toBe(false);
      expect(oboAuth(before)).toEqual(['certificate', 'certificate']);
    });

    it('names the certificate when Entra does not know it, without key material', async () => {
      const stranger = createSelfSignedCertificate();
      const file = path.join(dir, 'stranger.pem');
      fs.writeFileSync(file, stranger.pem);
      const client = new OnBehalfOfClient(
        withCertificate(file),
        mockServices.logger.mock(),
      );
      const error = await client
        .exchange(
          await delegatedToken(emulator, CARLA),
          emulator.apps.deployApi.scope,
        )
        .catch(e => e);
      expect(error.name).toBe('ServiceUnavailableError');
      expect(error.message).toContain(
        `Entra refused the portal's client credentials for the on-behalf-of exchange (invalid_client, AADSTS700027); check the portal's client id and its certificate from auth.providers.microsoft.development.clientCertificatePath, file ${file}, thumbprint ${stranger.thumbprintSha1Hex}`,
      );
      expect(error.message).not.toContain('PRIVATE KEY');
    });
  });

  // Declared last, so every request of the suite was made.
  it('sent no request off loopback (no public instance discovery)', () => {
    expect(connections.hosts.length).toBeGreaterThan(0);
    expect(connections.nonLoopback()).toEqual([]);
  });
});
