export interface Config {
  auth?: {
    providers?: {
      /**
       * Pipelines sign in with their Microsoft Entra app token (client
       * credentials for `api://<portal client id>/.default`): POST or GET
       * `/api/auth/entra-app/refresh` with `Authorization: Bearer <token>`, or
       * call any API with it directly (docs/automation-identity.md). Tenant,
       * cloud and authority come from `auth.providers.microsoft.<environment>`.
       * The provider is on only while this block exists.
       */
      'entra-app'?: {
        /**
         * Audiences (`aud`) a pipeline's token may name: the portal's API.
         * Default `api://<portal client id>` and `<portal client id>` (Entra
         * writes the latter in v1 tokens and for `accessTokenAcceptedVersion: 2`).
         */
        audiences?: string[];
        /**
         * Require `idtyp: app` in the token. Entra sends `idtyp` only when
         * the portal's app registration lists it as an optional claim of
         * access tokens; with `false`, a token without `idtyp` counts as
         * app-only when it has no `scp` and `oid` equals `sub`. Default true.
         */
        requireIdtyp?: boolean;
        /**
         * App roles (values of the token's `roles` claim) mapped to the
         * group whose rights they grant, e.g.
         * `{ Portal.Registrar: group:default/catalog-registrars }`. The group
         * counts for the caller only while a token carrying the role is live.
         */
        roleGroups?: { [roleValue: string]: string };
      };
    };
  };
}
