export interface Config {
  catalog?: {
    providers?: {
      /**
       * The upstream msgraph provider keys (target, tenantId, clientId,
       * clientSecret, authority, user, group, schedule, ...) apply unchanged;
       * these are the settings this module adds.
       */
      microsoftGraphOrg?: {
        [id: string]: {
          /**
           * Whether B2B guests (`userType: Guest`) become catalog users, and
           * so can sign in. Default `exclude`.
           */
          guests?: 'include' | 'exclude';
          deletionGuard?: {
            /**
             * Share (0–1) of the users, the groups or the memberships
             * (group members and nested groups) the last applied run
             * ingested that one run may remove. A run removing more is
             * refused and the catalog kept; an admin can allow one run past
             * it. Default 0.2.
             */
            maxDeletionShare?: number;
          };
        };
      };
    };
  };
}
