export interface Config {
  auth?: {
    providers?: {
      /**
       * Microsoft Entra ID sign-in (this repo's entra provider module).
       * Keys are compatible with the upstream microsoft provider, plus the
       * cloud, an explicit authority and a tenant allow-list.
       * Keyed by auth environment (`auth.environment`, e.g. development).
       */
      microsoft?: {
        [authEnv: string]: {
          /** Application (client) id of the portal's app registration. */
          clientId: string;
          /**
           * Client secret of the portal's app registration. The app's
           * credential is exactly one of `clientSecret`, `clientSecretFile`,
           * `clientCertificatePath` or `federatedTokenFile`
           * (docs/entra-setup.md, "Credentials without a secret").
           * @visibility secret
           */
          clientSecret?: string;
          /**
           * Path of a file holding the client secret, e.g. a mounted
           * Kubernetes Secret. Re-read when the file changes.
           */
          clientSecretFile?: string;
          /**
           * Path of a PEM file with the private key (RSA, unencrypted) and
           * the certificate registered on the app, the format of
           * `@azure/identity`'s `certificatePath`. Each token request is
           * authenticated with an assertion signed by that key; the file is
           * re-read when it changes (rotation without restart).
           */
          clientCertificatePath?: string;
          /**
           * Send the certificate chain (`x5c`) with each assertion, for
           * subject name and issuer authentication. Default false.
           */
          clientCertificateSendX5c?: boolean;
          /**
           * Path of a federated workload identity token, e.g. the projected
           * service-account token of AKS workload identity
           * (`AZURE_FEDERATED_TOKEN_FILE`). Entra trusts it through a
           * federated identity credential on the app; the file is read on
           * every token request, so its refresh needs nothing.
           */
          federatedTokenFile?: string;
          /**
           * The audience the federated token must carry. Default
           * `api://AzureADTokenExchange`, Entra's default.
           */
          federatedTokenAudience?: string;
          /**
           * Directory (tenant) id: a GUID. `common` and `organizations` are
           * refused unless `allowedTenantIds` lists the tenants to admit.
           */
          tenantId: string;
          /**
           * Tenants whose people may sign in when `tenantId` is `common` or
           * `organizations`. The token's `tid` must be one of them, and its
           * `iss` that tenant's issuer (`https://<sign-in host>/<tid>/v2.0`).
           */
          allowedTenantIds?: string[];
          /**
           * Microsoft cloud: `public` (default), `usgov` or `china`. Selects
           * the sign-in host and the Graph URL together.
           */
          cloud?: 'public' | 'usgov' | 'china';
          /**
           * Explicit authority, e.g. the Entra emulator's
           * `https://localhost:8401/<tenant id>`. Overrides the cloud's
           * sign-in host. Production configuration refuses the emulator.
           */
          authority?: string;
          /** Preselects the organisation on Entra's sign-in page. */
          domainHint?: string;
          /** Scopes requested on top of `openid profile email offline_access`. */
          additionalScopes?: string | string[];
          /** Overrides the callback URL registered with Entra. */
          callbackUrl?: string;
          /** Lifetime of the Backstage session, e.g. `{ hours: 12 }`. */
          sessionDuration?: { [unit: string]: number } | string;
          /**
           * Show the person's Entra photo, read from Graph (`/me/photos`)
           * with the sign-in's own User.Read token. Default true.
           */
          loadPhoto?: boolean;
          /** Seconds to wait for Entra's endpoints (default 10). */
          timeout?: number;
          signIn?: {
            resolvers: Array<
              | { resolver: 'userIdMatchingUserEntityAnnotation' }
              | {
                  resolver: 'verifiedEmailMatchingUserEntityProfileEmail';
                  /** Email domains that may be matched, e.g. contoso.com */
                  allowedDomains: string[];
                }
            >;
          };
        };
      };
    };
  };
}
