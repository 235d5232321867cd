import { ConfigReader } from '@backstage/config';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import { findAgentAccessProblems } from './agentChecks';
import { findDevelopmentOnlySettings } from './checks';

/** The agent settings app-config.production.yaml ships with. */
const safe = {
  backstageTokenExpiration: { minutes: 15 },
  clientIdMetadataDocuments: { enabled: true, allowedClientIdPatterns: [] },
  experimentalRefreshToken: {
    enabled: true,
    tokenLifetime: { hours: 12 },
    maxRotationLifetime: { days: 7 },
  },
};

const check = (auth: object) =>
  findAgentAccessProblems(new ConfigReader({ auth }));

describe('findAgentAccessProblems', () => {
  it('accepts the shipped defaults: CLI only, bounded refresh, 15 min tokens', () => {
    expect(check(safe)).toEqual([]);
  });

  it('accepts agents off entirely', () => {
    expect(check({})).toEqual([]);
  });

  it("checks app-config.production.yaml's own agent settings", () => {
    const file = path.resolve(__dirname, '../../../app-config.production.yaml');
    const { auth } = yaml.parse(fs.readFileSync(file, 'utf8'));
    const problems = check({
      backstageTokenExpiration: auth.backstageTokenExpiration,
      clientIdMetadataDocuments: auth.clientIdMetadataDocuments,
      experimentalRefreshToken: auth.experimentalRefreshToken,
    });
    expect(problems).toEqual([]);
    expect(auth.clientIdMetadataDocuments).toEqual({
      enabled: true,
      allowedClientIdPatterns: [],
    });
    expect(auth.experimentalRefreshToken.enabled).toBe(true);
  });

  it('refuses CIMD on without an allow-list (upstream admits public clients)', () => {
    expect(
      check({ ...safe, clientIdMetadataDocuments: { enabled: true } }),
    ).toEqual([
      expect.stringContaining(
        'auth.clientIdMetadataDocuments.allowedClientIdPatterns is not set',
      ),
    ]);
  });

  it.each([
    ['*', 'admits every'],
    ['https://*', 'host is a wildcard'],
    ['https://*/*', 'host is a wildcard'],
    ['https://*.com/*', 'host is a wildcard'],
    ['https://agents.*.example.com/*', 'host is a wildcard'],
    ['https://*:*/*', 'host is a wildcard'],
    ['http://agents.example.com/client.json', 'http'],
    ['agents.example.com/*', 'no scheme'],
  ])('refuses the client id pattern %s', (pattern, reason) => {
    const problems = check({
      ...safe,
      clientIdMetadataDocuments: {
        enabled: true,
        allowedClientIdPatterns: [
          'https://agents.example.com/client.json',
          pattern,
        ],
      },
    });
    expect(problems).toEqual([
      expect.stringContaining(
        `auth.clientIdMetadataDocuments.allowedClientIdPatterns[1] is '${pattern}'`,
      ),
    ]);
    expect(problems[0]).toContain(reason);
  });

  it('accepts exact URLs and a subdomain wildcard under a named domain', () => {
    expect(
      check({
        ...safe,
        clientIdMetadataDocuments: {
          enabled: true,
          allowedClientIdPatterns: [
            'https://agents.example.com/client.json',
            'https://*.agents.example.com/*',
          ],
          allowedRedirectUriPatterns: [
            'http://127.0.0.1:*/callback',
            'https://agents.example.com/callback',
          ],
        },
      }),
    ).toEqual([]);
  });

  it('refuses wildcard and plain-http redirect patterns, naming the index', () => {
    expect(
      check({
        ...safe,
        clientIdMetadataDocuments: {
          enabled: true,
          allowedClientIdPatterns: [],
          allowedRedirectUriPatterns: ['*', 'http://evil.example.com/cb'],
        },
      }),
    ).toEqual([
      expect.stringContaining('allowedRedirectUriPatterns[0]'),
      expect.stringContaining('allowedRedirectUriPatterns[1]'),
    ]);
  });

  it('reads the deprecated experimental CIMD key when the new one is absent', () => {
    expect(
      check({
        experimentalClientIdMetadataDocuments: {
          enabled: true,
          allowedClientIdPatterns: ['*'],
        },
      }),
    ).toEqual([
      expect.stringContaining(
        'auth.experimentalClientIdMetadataDocuments.allowedClientIdPatterns[0]',
      ),
    ]);
  });

  it('refuses dynamic client registration', () => {
    expect(
      check({
        ...safe,
        experimentalDynamicClientRegistration: { enabled: true },
      }),
    ).toEqual([
      expect.stringContaining(
        'auth.experimentalDynamicClientRegistration.enabled is true',
      ),
    ]);
  });

  it("refuses refresh on with upstream's unbounded default lifetimes", () => {
    const problems = check({
      ...safe,
      experimentalRefreshToken: { enabled: true },
    });
    expect(problems).toEqual([
      expect.stringContaining(
        'auth.experimentalRefreshToken.tokenLifetime is not set',
      ),
      expect.stringContaining(
        'auth.experimentalRefreshToken.maxRotationLifetime is not set',
      ),
    ]);
  });

  it('refuses lifetimes past the bounds, in objects and strings alike', () => {
    expect(
      check({
        ...safe,
        experimentalRefreshToken: {
          enabled: true,
          tokenLifetime: '2 days',
          maxRotationLifetime: { years: 1 },
        },
      }),
    ).toEqual([
      'auth.experimentalRefreshToken.tokenLifetime is longer than 1 day. Shorten it.',
      'auth.experimentalRefreshToken.maxRotationLifetime is longer than 30 days. Shorten it.',
    ]);
  });

  it('refuses a Backstage token longer than 1 hour while agents may connect', () => {
    expect(check({ ...safe, backstageTokenExpiration: { hours: 8 } })).toEqual([
      expect.stringContaining(
        'auth.backstageTokenExpiration is longer than 1 hour',
      ),
    ]);
  });

  it('is part of the production guard', () => {
    const problems = findDevelopmentOnlySettings(
      new ConfigReader({
        permission: { enabled: true },
        auth: { clientIdMetadataDocuments: { enabled: true } },
      }),
    );
    expect(problems).toEqual([
      expect.stringContaining('allowedClientIdPatterns is not set'),
    ]);
  });

  it('reads providers with plain settings beside environments (entra-app)', () => {
    const problems = findDevelopmentOnlySettings(
      new ConfigReader({
        permission: { enabled: true },
        auth: {
          ...safe,
          providers: {
            'entra-app': {
              requireIdtyp: true,
              audiences: ['api://portal'],
              roleGroups: {},
            },
          },
        },
      }),
    );
    expect(problems).toEqual([]);
  });
});
