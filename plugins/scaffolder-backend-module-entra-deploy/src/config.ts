import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import {
  EntraProviderConfig,
  readEntraProviderConfig,
} from '@internal/plugin-auth-backend-module-entra-provider';

/** Where this module's settings live. */
export const CONFIG_KEY = 'scaffolder.entraDeploy';

/** Azure DevOps' first-party application id, the same in every tenant. */
export const AZURE_DEVOPS_RESOURCE = '499b84ac-1321-427f-aa17-267ca6975798';

/** One deploy target of `entra:deploy`. */
export interface DeployTarget {
  name: string;
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
  scope: string;
  timeoutMs: number;
}

/** The validated settings of this module. */
export interface EntraDeployConfig {
  /** The portal's app registration, as sign-in reads it. */
  entra: EntraProviderConfig;
  /** The `auth.providers.microsoft.<environment>` key it was read from. */
  entraKey: string;
  environments: Map<string, DeployTarget>;
  azureDevOps: {
    host: string;
    scope: string;
    pollIntervalMs: number;
    waitTimeoutMs: number;
  };
}

const METHODS = ['POST', 'PUT', 'PATCH'];

function httpsUrl(value: string, key: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(`${key} must be a URL; got '${value}'.`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new InputError(
      `${key} must be an https URL (http only on localhost), since a person's token is sent to it; got '${value}'.`,
    );
  }
  return value.replace(/\/+$/, '');
}

/**
 * Reads and validates the module's config at startup, so that a mistake
 * fails the backend's start naming the key rather than someone's deploy.
 */
export function readEntraDeployConfig(config: Config): EntraDeployConfig {
  const own = config.getOptionalConfig(CONFIG_KEY);
  const authEnvironment =
    own?.getOptionalString('authEnvironment') ??
    config.getOptionalString('auth.environment') ??
    'development';
  const entraKey = `auth.providers.microsoft.${authEnvironment}`;
  const providerConfig = config.getOptionalConfig(entraKey);
  if (!providerConfig) {
    throw new InputError(
      `${CONFIG_KEY} needs the portal's Entra app registration at ${entraKey} ` +
        `(or set ${CONFIG_KEY}.authEnvironment to the environment that has it).`,
    );
  }
  const entra = readEntraProviderConfig(providerConfig, { key: entraKey });

  const environments = new Map<string, DeployTarget>();
  (own?.getOptionalConfigArray('environments') ?? []).forEach((e, i) => {
    const key = `${CONFIG_KEY}.environments[${i}]`;
    const name = e.getString('name');
    if (environments.has(name)) {
      throw new InputError(
        `${key}.name '${name}' is listed twice; give each environment one target.`,
      );
    }
    const method = (e.getOptionalString('method') ?? 'POST').toUpperCase();
    if (!METHODS.includes(method)) {
      throw new InputError(
        `${key}.method must be one of ${METHODS.join(', ')}; got '${method}'.`,
      );
    }
    const scope = e.getString('scope');
    if (/\s/.test(scope.trim())) {
      throw new InputError(
        `${key}.scope must be one scope (Entra issues a token for one resource at a time); got '${scope}'.`,
      );
    }
    environments.set(name, {
      name,
      url: httpsUrl(e.getString('url'), `${key}.url`),
      method: method as DeployTarget['method'],
      scope: scope.trim(),
      timeoutMs: (e.getOptionalNumber('timeout') ?? 30) * 1000,
    });
  });

  const ado = own?.getOptionalConfig('azureDevOps');
  return {
    entra,
    entraKey,
    environments,
    azureDevOps: {
      host: httpsUrl(
        ado?.getOptionalString('host') ?? 'https://dev.azure.com',
        `${CONFIG_KEY}.azureDevOps.host`,
      ),
      scope:
        ado?.getOptionalString('scope') ?? `${AZURE_DEVOPS_RESOURCE}/.default`,
      pollIntervalMs: (ado?.getOptionalNumber('pollInterval') ?? 5) * 1000,
      waitTimeoutMs: (ado?.getOptionalNumber('waitTimeout') ?? 30) * 60_000,
    },
  };
}
