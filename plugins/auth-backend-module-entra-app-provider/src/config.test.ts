import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { JsonValue } from '@backstage/types';
import authPlugin from '@backstage/plugin-auth-backend';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { readEntraAppConfig } from './config';
import { authModuleEntraAppProvider } from './module';

const TENANT = '11111111-2222-4333-8444-555555555555';
const CLIENT = '66666666-7777-4888-9999-000000000000';

const microsoft = (extra: object = {}) => ({
  development: {
    clientId: CLIENT,
    clientSecret: 'not-a-real-secret',
    tenantId: TENANT,
    ...extra,
  },
});

const read = (entraApp: JsonValue, microsoftExtra: object = {}) =>
  readEntraAppConfig(
    new ConfigReader({
      auth: {
        environment: 'development',
        providers: {
          microsoft: microsoft(microsoftExtra),
          'entra-app': entraApp,
        },
      },
    }),
  );

describe('readEntraAppConfig', () => {
  it("takes tenant and cloud from Entra sign-in, and defaults the audience to the portal's API", () => {
    expect(read({})).toEqual({
      tenantId: TENANT,
      jwksUrl: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
      issuers: [
        `https://login.microsoftonline.com/${TENANT}/v2.0`,
        `https://sts.windows.net/${TENANT}/`,
      ],
      audiences: [`api://${CLIENT}`, CLIENT],
      requireIdtyp: true,
      roleGroups: {},
    });
  });

  it("uses the sovereign cloud's issuers and keys", () => {
    const config = read({}, { cloud: 'china' });
    expect(config.jwksUrl).toBe(
      `https://login.chinacloudapi.cn/${TENANT}/discovery/v2.0/keys`,
    );
    expect(config.issuers).toEqual([
      `https://login.chinacloudapi.cn/${TENANT}/v2.0`,
      `https://sts.chinacloudapi.cn/${TENANT}/`,
    ]);
  });

  it('reads audiences, requireIdtyp and role groups as full refs', () => {
    expect(
      read({
        audiences: ['api://portal.contoso.example'],
        requireIdtyp: false,
        roleGroups: { 'Portal.Registrar': 'catalog-registrars' },
      }),
    ).toMatchObject({
      audiences: ['api://portal.contoso.example'],
      requireIdtyp: false,
      roleGroups: { 'Portal.Registrar': 'group:default/catalog-registrars' },
    });
  });

  it.each([
    [
      { audience: ['x'] },
      /auth\.providers\.entra-app\.audience is not a setting/,
    ],
    [
      { audiences: 'api://x' },
      /auth\.providers\.entra-app\.audiences must be a list/,
    ],
    [{ audiences: [] }, /auth\.providers\.entra-app\.audiences is empty/],
    [
      { requireIdtyp: 'yes' },
      /auth\.providers\.entra-app\.requireIdtyp must be true or false/,
    ],
    [
      { roleGroups: ['group:default/x'] },
      /auth\.providers\.entra-app\.roleGroups must map/,
    ],
    [
      { roleGroups: { 'Portal.Registrar': 'user:default/ada' } },
      /auth\.providers\.entra-app\.roleGroups\.Portal\.Registrar must name a Group/,
    ],
    [
      { roleGroups: { 'Portal.Registrar': 7 } },
      /auth\.providers\.entra-app\.roleGroups\.Portal\.Registrar must be a group ref/,
    ],
  ])('refuses %j naming the key', (entraApp, message) => {
    expect(() => read(entraApp)).toThrow(message);
  });

  it('refuses a multi-tenant sign-in: a pipeline belongs to one tenant', () => {
    expect(() =>
      read({}, { tenantId: 'organizations', allowedTenantIds: [TENANT] }),
    ).toThrow(
      /Entra sign-in is multi-tenant .*auth\.providers\.microsoft\.<environment>\.tenantId/,
    );
  });

  it('refuses to run without Entra sign-in, naming its key', () => {
    expect(() =>
      readEntraAppConfig(
        new ConfigReader({ auth: { providers: { 'entra-app': {} } } }),
      ),
    ).toThrow(/auth\.providers\.microsoft\.development is not set/);
  });
});

describe('the entra-app module at startup', () => {
  const start = (entraApp?: object) =>
    startTestBackend({
      features: [
        authPlugin,
        authModuleEntraAppProvider,
        catalogServiceMock.factory({ entities: [] }),
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            auth: {
              environment: 'development',
              providers: {
                microsoft: microsoft(),
                ...(entraApp && { 'entra-app': entraApp }),
              },
            },
          },
        }),
      ],
    });

  it('fails on a wrong setting, naming the key, even in development', async () => {
    await expect(start({ roleGroup: {} })).rejects.toThrow(
      /auth\.providers\.entra-app\.roleGroup is not a setting/,
    );
  });

  it('serves /api/auth/entra-app/refresh only when configured', async () => {
    const on = await start({});
    const onPort = on.server.port();
    const refused = await fetch(
      `http://localhost:${onPort}/api/auth/entra-app/refresh`,
      { method: 'POST' },
    );
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.message).toMatch(
      /Entra app token refused \(format\): no bearer token/,
    );
    await on.stop();

    const off = await start();
    const missing = await fetch(
      `http://localhost:${off.server.port()}/api/auth/entra-app/refresh`,
      { method: 'POST' },
    );
    expect(missing.status).toBe(404);
    await off.stop();
  });
});
