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
  };
}
