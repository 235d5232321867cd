import { ConfigReader } from '@backstage/config';
import { inspectProductionSettings } from './checks';
import { isLoopbackEntraAllowed, isLoopbackHttpsUrl } from './loopback';

/** A production configuration pointing every Entra endpoint at `origin`. */
function pointedAt(origin: string) {
  return ConfigReader.fromConfigs([
    {
      context: 'test',
      data: {
        permission: { enabled: true },
        auth: {
          providers: {
            microsoft: {
              production: {
                clientId: 'x',
                clientSecret: 'y',
                tenantId: 'z',
                authority: `${origin}/tenant`,
              },
            },
          },
        },
        catalog: {
          providers: {
            microsoftGraphOrg: {
              default: { authority: origin, target: `${origin}/v1.0` },
            },
          },
        },
        scaffolder: {
          entraDeploy: {
            environments: [
              { name: 'dev', url: `${origin}/deploy-api/deployments` },
            ],
            azureDevOps: { host: `${origin}/azure-devops` },
          },
        },
      },
    },
  ]);
}

const KEYS = [
  'auth.providers.microsoft.production.authority',
  'catalog.providers.microsoftGraphOrg.default.authority',
  'catalog.providers.microsoftGraphOrg.default.target',
  'scaffolder.entraDeploy.environments[0].url',
  'scaffolder.entraDeploy.azureDevOps.host',
];

describe('the test-only loopback Entra opt-in', () => {
  it('is on only for PORTAL_TEST_ALLOW_LOOPBACK_ENTRA=1 exactly', () => {
    expect(isLoopbackEntraAllowed({ PORTAL_TEST_ALLOW_LOOPBACK_ENTRA: '1' })).toBe(
      true,
    );
    for (const value of [undefined, '', '0', 'true', 'yes', ' 1']) {
      expect(
        isLoopbackEntraAllowed({ PORTAL_TEST_ALLOW_LOOPBACK_ENTRA: value }),
      ).toBe(false);
    }
  });

  it.each(['https://localhost:8401', 'https://127.0.0.1:34567', 'https://localhost'])(
    'admits %s for every Entra endpoint and names each one',
    origin => {
      const report = inspectProductionSettings(pointedAt(origin), {
        allowLoopbackEntra: true,
      });
      expect(report.problems).toEqual([]);
      expect(report.admittedLoopback.map(a => a.split('=')[0])).toEqual(KEYS);
    },
  );

  it.each([
    // Other hosts that merely start with a loopback name.
    'https://localhost.evil.example',
    'https://127.0.0.1.nip.io',
    'https://localhost.:8401',
    // User info: the request goes to the host after '@'; refused either way.
    'https://login.microsoftonline.com@127.0.0.1',
    'https://user:pass@localhost:8401',
    'https://localhost:8401@evil.example',
    // Not where the emulator listens (it binds 127.0.0.1 only).
    'https://[::1]:8401',
    'https://0.0.0.0:8401',
    'https://127.0.0.2:8401',
    // Plain http: tokens would cross in clear text.
    'http://localhost:8401',
    'http://127.0.0.1:8401',
    'https://evil.example',
  ])('still refuses %s, naming every key', origin => {
    const report = inspectProductionSettings(pointedAt(origin), {
      allowLoopbackEntra: true,
    });
    expect(report.admittedLoopback).toEqual([]);
    for (const key of KEYS.slice(0, 3)) {
      expect(report.problems).toContainEqual(expect.stringContaining(key));
    }
  });

  it('admits nothing without the opt-in: the emulator on loopback is refused', () => {
    const report = inspectProductionSettings(pointedAt('https://localhost:8401'));
    expect(report.admittedLoopback).toEqual([]);
    expect(report.problems).toEqual(
      KEYS.map(key => expect.stringContaining(key)),
    );
  });

  it('refuses deploy targets on this machine, which only the emulator serves', () => {
    for (const host of [
      'https://localhost:8401',
      'https://127.0.0.1:8401',
      'https://[::1]:8401',
      'https://deploy.localhost',
    ]) {
      const problems = inspectProductionSettings(
        ConfigReader.fromConfigs([
          {
            context: 'test',
            data: {
              permission: { enabled: true },
              scaffolder: {
                entraDeploy: {
                  environments: [{ name: 'prod', url: `${host}/deploy` }],
                  azureDevOps: { host },
                },
              },
            },
          },
        ]),
      ).problems;
      expect(problems).toEqual([
        expect.stringContaining('scaffolder.entraDeploy.environments[0].url'),
        expect.stringContaining('scaffolder.entraDeploy.azureDevOps.host'),
      ]);
    }
  });

  it('parses URLs as fetch does, not by prefix', () => {
    expect(isLoopbackHttpsUrl('https://localhost:8401/tenant/v2.0')).toBe(true);
    expect(isLoopbackHttpsUrl('https://LOCALHOST:8401')).toBe(true);
    expect(isLoopbackHttpsUrl('https://127.1:8401')).toBe(true); // is 127.0.0.1
    expect(isLoopbackHttpsUrl('https://evil.example/#@localhost')).toBe(false);
    expect(isLoopbackHttpsUrl('https://evil.example\\@localhost')).toBe(false);
    expect(isLoopbackHttpsUrl('not a url')).toBe(false);
    expect(isLoopbackHttpsUrl('')).toBe(false);
  });
});
