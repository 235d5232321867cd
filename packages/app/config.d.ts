export interface Config {
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
}
