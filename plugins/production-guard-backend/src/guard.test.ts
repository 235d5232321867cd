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
    delete process.env.PORTAL_TEST_ALLOW_LOOPBACK_ENTRA;
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

  it('with the test-only opt-in, starts against the emulator on loopback and warns naming it', () => {
    process.env.NODE_ENV = 'production';
    process.env.PORTAL_TEST_ALLOW_LOOPBACK_ENTRA = '1';
    const logger = mockServices.logger.mock();
    refuseDevelopmentOnlySettings(emulatorAuthority, logger);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(
        /PORTAL_TEST_ALLOW_LOOPBACK_ENTRA=1 is set: TEST ONLY.*auth\.providers\.microsoft\.production\.authority=https:\/\/localhost:8401\/tenant/,
      ),
    );
  });

  it('with the opt-in, still refuses an emulator authority off loopback', () => {
    process.env.NODE_ENV = 'production';
    process.env.PORTAL_TEST_ALLOW_LOOPBACK_ENTRA = '1';
    const logger = mockServices.logger.mock();
    expect(() =>
      refuseDevelopmentOnlySettings(
        new ConfigReader({
          permission: { enabled: true },
          auth: {
            providers: {
              microsoft: {
                production: {
                  authority: 'https://login.microsoftonline.com@127.0.0.1/t',
                },
              },
            },
          },
        }),
        logger,
      ),
    ).toThrow(/auth\.providers\.microsoft\.production\.authority/);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('No loopback Entra endpoint was admitted'),
    );
  });

  it('ignores an opt-in with any value but 1', () => {
    process.env.NODE_ENV = 'production';
    process.env.PORTAL_TEST_ALLOW_LOOPBACK_ENTRA = 'true';
    expect(() => refuseDevelopmentOnlySettings(emulatorAuthority)).toThrow(
      /auth\.providers\.microsoft\.production\.authority/,
    );
  });
});
