import { ConfigReader } from '@backstage/config';
import { readProviderConfigs } from '@backstage/plugin-catalog-backend-module-msgraph';
import { deltaUnsupportedBy } from './entraOrgProvider';
import { readEntraOrgExtras } from './module';

describe('readEntraOrgExtras: delta settings', () => {
  it('polls every 30 seconds by default', () => {
    expect(readEntraOrgExtras(new ConfigReader({}), 'default').delta).toEqual({
      enabled: true,
      frequencyMs: 30_000,
    });
  });

  it('reads a duration object or an ISO duration, and can be switched off', () => {
    const read = (delta: object) =>
      readEntraOrgExtras(new ConfigReader({ delta }), 'default').delta;
    expect(read({ frequency: { seconds: 5 } }).frequencyMs).toBe(5000);
    expect(read({ frequency: 'PT2M' }).frequencyMs).toBe(120_000);
    expect(read({ enabled: false }).enabled).toBe(false);
  });

  it('refuses an interval under a second or an unreadable one, naming the key', () => {
    const read = (frequency: unknown) => () =>
      readEntraOrgExtras(
        new ConfigReader({ delta: { frequency } } as any),
        'default',
      );
    expect(read({ milliseconds: 10 })).toThrow(
      /catalog\.providers\.microsoftGraphOrg\.default\.delta\.frequency must be at least one second/,
    );
    expect(read('soon')).toThrow(/delta\.frequency must be a duration/);
  });
});

describe('deltaUnsupportedBy', () => {
  const configs = (extra: object) =>
    readProviderConfigs(
      new ConfigReader({
        catalog: {
          providers: {
            microsoftGraphOrg: {
              default: {
                tenantId: 't',
                clientId: 'c',
                clientSecret: 's',
                ...extra,
              },
            },
          },
        },
      }),
    )[0];

  it('keeps delta on with the upstream defaults (user and group paths filled in)', () => {
    expect(deltaUnsupportedBy(configs({}))).toEqual([]);
  });

  it('names the settings Graph delta cannot apply', () => {
    expect(
      deltaUnsupportedBy(
        configs({
          user: { filter: "department eq 'x'" },
          group: { search: '"x"' },
        }),
      ),
    ).toEqual(['user.filter', 'group.search']);
  });
});

describe('readEntraOrgExtras: service principals', () => {
  it('ingests Application and ManagedIdentity service principals by default', () => {
    expect(
      readEntraOrgExtras(new ConfigReader({}), 'default').servicePrincipals,
    ).toEqual({ enabled: true, types: ['Application', 'ManagedIdentity'] });
  });

  it('reads enabled and types', () => {
    expect(
      readEntraOrgExtras(
        new ConfigReader({
          servicePrincipals: { enabled: false, types: ['Application'] },
        }),
        'default',
      ).servicePrincipals,
    ).toEqual({ enabled: false, types: ['Application'] });
  });

  it('refuses an empty types list, naming the key and the alternative', () => {
    expect(() =>
      readEntraOrgExtras(
        new ConfigReader({ servicePrincipals: { types: [] } }),
        'default',
      ),
    ).toThrow(
      /catalog\.providers\.microsoftGraphOrg\.default\.servicePrincipals\.types must name at least one.*servicePrincipals\.enabled: false/,
    );
  });
});
