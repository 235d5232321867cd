import { ConfigReader } from '@backstage/config';
import { readEntraProviderConfig } from './providerConfig';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const read = (extra: object) =>
  readEntraProviderConfig(
    new ConfigReader({
      clientId: 'client',
      clientSecret: 'secret',
      tenantId: TENANT,
      ...extra,
    }),
  );

describe('readEntraProviderConfig', () => {
  it('pins the authority and metadata to the configured tenant', () => {
    const config = read({});
    expect(config.metadataUrl).toBe(
      `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`,
    );
    expect([...config.allowedTenantIds]).toEqual([TENANT]);
  });

  it('derives the sign-in host from the cloud setting', () => {
    expect(read({ cloud: 'usgov' }).authority).toBe(
      `https://login.microsoftonline.us/${TENANT}`,
    );
    expect(read({ cloud: 'china' }).authority).toBe(
      `https://login.chinacloudapi.cn/${TENANT}`,
    );
    expect(() => read({ cloud: 'moon' })).toThrow(
      /Invalid auth\.providers\.microsoft\.<environment>\.cloud 'moon'/,
    );
  });

  it('reads photos from the cloud’s Graph, or the explicit authority’s', () => {
    expect(read({}).graphUrl).toBe('https://graph.microsoft.com/v1.0');
    expect(read({ cloud: 'china' }).graphUrl).toBe(
      'https://microsoftgraph.chinacloudapi.cn/v1.0',
    );
    expect(
      read({ authority: `https://localhost:8401/${TENANT}` }).graphUrl,
    ).toBe('https://localhost:8401/v1.0');
    expect(read({}).loadPhoto).toBe(true);
    expect(read({ loadPhoto: false }).loadPhoto).toBe(false);
  });

  it('refuses common or organizations without an allow-list', () => {
    expect(() => read({ tenantId: 'common' })).toThrow(/allowedTenantIds/);
    expect(() => read({ tenantId: 'organizations' })).toThrow(
      /would admit people from any Entra tenant/,
    );
    const multi = read({
      tenantId: 'organizations',
      allowedTenantIds: [TENANT],
    });
    expect([...multi.allowedTenantIds]).toEqual([TENANT]);
  });

  it('admits tenant ids written in upper case, as Entra sends them (lower case)', () => {
    const single = read({ tenantId: TENANT.toUpperCase() });
    expect(single.tenantId).toBe(TENANT);
    expect([...single.allowedTenantIds]).toEqual([TENANT]);
    expect(single.metadataUrl).toContain(`/${TENANT}/v2.0/`);
    const multi = read({
      tenantId: 'Organizations',
      allowedTenantIds: [TENANT.toUpperCase()],
    });
    expect([...multi.allowedTenantIds]).toEqual([TENANT]);
  });

  it('names a tenant id that is not a GUID', () => {
    expect(() => read({ tenantId: 'contoso.com' })).toThrow(
      /tenantId must be the directory \(tenant\) id, a GUID; got 'contoso\.com'/,
    );
  });

  it('accepts an explicit https authority and refuses http', () => {
    expect(
      read({ authority: `https://localhost:8401/${TENANT}/` }).authority,
    ).toBe(`https://localhost:8401/${TENANT}`);
    expect(() =>
      read({ authority: `http://localhost:8400/${TENANT}` }),
    ).toThrow(/must be an https URL/);
  });

  it('takes the app credential from exactly one credential key, naming them when wrong', () => {
    expect(read({}).credential.kind).toBe('secret');
    expect(() => read({ clientSecret: undefined })).toThrow(
      "The portal's Entra app has no credential: set one of auth.providers.microsoft.<environment>.clientSecret, auth.providers.microsoft.<environment>.clientSecretFile, auth.providers.microsoft.<environment>.clientCertificatePath, auth.providers.microsoft.<environment>.federatedTokenFile",
    );
    expect(() =>
      read({ clientCertificatePath: '/var/run/secrets/portal/tls.pem' }),
    ).toThrow(
      'auth.providers.microsoft.<environment>.clientSecret and auth.providers.microsoft.<environment>.clientCertificatePath are set; keep exactly one of them.',
    );
    expect(() =>
      read({
        clientSecret: undefined,
        clientCertificatePath: '/nonexistent/tls.pem',
      }),
    ).toThrow(
      'auth.providers.microsoft.<environment>.clientCertificatePath names /nonexistent/tls.pem, which cannot be read (no such file)',
    );
  });

  it('names the key of the block it reads when told (the deploy module reuses it)', () => {
    expect(() =>
      readEntraProviderConfig(
        new ConfigReader({ clientId: 'client', tenantId: TENANT }),
        { key: 'auth.providers.microsoft.production' },
      ),
    ).toThrow(
      /set one of auth\.providers\.microsoft\.production\.clientSecret,/,
    );
  });
});
