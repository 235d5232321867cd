import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import {
  CredentialLogger,
  EntraAppCredential,
  readEntraAppCredential,
} from '@internal/entra-credentials';
import { resolveCloud } from './cloud';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MULTI_TENANT = new Set(['common', 'organizations']);
const KEY = 'auth.providers.microsoft.<environment>';

/** The validated settings of one Entra sign-in environment. */
export interface EntraProviderConfig {
  clientId: string;
  /**
   * How the portal's app authenticates at the token endpoint: a client
   * secret (inline or from a file), a certificate or a federated token.
   */
  credential: EntraAppCredential;
  /** The configured tenant: a GUID, or `common` / `organizations`. */
  tenantId: string;
  /** Tenants admitted: the configured one, or the allow-list for multi-tenant. */
  allowedTenantIds: ReadonlySet<string>;
  /** e.g. https://login.microsoftonline.com/<tenant> */
  authority: string;
  metadataUrl: string;
  /** Graph v1.0 base URL: the cloud's, or the explicit authority's origin. */
  graphUrl: string;
  /** Fetch the person's photo from Graph at sign-in. */
  loadPhoto: boolean;
  domainHint?: string;
  timeoutMs: number;
}

/**
 * Reads and validates an environment's config. Every problem names the key
 * and what to change, and fails startup rather than the first sign-in.
 */
export function readEntraProviderConfig(
  config: Config,
  options: {
    /** The config key of this block, for error messages. */
    key?: string;
    /** Where credential rotations are logged. */
    logger?: CredentialLogger;
  } = {},
): EntraProviderConfig {
  const clientId = config.getString('clientId');
  const credential = readEntraAppCredential(config, {
    clientId,
    keyPrefix: options.key ?? KEY,
    logger: options.logger,
  });
  // Entra writes tenant ids in lower case (in `tid` and in issuers); an id
  // pasted in upper case must not refuse every sign-in.
  const tenantId = config.getString('tenantId').toLowerCase();
  const allowList = (
    config.getOptionalStringArray('allowedTenantIds') ?? []
  ).map(id => id.toLowerCase());

  if (MULTI_TENANT.has(tenantId)) {
    if (allowList.length === 0) {
      throw new InputError(
        `${KEY}.tenantId is '${tenantId}', which would admit people from any Entra tenant. ` +
          `Set tenantId to your tenant's id (a GUID), or list the tenants to admit in ${KEY}.allowedTenantIds.`,
      );
    }
  } else if (!GUID.test(tenantId)) {
    throw new InputError(
      `${KEY}.tenantId must be the directory (tenant) id, a GUID; got '${tenantId}'. ` +
        'Find it on the Entra admin center under Overview.',
    );
  }
  for (const id of allowList) {
    if (!GUID.test(id)) {
      throw new InputError(
        `${KEY}.allowedTenantIds must hold tenant ids (GUIDs); got '${id}'.`,
      );
    }
  }

  const cloud = resolveCloud(config.getOptionalString('cloud'), `${KEY}.cloud`);
  const explicit = config.getOptionalString('authority')?.replace(/\/+$/, '');
  if (explicit && !/^https:\/\//.test(explicit)) {
    throw new InputError(
      `${KEY}.authority must be an https URL such as https://localhost:8401/<tenant id>; got '${explicit}'.`,
    );
  }
  const authority = explicit ?? `${cloud.loginHost}/${tenantId}`;

  return {
    clientId,
    credential,
    tenantId,
    allowedTenantIds: new Set(
      MULTI_TENANT.has(tenantId) ? allowList : [tenantId],
    ),
    authority,
    metadataUrl: `${authority}/v2.0/.well-known/openid-configuration`,
    // The emulator serves Graph on the origin of its authority.
    graphUrl: `${explicit ? new URL(explicit).origin : cloud.graphUrl}/v1.0`,
    loadPhoto: config.getOptionalBoolean('loadPhoto') ?? true,
    domainHint: config.getOptionalString('domainHint'),
    timeoutMs: (config.getOptionalNumber('timeout') ?? 10) * 1000,
  };
}
