import { Config, readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds, HumanDuration } from '@backstage/types';

/**
 * The longest refresh-token lifetimes production accepts. An agent's refresh
 * token is a standing credential for a person: a stolen one works until its
 * rotation lifetime ends, so that end must be near (design: 12 h / 7 days).
 */
export const MAX_REFRESH_TOKEN_LIFETIME: HumanDuration = { days: 1 };
/** See {@link MAX_REFRESH_TOKEN_LIFETIME}. */
export const MAX_REFRESH_ROTATION_LIFETIME: HumanDuration = { days: 30 };
/**
 * The longest Backstage token production accepts while agents may connect:
 * a revoked agent's token keeps working on the REST APIs (which do not ask
 * the agent guard) until it expires.
 */
export const MAX_AGENT_BACKSTAGE_TOKEN_EXPIRATION: HumanDuration = {
  hours: 1,
};

/**
 * Agent (MCP) settings unfit for production, each naming the key and what to
 * change: client allow-lists open to anyone, dynamic client registration,
 * refresh tokens without bounded lifetimes, long-lived Backstage tokens.
 */
export function findAgentAccessProblems(config: Config): string[] {
  const problems: string[] = [];

  // Upstream reads the deprecated key only when the new one is absent.
  const cimdKey = config.has('auth.clientIdMetadataDocuments')
    ? 'auth.clientIdMetadataDocuments'
    : 'auth.experimentalClientIdMetadataDocuments';
  const cimdEnabled = config.getOptionalBoolean(`${cimdKey}.enabled`) ?? false;
  if (cimdEnabled) {
    const clientIds = config.getOptionalStringArray(
      `${cimdKey}.allowedClientIdPatterns`,
    );
    if (!clientIds) {
      problems.push(
        `${cimdKey}.allowedClientIdPatterns is not set: upstream then admits public clients (claude.ai, vscode.dev, chatgpt.com) ` +
          'to act for anyone who clicks approve. List the exact client metadata URLs you trust, or [] for the built-in CLI only.',
      );
    }
    clientIds?.forEach((pattern, i) =>
      checkPattern(
        problems,
        `${cimdKey}.allowedClientIdPatterns[${i}]`,
        pattern,
        'client metadata URL',
      ),
    );
    config
      .getOptionalStringArray(`${cimdKey}.allowedRedirectUriPatterns`)
      ?.forEach((pattern, i) =>
        checkPattern(
          problems,
          `${cimdKey}.allowedRedirectUriPatterns[${i}]`,
          pattern,
          'redirect URI',
        ),
      );

    const expirationKey = 'auth.backstageTokenExpiration';
    if (
      config.has(expirationKey) &&
      exceeds(config, expirationKey, MAX_AGENT_BACKSTAGE_TOKEN_EXPIRATION)
    ) {
      problems.push(
        `${expirationKey} is longer than 1 hour while agents may connect: a revoked agent's token would keep working ` +
          'on the REST APIs until it expires. Set it to { minutes: 15 }.',
      );
    }
  }

  if (
    config.getOptionalBoolean(
      'auth.experimentalDynamicClientRegistration.enabled',
    )
  ) {
    problems.push(
      'auth.experimentalDynamicClientRegistration.enabled is true: anyone may register an OAuth client and name it as they like. ' +
        'Remove it and list trusted clients in auth.clientIdMetadataDocuments.allowedClientIdPatterns.',
    );
  }

  if (config.getOptionalBoolean('auth.experimentalRefreshToken.enabled')) {
    for (const [key, max, label] of [
      [
        'auth.experimentalRefreshToken.tokenLifetime',
        MAX_REFRESH_TOKEN_LIFETIME,
        '1 day',
      ],
      [
        'auth.experimentalRefreshToken.maxRotationLifetime',
        MAX_REFRESH_ROTATION_LIFETIME,
        '30 days',
      ],
    ] as const) {
      if (!config.has(key)) {
        problems.push(
          `${key} is not set: upstream's default (30 days per token, 1 year across rotations) keeps an agent's access alive for a year. ` +
            `Set it, at most ${label} (e.g. tokenLifetime { hours: 12 }, maxRotationLifetime { days: 7 }).`,
        );
      } else if (exceeds(config, key, max)) {
        problems.push(`${key} is longer than ${label}. Shorten it.`);
      }
    }
  }

  return problems;
}

/**
 * Refuses patterns that admit any host: `*`, no explicit https (or loopback
 * http for redirects), or a wildcard in place of the registrable domain
 * (`https://*`, `https://*.com/*`). A leading `*.` below a domain you own
 * (`https://*.example.com/...`) is accepted.
 */
function checkPattern(
  problems: string[],
  key: string,
  pattern: string,
  what: string,
) {
  const refuse = (why: string) =>
    problems.push(
      `${key} is '${pattern}': ${why}. List the exact ${what}s you trust (https, your own host).`,
    );
  if (pattern.trim() === '*') {
    refuse(`it admits every ${what}`);
    return;
  }
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(pattern);
  if (!match) {
    refuse('it names no scheme and host');
    return;
  }
  const [, scheme, authority] = match;
  const host = authority
    .replace(/^[^@]*@/, '')
    .replace(/:(\*|\d+)$/, '')
    .toLowerCase();
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(host);
  if (
    scheme.toLowerCase() !== 'https' &&
    !(what === 'redirect URI' && loopback)
  ) {
    refuse(`a ${scheme} ${what} can be read or forged on the network`);
    return;
  }
  const rest = host.startsWith('*.') ? host.slice(2) : host;
  if (rest.includes('*') || rest.split('.').filter(Boolean).length < 2) {
    refuse('its host is a wildcard, so any site can claim it');
  }
}

function exceeds(config: Config, key: string, max: HumanDuration): boolean {
  return (
    durationToMilliseconds(readDurationFromConfig(config, { key })) >
    durationToMilliseconds(max)
  );
}
