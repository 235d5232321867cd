import { ConfigReader } from '@backstage/config';
import { findDevelopmentOnlySettings } from './checks';

const production = {
  permission: { enabled: true },
  auth: {
    providers: {
      microsoft: {
        production: { clientId: 'x', clientSecret: 'y', tenantId: 'z' },
      },
    },
  },
  catalog: {
    providers: {
      microsoftGraphOrg: {
        default: {
          target: 'https://graph.microsoft.com/v1.0',
          authority: 'https://login.microsoftonline.com',
        },
      },
    },
  },
};

const check = (overrides: object) =>
  findDevelopmentOnlySettings(
    ConfigReader.fromConfigs([
      { context: 'prod', data: production },
      { context: 'override', data: overrides },
    ]),
  );

describe('findDevelopmentOnlySettings', () => {
  it('accepts a production configuration on a real tenant', () => {
    expect(check({})).toEqual([]);
  });

  it('refuses the emulator as sign-in authority, naming the key', () => {
    expect(
      check({
        auth: {
          providers: {
            microsoft: {
              production: { authority: 'https://localhost:8401/tenant' },
            },
          },
        },
      }),
    ).toEqual([
      expect.stringContaining('auth.providers.microsoft.production.authority'),
    ]);
  });

  it('refuses the emulator as Graph for org ingestion', () => {
    const problems = check({
      catalog: {
        providers: {
          microsoftGraphOrg: {
            default: {
              target: 'https://localhost:8401/v1.0',
              authority: 'https://localhost:8401',
            },
          },
        },
      },
    });
    expect(problems).toHaveLength(2);
    expect(problems.join()).toContain(
      'catalog.providers.microsoftGraphOrg.default.target',
    );
  });

  it('refuses guest sign-in', () => {
    expect(check({ auth: { providers: { guest: {} } } })).toEqual([
      expect.stringContaining('auth.providers.guest'),
    ]);
  });

  it('refuses sign-in without a catalog user', () => {
    expect(
      check({
        auth: {
          providers: {
            microsoft: {
              production: {
                signIn: {
                  resolvers: [
                    {
                      resolver: 'emailMatchingUserEntityProfileEmail',
                      dangerouslyAllowSignInWithoutUserInCatalog: true,
                    },
                  ],
                },
              },
            },
          },
        },
      }),
    ).toEqual([
      expect.stringContaining(
        'auth.providers.microsoft.production.signIn.resolvers[0].dangerouslyAllowSignInWithoutUserInCatalog',
      ),
    ]);
  });

  it('refuses publish:local, whose files are served without sign-in', () => {
    expect(
      check({ scaffolder: { localPublish: { directory: '/tmp/published' } } }),
    ).toEqual([
      expect.stringMatching(
        /^scaffolder\.localPublish\.directory is set: .*without sign-in/,
      ),
    ]);
  });

  it('refuses a memory key store and disabled permissions', () => {
    const problems = check({
      auth: { keyStore: { provider: 'memory' } },
      permission: { enabled: false },
    });
    expect(problems).toEqual([
      expect.stringContaining('auth.keyStore.provider'),
      expect.stringContaining('permission.enabled'),
    ]);
  });

  it('refuses a Redis cache without a connection, naming REDIS_URL', () => {
    expect(check({ backend: { cache: { store: 'redis' } } })).toEqual([
      expect.stringMatching(
        /^backend\.cache\.store is redis but backend\.cache\.connection is not set\. Set REDIS_URL/,
      ),
    ]);
    expect(
      check({
        backend: {
          cache: { store: 'redis', connection: 'redis://redis:6379' },
        },
      }),
    ).toEqual([]);
    expect(check({ backend: { cache: { store: 'memory' } } })).toEqual([]);
  });
});
