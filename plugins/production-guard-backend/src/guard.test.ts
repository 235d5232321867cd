import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { refuseDevelopmentOnlySettings } from './guard';

const emulatorAuthority = new ConfigReader({
  permission: { enabled: true },
  auth: {
    providers: {
      microsoft: {
        production: {
          clientId: 'x',
          clientSecret: 'y',
          tenantId: 'z',
          authority: 'https://localhost:8401/tenant',
        },
      },
    },
  },
});

describe('refuseDevelopmentOnlySettings', () => {
  const nodeEnv = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = nodeEnv;
  });

  it('throws in production, naming every offending key', () => {
    process.env.NODE_ENV = 'production';
    expect(() =>
      refuseDevelopmentOnlySettings(
        new ConfigReader({
          auth: {
            ...emulatorAuthority.get<any>('auth'),
            keyStore: { provider: 'memory' },
          },
        }),
      ),
    ).toThrow(
      /Refusing to start in production[\s\S]*auth\.providers\.microsoft\.production\.authority[\s\S]*auth\.keyStore\.provider[\s\S]*permission\.enabled/,
    );
  });

  it('passes a fit production configuration and says it checked', () => {
    process.env.NODE_ENV = 'production';
    const logger = mockServices.logger.mock();
    refuseDevelopmentOnlySettings(
      new ConfigReader({ permission: { enabled: true } }),
      logger,
    );
    expect(logger.info).toHaveBeenCalledWith(
      'Production configuration checked: no development-only settings',
    );
  });

  it('leaves development alone', () => {
    process.env.NODE_ENV = 'development';
    expect(() =>
      refuseDevelopmentOnlySettings(emulatorAuthority),
    ).not.toThrow();
  });
});
