import { AuthenticationError } from '@backstage/errors';
import { Client, Issuer, TokenSet } from 'openid-client';
import { EntraProviderConfig } from './providerConfig';
import { refusal } from './signInAudit';

/** What `/common` and `/organizations` discovery announce in place of a tenant. */
const TENANT_PLACEHOLDER = '{tenantid}';

/** Refuses a token whose tenant this environment does not admit. */
export function refuseUnlessAdmitted(
  tid: unknown,
  config: EntraProviderConfig,
): asserts tid is string {
  if (typeof tid === 'string' && config.allowedTenantIds.has(tid)) return;
  const multiTenant = !config.allowedTenantIds.has(config.tenantId);
  throw refusal(
    'tenant-not-admitted',
    new AuthenticationError(
      `Sign-in refused: the account belongs to tenant ${
        typeof tid === 'string' && tid ? tid : '(none)'
      }, which this portal does not admit.${
        multiTenant
          ? ' Sign in with an account of an admitted organisation, or ask a portal admin to add the tenant to ' +
            'auth.providers.microsoft.<environment>.allowedTenantIds.'
          : ''
      }`,
    ),
  );
}

/**
 * Verifies ID tokens of a multi-tenant authority against the issuer of the
 * tenant each token names.
 *
 * Why: `/common` and `/organizations` discovery announces the issuer as a
 * template, `https://<host>/{tenantid}/v2.0`, while every token's `iss` is
 * the person's own tenant. openid-client 5 fills the template in only when
 * the discovery URL is one of login.microsoftonline.com's own; for the US
 * Government and China clouds and the emulator it compares `iss` with the
 * literal template and refuses every sign-in ("unexpected iss value"). So
 * the tokens are exchanged first, the token's still unverified `tid` only
 * chooses the issuer, after it is checked against `allowedTenantIds` (a
 * GUID, so nothing else can enter the issuer), and openid-client then
 * verifies the ID token as it verifies any: signature with the authority's
 * keys, RS256, audience, expiry, nonce, and `iss` pinned to that tenant, so
 * a token whose `tid` and `iss` disagree is refused.
 */
export class TenantIssuers {
  private readonly clients = new Map<string, Client>();

  /** Undefined unless the discovered issuer is Entra's multi-tenant template. */
  static of(
    issuer: Issuer<Client>,
    config: EntraProviderConfig,
    newClient: (issuer: Issuer<Client>) => Client,
  ): TenantIssuers | undefined {
    return issuer.metadata.issuer.includes(TENANT_PLACEHOLDER)
      ? new TenantIssuers(issuer, config, newClient)
      : undefined;
  }

  private constructor(
    private readonly template: Issuer<Client>,
    private readonly config: EntraProviderConfig,
    private readonly newClient: (issuer: Issuer<Client>) => Client,
  ) {}

  /**
   * Verifies the ID token of tokens the authority returned; `nonce` is the
   * sign-in's, undefined on refresh (which, as openid-client's own
   * `refresh()`, has no nonce to compare).
   */
  async verify(tokenset: TokenSet, nonce: string | undefined) {
    if (!tokenset.id_token) {
      throw refusal(
        'token-invalid',
        new AuthenticationError('Microsoft Entra ID returned no ID token'),
      );
    }
    let unverified: Record<string, unknown>;
    try {
      unverified = tokenset.claims();
    } catch {
      throw refusal(
        'token-invalid',
        new AuthenticationError(
          'Sign-in with Microsoft Entra ID failed: the ID token is not a JWT',
        ),
      );
    }
    refuseUnlessAdmitted(unverified.tid, this.config);
    // The ID token alone, as an authorization response would carry it:
    // callback() then runs openid-client's ID token checks and nothing else.
    await this.clientOf(unverified.tid).callback(
      undefined,
      { id_token: tokenset.id_token },
      { nonce: nonce ?? (unverified.nonce as string | undefined) },
    );
    return tokenset;
  }

  private clientOf(tid: string): Client {
    let client = this.clients.get(tid);
    if (!client) {
      client = this.newClient(
        new Issuer({
          ...this.template.metadata,
          issuer: this.template.metadata.issuer.replace(
            TENANT_PLACEHOLDER,
            tid,
          ),
        }),
      );
      this.clients.set(tid, client);
    }
    return client;
  }
}
