export interface Config {
  /** AI agents (MCP clients) acting for people (docs/automation-identity.md). */
  agentAccess?: {
    /**
     * How long a person's approval of an agent lasts before they must approve
     * it again; shown on My access. Keep it at most
     * `auth.experimentalRefreshToken.maxRotationLifetime`. Default 7 days.
     */
    grantLifetime?:
      | string
      | {
          years?: number;
          months?: number;
          weeks?: number;
          days?: number;
          hours?: number;
          minutes?: number;
          seconds?: number;
        };
    /**
     * "Deploy as me": on consent the person may also let the agent deploy as
     * them; the portal then keeps an encrypted Entra refresh token for its own
     * API, per grant, until the grant is revoked or expires.
     */
    delegation?: {
      /** The consent page offers "deploy as me" when true. */
      enabled?: boolean;
      /** Default `api://<portal client id>/access_as_user`. */
      scope?: string;
      /**
       * Entra's redirect after the person signs in; register it on the portal
       * app. Default `<backend.baseUrl>/api/auth/agent-access/v1/delegations/callback`.
       */
      callbackUrl?: string;
    };
    /**
     * AES-256-GCM keys for stored delegations; the first encrypts, all
     * decrypt (rotation: prepend a new key, drop the old after a grant
     * lifetime). Required when delegation is enabled.
     */
    encryptionKeys?: Array<{
      id: string;
      /** @visibility secret */
      secret: string;
    }>;
  };
}
