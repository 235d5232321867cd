import { Config } from '@backstage/config';
import {
  EntraProviderConfig,
  readEntraProviderConfig,
} from '@internal/plugin-auth-backend-module-entra-provider';
import { AgentAccessKey } from './delegationStore';

export const DELEGATION_KEY = 'agentAccess.delegation';
export const ENCRYPTION_KEYS_KEY = 'agentAccess.encryptionKeys';

/** "Deploy as me" for agents, when `agentAccess.delegation.enabled`. */
export interface DelegationConfig {
  entra: EntraProviderConfig;
  scope: string;
  callbackUrl: string;
  keys: AgentAccessKey[];
}

/**
 * Reads `agentAccess.delegation` and `agentAccess.encryptionKeys`;
 * undefined when delegation is off. Delegation without keys, or with a
 * short key, fails startup naming the key: refresh tokens are never stored
 * in the clear.
 */
export function readDelegationConfig(
  config: Config,
): DelegationConfig | undefined {
  const own = config.getOptionalConfig(DELEGATION_KEY);
  if (!own?.getOptionalBoolean('enabled')) return undefined;
  const keys = (config.getOptionalConfigArray(ENCRYPTION_KEYS_KEY) ?? []).map(
    (k, i) => ({
      id: k.getString('id'),
      secret: k.getString('secret'),
      index: i,
    }),
  );
  if (!keys.length) {
    throw new Error(
      `${DELEGATION_KEY}.enabled is true but ${ENCRYPTION_KEYS_KEY} is empty: add [{ id, secret }] with a random secret of at least 32 characters (e.g. \`openssl rand -base64 32\`), or set ${DELEGATION_KEY}.enabled to false.`,
    );
  }
  for (const k of keys) {
    if (k.secret.length < 32) {
      throw new Error(
        `${ENCRYPTION_KEYS_KEY}[${k.index}].secret (id ${k.id}) is shorter than 32 characters; use a random secret, e.g. \`openssl rand -base64 32\`.`,
      );
    }
  }
  const environment =
    config.getOptionalString('auth.environment') ?? 'development';
  const entraKey = `auth.providers.microsoft.${environment}`;
  const provider = config.getOptionalConfig(entraKey);
  if (!provider) {
    throw new Error(
      `${DELEGATION_KEY}.enabled needs the portal's Entra app at ${entraKey}.`,
    );
  }
  const entra = readEntraProviderConfig(provider, { key: entraKey });
  return {
    entra,
    scope:
      own.getOptionalString('scope') ??
      `api://${entra.clientId}/access_as_user`,
    callbackUrl:
      own.getOptionalString('callbackUrl') ??
      `${config.getString(
        'backend.baseUrl',
      )}/api/auth/agent-access/v1/delegations/callback`,
    keys: keys.map(({ id, secret }) => ({ id, secret })),
  };
}
