import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { readEntraGraphProviderConfigs } from './providerConfigs';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '11111111-2222-3333-4444-555555555555';

const read = (providers: object) =>
  readEntraGraphProviderConfigs(
    new ConfigReader({
      catalog: { providers: { microsoftGraphOrg: providers } },
    }),
  );

describe('readEntraGraphProviderConfigs', () => {
  it('reads the upstream keys and a credential other than clientSecret', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-org-config-'));
    const secretFile = path.join(dir, 'secret');
    fs.writeFileSync(secretFile, 'from-a-file\n');
    try {
      const [config] = read({
        default: {
          tenantId: TENANT,
          clientId: CLIENT,
          clientSecretFile: secretFile,
          user: { loadPhotos: false },
        },
      });
      expect(config).toMatchObject({
        id: 'default',
        tenantId: TENANT,
        clientId: CLIENT,
        target: 'https://graph.microsoft.com/v1.0',
        loadUserPhotos: false,
      });
      expect(config.clientSecret).toBeUndefined();
      expect(config.credential.kind).toBe('secret');
      expect(config.credential.msalAuth()).toEqual({
        clientSecret: 'from-a-file',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('still reads the upstream single-provider shape with a clientSecret', () => {
    const [config] = read({
      tenantId: TENANT,
      clientId: CLIENT,
      clientSecret: 's',
    });
    expect(config.id).toBe('default');
    expect(config.credential.kind).toBe('secret');
  });

  it('names the provider’s keys when no credential or two are set', () => {
    expect(() =>
      read({ main: { tenantId: TENANT, clientId: CLIENT } }),
    ).toThrow(
      "The portal's Entra app has no credential: set one of catalog.providers.microsoftGraphOrg.main.clientSecret, catalog.providers.microsoftGraphOrg.main.clientSecretFile, catalog.providers.microsoftGraphOrg.main.clientCertificatePath, catalog.providers.microsoftGraphOrg.main.federatedTokenFile",
    );
    expect(() =>
      read({
        main: {
          tenantId: TENANT,
          clientId: CLIENT,
          clientSecret: 's',
          federatedTokenFile:
            '/var/run/secrets/azure/tokens/azure-identity-token',
        },
      }),
    ).toThrow(
      'catalog.providers.microsoftGraphOrg.main.clientSecret and catalog.providers.microsoftGraphOrg.main.federatedTokenFile are set',
    );
  });

  it('names clientId when it is missing', () => {
    expect(() =>
      read({ main: { tenantId: TENANT, clientSecret: 's' } }),
    ).toThrow(
      /catalog\.providers\.microsoftGraphOrg\.main\.clientId is missing/,
    );
  });
});
