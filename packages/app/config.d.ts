export interface Config {
  auth?: {
    providers?: {
      microsoft?: {
        [authEnvironment: string]: {
          /**
           * The portal's Entra client id (declared in full by
           * plugins/auth-backend-module-entra-provider). The
           * `entra-delegated-token` form decorator asks for
           * `api://<client id>/access_as_user`, the audience the deploy
           * actions check; a client id is public (it is in every sign-in URL).
           * @visibility frontend
           */
          clientId: string;
        };
      };
    };
  };
  permission?: {
    /**
     * The parts of the ownership policy (declared in full by
     * plugins/permission-backend-module-ownership-policy) the app explains
     * its decisions with: "My access" and disabled actions name who may.
     */
    ownershipPolicy?: {
      /** @visibility frontend */
      admins: string[];
      catalog?: {
        /** @visibility frontend */
        registerGroups?: string[];
      };
      scaffolder?: {
        deploy?: {
          environments: Array<{
            /** @visibility frontend */
            name: string;
            /** @visibility frontend */
            groups?: string[];
          }>;
        };
      };
    };
  };
  agentAccess?: {
    /**
     * Declared in full by plugins/auth-backend-module-agent-access; the
     * consent page offers "also let this agent deploy as me" when on.
     */
    delegation?: {
      /** @visibility frontend */
      enabled?: boolean;
    };
  };
}
