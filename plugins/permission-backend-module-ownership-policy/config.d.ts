export interface Config {
  permission?: {
    /**
     * The portal's permission policy
     * (plugins/permission-backend-module-ownership-policy, docs/permissions.md).
     * Group refs are catalog Group entity refs of Entra groups, e.g.
     * `group:default/platform-admins`; a person's groups include nested
     * groups. Anything the policy does not name is denied and logged.
     */
    ownershipPolicy?: {
      /**
       * Groups whose members may do everything. Required, at least one.
       */
      admins: string[];

      /**
       * How long the policy reuses what the catalog says about a signed-in
       * person (whether their User still exists and is not marked disabled,
       * and their groups, nested included) before reading it again. A person
       * disabled or removed in Entra, or removed from a group, loses what that
       * gave them within the org ingestion interval plus this, existing
       * sessions included. A duration such as `30s`, `PT1M` or
       * `{ seconds: 30 }`; `0s` reads the catalog for every decision.
       * Default 30 seconds.
       */
      identityCacheTtl?:
        | string
        | {
            milliseconds?: number;
            seconds?: number;
            minutes?: number;
            hours?: number;
          };

      catalog?: {
        /**
         * Entity kinds (e.g. `Resource`) that only their owners (and admins)
         * may read. Everyone signed in reads every other kind. Default: none.
         */
        restrictReadToOwners?: {
          kinds: string[];
        };
        /**
         * Groups whose members may register locations and entities
         * (`catalog.location.create`, `catalog.entity.create`,
         * `catalog.location.analyze`), besides admins. Omitted or empty:
         * admins only. Registering brings entities into everyone's catalog,
         * so name the groups you trust with that.
         */
        registerGroups?: string[];
      };

      scaffolder?: {
        /**
         * Template parameters and steps tagged with
         * `backstage:permissions: { tags: [...] }` are visible (and steps run)
         * only for members of the groups of every listed tag they carry.
         */
        tags?: Array<{
          /** The tag, as written in the template. */
          tag: string;
          /** Groups that may see and run items with this tag. */
          groups: string[];
        }>;
        /**
         * Templates only some groups (and admins) may run, e.g.
         * `template:default/create-production-database`. Everyone signed in
         * still sees them (catalog, template list, form); running one is
         * refused with a 403 naming its groups (`scaffolder.template.run`,
         * asked by plugins/scaffolder-backend-module-template-run-guard).
         * Every other template may be run by everyone signed in.
         */
        templates?: Array<{
          /** Template entity ref. */
          template: string;
          /** Groups that may run it. */
          groups: string[];
        }>;
        /**
         * Groups that may dry-run templates (the template editor).
         * Default: admins only.
         */
        dryRunGroups?: string[];
        /**
         * Deploy actions: who may deploy to which environment. Deploy steps
         * whose environment is not listed are refused.
         */
        deploy?: {
          /** Scaffolder action ids that deploy, e.g. `entra:deploy`. */
          actions: string[];
          /** Action input naming the environment. Default `environment`. */
          environmentInput?: string;
          /**
           * Action input naming the deployed catalog entity as a full
           * lowercase ref (`component:default/payments-api`). Default
           * `component`.
           */
          targetInput?: string;
          environments: Array<{
            /** Environment name as the action input carries it. */
            name: string;
            /**
             * Groups that may deploy to it. Omitted: the owners of the
             * deployed entity (directly or through a nested group).
             */
            groups?: string[];
          }>;
        };
      };
    };
  };
}
