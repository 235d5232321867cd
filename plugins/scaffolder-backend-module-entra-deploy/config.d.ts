export interface Config {
  scaffolder?: {
    /**
     * Deploys that carry the initiator's Entra identity (the `entra:deploy`
     * and `azure-devops:pipeline:run` actions). The portal's own app
     * registration (client id, secret, tenant, cloud or authority) is read
     * from `auth.providers.microsoft.<authEnvironment>`, so sign-in and the
     * on-behalf-of exchange always use the same app and tenant.
     */
    entraDeploy?: {
      /**
       * Which `auth.providers.microsoft.<environment>` holds the portal's
       * app registration. Default: `auth.environment`, else `development`.
       */
      authEnvironment?: string;
      /**
       * Deploy targets of `entra:deploy`, one per environment name. The
       * permission policy (`permission.ownershipPolicy.scaffolder.deploy`)
       * decides who may deploy to each; an environment listed here but not
       * there is refused by the policy.
       */
      environments?: Array<{
        /** The environment name as templates pass it, e.g. `staging`. */
        name: string;
        /** The deploy target's endpoint, an https URL (http only on localhost). */
        url: string;
        /** HTTP method of the call. Default `POST`. */
        method?: 'POST' | 'PUT' | 'PATCH';
        /**
         * The delegated scope to exchange the person's token for, e.g.
         * `api://<deploy api client id>/deploy`. The portal app must have
         * this delegated permission with admin consent.
         */
        scope: string;
        /** Seconds to wait for the target's answer. Default 30. */
        timeout?: number;
      }>;
      /** `azure-devops:pipeline:run`. */
      azureDevOps?: {
        /**
         * Azure DevOps' base URL, organisations below it. Default
         * `https://dev.azure.com`; Azure DevOps Server:
         * `https://<server>/<collection path>` (e.g. `https://ado.example.com/tfs`).
         */
        host?: string;
        /**
         * The scope exchanged for. Default
         * `499b84ac-1321-427f-aa17-267ca6975798/.default` (Azure DevOps).
         */
        scope?: string;
        /** Seconds between reads of a run while waiting for it. Default 5. */
        pollInterval?: number;
        /** Minutes to wait for a run when asked to wait. Default 30. */
        waitTimeout?: number;
      };
    };
  };
}
