import { Config } from '@backstage/config';
import {
  isMicrosoftGraphUrl,
  isMicrosoftLoginUrl,
} from '@internal/entra-cloud';
import { findAgentAccessProblems } from './agentChecks';
import { isLoopbackHttpsUrl } from './loopback';

/** Options of {@link inspectProductionSettings}. */
export interface ProductionSettingsOptions {
  /**
   * Test only (`PORTAL_TEST_ALLOW_LOOPBACK_ENTRA=1`): admit an https loopback
   * origin (the Entra emulator on this machine) as sign-in authority, Graph
   * and deploy target. Anything else stays refused.
   */
  allowLoopbackEntra?: boolean;
}

/** What {@link inspectProductionSettings} found. */
export interface ProductionSettingsReport {
  /** Development-only settings, each naming the key and what to change. */
  problems: string[];
  /** `key=url` of each loopback endpoint the test-only opt-in admitted. */
  admittedLoopback: string[];
}

/**
 * Development-only settings found in a configuration, each as a message that
 * names the key and what to change. Empty when the configuration is fit for
 * production.
 */
export function findDevelopmentOnlySettings(
  config: Config,
  options: ProductionSettingsOptions = {},
): string[] {
  return inspectProductionSettings(config, options).problems;
}

/**
 * Checks a configuration for production: the development-only settings
 * found, and which loopback endpoints the test-only opt-in admitted.
 */
export function inspectProductionSettings(
  config: Config,
  options: ProductionSettingsOptions = {},
): ProductionSettingsReport {
  const problems: string[] = [];
  const admittedLoopback: string[] = [];
  // An Entra endpoint that is not Microsoft's: refused, unless the test-only
  // opt-in is on and it is an https loopback origin.
  const admitted = (key: string, url: string) => {
    if (options.allowLoopbackEntra && isLoopbackHttpsUrl(url)) {
      admittedLoopback.push(`${key}=${url}`);
      return true;
    }
    return false;
  };

  if (config.has('auth.providers.guest')) {
    problems.push(
      'auth.providers.guest is set: guest sign-in lets anyone in as a shared identity. Remove it.',
    );
  }

  const providers = config.getOptionalConfig('auth.providers');
  for (const providerId of providers?.keys() ?? []) {
    const provider = providers!.getConfig(providerId);
    for (const env of provider.keys()) {
      // Some providers (entra-app) have plain settings beside environments.
      const value = provider.getOptional(env);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        continue;
      }
      const envConfig = provider.getOptionalConfig(env);
      const resolvers =
        envConfig?.getOptionalConfigArray('signIn.resolvers') ?? [];
      resolvers.forEach((resolver, i) => {
        if (
          resolver.getOptionalBoolean(
            'dangerouslyAllowSignInWithoutUserInCatalog',
          )
        ) {
          problems.push(
            `auth.providers.${providerId}.${env}.signIn.resolvers[${i}].dangerouslyAllowSignInWithoutUserInCatalog is true: ` +
              'people outside the catalog would sign in. Remove it.',
          );
        }
      });
    }
  }

  const microsoft = config.getOptionalConfig('auth.providers.microsoft');
  for (const env of microsoft?.keys() ?? []) {
    const authority = microsoft!.getOptionalString(`${env}.authority`);
    const key = `auth.providers.microsoft.${env}.authority`;
    if (
      authority &&
      !isMicrosoftLoginUrl(authority) &&
      !admitted(key, authority)
    ) {
      problems.push(
        `auth.providers.microsoft.${env}.authority is ${authority}, not a Microsoft sign-in host ` +
          '(the Entra emulator is for development only). Remove it and use `cloud` to pick a Microsoft cloud.',
      );
    }
  }

  const graphOrg = config.getOptionalConfig(
    'catalog.providers.microsoftGraphOrg',
  );
  for (const id of graphOrg?.keys() ?? []) {
    const authority = graphOrg!.getOptionalString(`${id}.authority`);
    const target = graphOrg!.getOptionalString(`${id}.target`);
    const prefix = `catalog.providers.microsoftGraphOrg.${id}`;
    if (
      authority &&
      !isMicrosoftLoginUrl(authority) &&
      !admitted(`${prefix}.authority`, authority)
    ) {
      problems.push(
        `catalog.providers.microsoftGraphOrg.${id}.authority is ${authority}, not a Microsoft sign-in host. ` +
          "Set it to your cloud's, e.g. https://login.microsoftonline.com.",
      );
    }
    if (
      target &&
      !isMicrosoftGraphUrl(target) &&
      !admitted(`${prefix}.target`, target)
    ) {
      problems.push(
        `catalog.providers.microsoftGraphOrg.${id}.target is ${target}, not Microsoft Graph. ` +
          "Set it to your cloud's Graph, e.g. https://graph.microsoft.com/v1.0.",
      );
    }
  }

  // Deploy targets receive people's delegated tokens: one on this machine is
  // the emulator's sample deploy API (app-config.yaml's defaults), never a
  // production target.
  const deploy = config.getOptionalConfig('scaffolder.entraDeploy');
  const deployTargets: Array<[string, string | undefined]> = [
    ...(deploy?.getOptionalConfigArray('environments') ?? []).map(
      (env, i): [string, string | undefined] => [
        `scaffolder.entraDeploy.environments[${i}].url`,
        env.getOptionalString('url'),
      ],
    ),
    [
      'scaffolder.entraDeploy.azureDevOps.host',
      deploy?.getOptionalString('azureDevOps.host'),
    ],
  ];
  for (const [key, url] of deployTargets) {
    if (url && isLoopbackHost(url) && !admitted(key, url)) {
      problems.push(
        `${key} is ${url}, on this machine (the Entra emulator's sample deploy API is for development only). ` +
          'Set it to your deploy target (docs/deploy-identity.md).',
      );
    }
  }

  if (config.has('scaffolder.localPublish.directory')) {
    problems.push(
      'scaffolder.localPublish.directory is set: publish:local serves what templates published without sign-in. ' +
        'Remove it and publish to a Git host (publish:github, publish:azure, ...).',
    );
  }

  if (config.getOptionalString('auth.keyStore.provider') === 'memory') {
    problems.push(
      'auth.keyStore.provider is memory: signing keys would differ per replica and vanish on restart. ' +
        'Remove it to use the database key store.',
    );
  }

  // Without a connection the Redis client would quietly dial localhost:6379.
  const cacheStore = config.getOptionalString('backend.cache.store');
  if (
    (cacheStore === 'redis' || cacheStore === 'valkey') &&
    !config.getOptional('backend.cache.connection')
  ) {
    problems.push(
      `backend.cache.store is ${cacheStore} but backend.cache.connection is not set. ` +
        'Set REDIS_URL (e.g. redis://redis:6379), or unset BACKEND_CACHE_STORE for the per-pod memory cache.',
    );
  }

  if (config.getOptionalBoolean('permission.enabled') !== true) {
    problems.push(
      'permission.enabled is not true: every signed-in person could change everything. Set permission.enabled: true.',
    );
  }

  problems.push(...findAgentAccessProblems(config));

  return { problems, admittedLoopback };
}

/** A URL whose host is this machine, however it is written. */
function isLoopbackHost(url: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return false;
  }
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    hostname === '0.0.0.0' ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname)
  );
}
