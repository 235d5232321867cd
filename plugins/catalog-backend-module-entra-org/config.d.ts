import { HumanDuration } from '@backstage/types';

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
           * The portal app's credential is exactly one of upstream's
           * `clientSecret` or these three (docs/entra-setup.md, "Credentials
           * without a secret"); files are re-read when they change.
           *
           * Path of a file holding the client secret (a mounted Secret).
           */
          clientSecretFile?: string;
          /**
           * Path of a PEM file with the private key (RSA, unencrypted) and
           * the certificate registered on the app.
           */
          clientCertificatePath?: string;
          /** Send the certificate chain (`x5c`) with each assertion. Default false. */
          clientCertificateSendX5c?: boolean;
          /**
           * Path of a federated workload identity token (e.g. AKS's
           * projected service-account token, `AZURE_FEDERATED_TOKEN_FILE`).
           */
          federatedTokenFile?: string;
          /** Audience the federated token must carry. Default `api://AzureADTokenExchange`. */
          federatedTokenAudience?: string;
          /**
           * Whether B2B guests (`userType: Guest`) become catalog users, and
           * so can sign in. Default `exclude`.
           */
          guests?: 'include' | 'exclude';
          /**
           * Delta ingestion: between full rounds, Graph's `/users/delta`
           * and `/groups/delta` are polled and only what changed is applied
           * to the catalog. The provider's `schedule.frequency` then sets
           * how often the whole organisation is read anyway (the
           * reconciliation; daily is enough). Delta is off, with a warning,
           * when user/group filters, searches, expands, paths or
           * userGroupMember settings are set: Graph's delta cannot apply
           * them.
           */
          delta?: {
            /** Whether to poll delta queries between full rounds. Default true. */
            enabled?: boolean;
            /**
             * How often to poll, e.g. `{ seconds: 30 }` (the default) or an
             * ISO duration (`PT30S`); at least one second. Each quiet poll
             * costs three Graph requests (two with service principals off).
             */
            frequency?: HumanDuration | string;
          };
          /**
           * Service principals (pipelines, agents' apps) that are direct
           * members of ingested groups become User entities labelled
           * `entra.microsoft.com/principal-type: service-principal`, with
           * `graph.microsoft.com/service-principal-id` and
           * `graph.microsoft.com/app-id` and never
           * `graph.microsoft.com/user-id`, so no one can sign in as one.
           * Needs the Application.Read.All application permission (without
           * it Graph sends such members without their app id).
           */
          servicePrincipals?: {
            /** Whether to ingest them. Default true. */
            enabled?: boolean;
            /**
             * `servicePrincipalType` values to ingest. Default
             * `[Application, ManagedIdentity]`.
             */
            types?: string[];
          };
          deletionGuard?: {
            /**
             * Share (0–1) of the users, the groups or the memberships
             * (group members and nested groups) the last applied run
             * ingested that one run may remove. A run removing more is
             * refused and the catalog kept; an admin can allow one run past
             * it. Delta polls are held to the sum of what they removed since
             * the last full round. Service principals are guarded on their
             * own, and a run may always remove up to 5 of them. Default 0.2.
             */
            maxDeletionShare?: number;
          };
        };
      };
    };
  };
}
