import { Config } from '@backstage/config';
import {
  isMicrosoftGraphUrl,
  isMicrosoftLoginUrl,
} from '@internal/entra-cloud';

/**
 * Development-only settings found in a configuration, each as a message that
 * names the key and what to change. Empty when the configuration is fit for
 * production.
 */
export function findDevelopmentOnlySettings(config: Config): string[] {
  const problems: string[] = [];

  if (config.has('auth.providers.guest')) {
    problems.push(
      'auth.providers.guest is set: guest sign-in lets anyone in as a shared identity. Remove it.',
    );
  }

  const providers = config.getOptionalConfig('auth.providers');
  for (const providerId of providers?.keys() ?? []) {
    const provider = providers!.getConfig(providerId);
    for (const env of provider.keys()) {
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
    if (authority && !isMicrosoftLoginUrl(authority)) {
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
    if (authority && !isMicrosoftLoginUrl(authority)) {
      problems.push(
        `catalog.providers.microsoftGraphOrg.${id}.authority is ${authority}, not a Microsoft sign-in host. ` +
          "Set it to your cloud's, e.g. https://login.microsoftonline.com.",
      );
    }
    if (target && !isMicrosoftGraphUrl(target)) {
      problems.push(
        `catalog.providers.microsoftGraphOrg.${id}.target is ${target}, not Microsoft Graph. ` +
          "Set it to your cloud's Graph, e.g. https://graph.microsoft.com/v1.0.",
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

  if (config.getOptionalBoolean('permission.enabled') !== true) {
    problems.push(
      'permission.enabled is not true: every signed-in person could change everything. Set permission.enabled: true.',
    );
  }

  return problems;
}
