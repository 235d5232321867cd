import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import {
  EntraProviderConfig,
  readEntraProviderConfig,
} from '@internal/plugin-auth-backend-module-entra-provider';

/** The config key of this provider. */
export const CONFIG_KEY = 'auth.providers.entra-app';

const KNOWN_KEYS = new Set(['audiences', 'requireIdtyp', 'roleGroups']);

/** Validated settings of the `entra-app` provider. */
export interface EntraAppConfig {
  /** The configured tenant (never a token's own `tid`). */
  tenantId: string;
  /** JWKS of the configured tenant, e.g. https://login.microsoftonline.com/<tid>/discovery/v2.0/keys */
  jwksUrl: string;
  /** Issuers accepted: the v2 and v1 forms for the configured tenant and cloud. */
  issuers: string[];
  audiences: string[];
  requireIdtyp: boolean;
  /** Role value → lower-case group entity ref. */
  roleGroups: Record<string, string>;
}

/**
 * Entra's v1 token issuer (`accessTokenAcceptedVersion` null or 1) for a
 * sign-in host: `sts.windows.net` for the public and US Government clouds,
 * `sts.chinacloudapi.cn` for China; an explicit authority (the emulator, a
 * proxy) issues v1 tokens under its own origin.
 */
function v1Issuer(authorityOrigin: string, tenantId: string): string {
  const host: Record<string, string> = {
    'https://login.microsoftonline.com': 'https://sts.windows.net',
    'https://login.microsoftonline.us': 'https://sts.windows.net',
    'https://login.chinacloudapi.cn': 'https://sts.chinacloudapi.cn',
  };
  return `${host[authorityOrigin] ?? authorityOrigin}/${tenantId}/`;
}

/** Reads the sign-in environment this provider shares tenant and cloud with. */
function readMicrosoftProvider(rootConfig: Config): EntraProviderConfig {
  const env = rootConfig.getOptionalString('auth.environment') ?? 'development';
  const key = `auth.providers.microsoft.${env}`;
  const block = rootConfig.getOptionalConfig(key);
  if (!block) {
    throw new InputError(
      `${CONFIG_KEY} takes the tenant, cloud and authority of Entra sign-in, but ${key} is not set. ` +
        `Configure Entra sign-in (docs/entra-setup.md) or remove ${CONFIG_KEY}.`,
    );
  }
  return readEntraProviderConfig(block, { key });
}

/**
 * Reads `auth.providers.entra-app` against the Entra sign-in settings. Any
 * unknown key or wrong shape fails startup, naming the key.
 */
export function readEntraAppConfig(rootConfig: Config): EntraAppConfig {
  const config = rootConfig.getConfig(CONFIG_KEY);
  for (const key of config.keys()) {
    if (!KNOWN_KEYS.has(key)) {
      throw new InputError(
        `${CONFIG_KEY}.${key} is not a setting of the entra-app provider; use ${[
          ...KNOWN_KEYS,
        ].join(', ')} (docs/automation-identity.md).`,
      );
    }
  }
  const microsoft = readMicrosoftProvider(rootConfig);
  if (
    microsoft.allowedTenantIds.size !== 1 ||
    !microsoft.allowedTenantIds.has(microsoft.tenantId)
  ) {
    throw new InputError(
      `${CONFIG_KEY} accepts pipelines of one tenant, but Entra sign-in is multi-tenant ` +
        `(tenantId '${microsoft.tenantId}'). Set auth.providers.microsoft.<environment>.tenantId to your tenant's id, ` +
        `or remove ${CONFIG_KEY}.`,
    );
  }
  const { tenantId, authority, clientId } = microsoft;
  const origin = new URL(authority).origin;

  const audiences = readStrings(config, 'audiences') ?? [
    `api://${clientId}`,
    clientId,
  ];
  if (audiences.length === 0) {
    throw new InputError(
      `${CONFIG_KEY}.audiences is empty, so no token could be accepted; list the portal's API, e.g. api://${clientId}.`,
    );
  }

  let requireIdtyp = true;
  if (config.has('requireIdtyp')) {
    const value = config.get('requireIdtyp');
    if (typeof value !== 'boolean') {
      throw new InputError(
        `${CONFIG_KEY}.requireIdtyp must be true or false; got ${JSON.stringify(
          value,
        )}.`,
      );
    }
    requireIdtyp = value;
  }

  return {
    tenantId,
    jwksUrl: `${authority}/discovery/v2.0/keys`,
    issuers: [`${origin}/${tenantId}/v2.0`, v1Issuer(origin, tenantId)],
    audiences,
    requireIdtyp,
    roleGroups: readRoleGroups(config),
  };
}

function readStrings(config: Config, key: string): string[] | undefined {
  if (!config.has(key)) return undefined;
  const value = config.get(key);
  if (
    !Array.isArray(value) ||
    value.some(v => typeof v !== 'string' || v.trim() === '')
  ) {
    throw new InputError(
      `${CONFIG_KEY}.${key} must be a list of non-empty strings; got ${JSON.stringify(
        value,
      )}.`,
    );
  }
  return value as string[];
}

/**
 * `roleGroups` as role → group ref. Exported for the ownership policy,
 * which must know which groups only a token's roles confer.
 */
export function readRoleGroups(config: Config): Record<string, string> {
  if (!config.has('roleGroups')) return {};
  const value = config.get('roleGroups');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(
      `${CONFIG_KEY}.roleGroups must map app role values to group refs, e.g. { Portal.Registrar: group:default/catalog-registrars }.`,
    );
  }
  const result: Record<string, string> = {};
  for (const [role, group] of Object.entries(value)) {
    const key = `${CONFIG_KEY}.roleGroups.${role}`;
    if (typeof group !== 'string') {
      throw new InputError(
        `${key} must be a group ref such as group:default/catalog-registrars; got ${JSON.stringify(
          group,
        )}.`,
      );
    }
    let ref;
    try {
      ref = parseEntityRef(group, {
        defaultKind: 'group',
        defaultNamespace: 'default',
      });
    } catch {
      throw new InputError(
        `${key} must be a group ref such as group:default/catalog-registrars; got '${group}'.`,
      );
    }
    if (ref.kind.toLocaleLowerCase('en-US') !== 'group') {
      throw new InputError(
        `${key} must name a Group (the policy grants rights to groups); got '${group}'.`,
      );
    }
    result[role] = stringifyEntityRef(ref).toLocaleLowerCase('en-US');
  }
  return result;
}
