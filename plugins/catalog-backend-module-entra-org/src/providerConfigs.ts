import { Config, ConfigReader } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import { InputError } from '@backstage/errors';
import {
  MicrosoftGraphProviderConfig,
  readProviderConfig,
} from '@backstage/plugin-catalog-backend-module-msgraph';
import {
  CREDENTIAL_KEYS,
  CredentialLogger,
  EntraAppCredential,
  readEntraAppCredential,
} from '@internal/entra-credentials';

const CONFIG_ROOT = 'catalog.providers.microsoftGraphOrg';

/** An upstream msgraph provider config with the portal app's credential. */
export type EntraGraphProviderConfig = MicrosoftGraphProviderConfig & {
  credential: EntraAppCredential;
};

/** Keys read here rather than by upstream, which knows only `clientSecret`. */
const CREDENTIAL_SETTINGS = new Set<string>([
  ...CREDENTIAL_KEYS,
  'clientCertificateSendX5c',
  'federatedTokenAudience',
]);

/**
 * Reads `catalog.providers.microsoftGraphOrg` as upstream does (one
 * provider with the keys at the root, or one per id), except for the
 * credential: upstream insists on `clientSecret`, this module takes any of
 * the portal app credentials (secret, secret file, certificate, federated
 * token) and reads it with `@internal/entra-credentials`.
 */
export function readEntraGraphProviderConfigs(
  config: Config,
  logger?: CredentialLogger,
): EntraGraphProviderConfig[] {
  const root = config.getOptionalConfig(CONFIG_ROOT);
  if (!root) return [];
  const blocks: Array<[string, Config, string]> = root.has('clientId')
    ? [['default', root, CONFIG_ROOT]]
    : root.keys().map(id => [id, root.getConfig(id), `${CONFIG_ROOT}.${id}`]);
  return blocks.map(([id, block, key]) => {
    const clientId = block.getOptionalString('clientId');
    if (!clientId) {
      throw new InputError(
        `${key}.clientId is missing: set it to the application (client) id of the portal's app registration.`,
      );
    }
    const data: JsonObject = { ...block.get<JsonObject>() };
    for (const k of [...CREDENTIAL_SETTINGS, 'clientId']) delete data[k];
    return {
      ...readProviderConfig(id, new ConfigReader(data, key)),
      clientId,
      credential: readEntraAppCredential(block, {
        clientId,
        keyPrefix: key,
        logger,
      }),
    };
  });
}
