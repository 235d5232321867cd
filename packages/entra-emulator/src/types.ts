/** A person in the seeded directory. Field names follow Microsoft Graph's `user` resource. */
export interface SeedUser {
  /** Graph object id (the `oid` claim). A fixed GUID so ids are stable across runs. */
  id: string;
  displayName: string;
  givenName?: string;
  surname?: string;
  userPrincipalName: string;
  /** Omitted for people without a mailbox; the `email` claim is then left out too. */
  mail?: string | null;
  jobTitle?: string;
  department?: string;
  officeLocation?: string;
  mobilePhone?: string;
  businessPhones?: string[];
  preferredLanguage?: string;
  /** `Member` (default) or `Guest`. */
  userType?: 'Member' | 'Guest';
  /** Defaults to true; a disabled account cannot sign in (AADSTS50057). */
  accountEnabled?: boolean;
  /** When true the emulator serves a generated profile photo for this person. */
  photo?: boolean;
}

/** A group in the seeded directory; members reference user or group ids. */
export interface SeedGroup {
  id: string;
  displayName: string;
  description?: string;
  mailNickname?: string;
  mail?: string | null;
  securityEnabled?: boolean;
  mailEnabled?: boolean;
  /** Object ids of members (users or groups). */
  members: string[];
}

/**
 * Generates many groups from one line of YAML, so that the seed stays readable
 * while still exercising the groups-overage path (more than 200 groups).
 */
export interface SeedGroupRule {
  /** Number of groups to generate. */
  count: number;
  /** Display name prefix; groups are named `<prefix>-001`, … */
  namePrefix: string;
  /** Users that belong to every generated group. */
  members: string[];
  /** Seed for the deterministic GUIDs of the generated groups. */
  idSeed: string;
}

/** A delegated scope an application exposes (`api://<appId>/<value>`). */
export interface SeedScope {
  value: string;
  description?: string;
}

/** A permission an application was granted (admin consent is implied). */
export interface SeedPermission {
  /** `graph` or the client id of another seeded application. */
  resource: string;
  /** Delegated scopes the client may request for signed-in users. */
  delegated?: string[];
  /** Application roles that appear in client-credentials tokens' `roles`. */
  application?: string[];
}

/** An application registration. */
export interface SeedApp {
  /** Key used in the emulator API (`apps.portal`, `apps.deployApi`). */
  key: string;
  displayName: string;
  clientId: string;
  /**
   * Emulator-only secrets. Never real credentials. A string expires two
   * years after the emulator started; the object form sets the expiry.
   */
  clientSecrets?: SeedClientSecret[];
  /** Certificates whose keys may sign client assertions (private_key_jwt). */
  certificates?: SeedCertificate[];
  /** Trusted external issuers (workload identity federation). */
  federatedIdentityCredentials?: SeedFederatedIdentityCredential[];
  redirectUris?: string[];
  /** Identifier URIs; `api://<clientId>` is always accepted. */
  identifierUris?: string[];
  /** Scopes this application exposes as an API. */
  scopes?: SeedScope[];
  /** Application roles this application exposes as an API. */
  appRoles?: string[];
  permissions?: SeedPermission[];
  /** Emit the `groups` claim in tokens issued to (ID) or for (access) this app. */
  groupMembershipClaims?: boolean;
  /**
   * Who may sign in, as on Entra's app registration: `AzureADMyOrg` (the
   * default) admits the home tenant only, and the `/common` and
   * `/organizations` authorities refuse the app (AADSTS50194);
   * `AzureADMultipleOrgs` also admits people of `otherTenants`.
   */
  signInAudience?: 'AzureADMyOrg' | 'AzureADMultipleOrgs';
  /**
   * The app's service principal as a directory object: set it to make the
   * app a Graph object that groups can have as a member (a pipeline's
   * identity). Its `id` is the `oid` of the app's client-credentials tokens.
   * Without it the app still has a service principal for tokens, with an id
   * derived from its client id, but Graph does not list it.
   */
  servicePrincipal?: SeedServicePrincipal;
}

/** Graph's `servicePrincipal` properties the seed sets. */
export interface SeedServicePrincipal {
  /** Object id (the `oid` of the app's app-only tokens). A fixed GUID. */
  id: string;
  /** Defaults to true; a disabled service principal gets no tokens (AADSTS7000112). */
  accountEnabled?: boolean;
  /** `Application` (default) or `ManagedIdentity`. */
  servicePrincipalType?: 'Application' | 'ManagedIdentity';
}

/** A client secret of an application, with its expiry when not the default. */
export type SeedClientSecret =
  | string
  | { value: string; endDateTime: string; displayName?: string };

/** A certificate registered on an application (Graph's `keyCredentials`). */
export interface SeedCertificate {
  /** The X.509 certificate, PEM. Only the public part; never a private key. */
  certificatePem: string;
  displayName?: string;
}

/**
 * A federated identity credential: tokens of `issuer` about `subject`, for
 * one of `audiences`, authenticate the application without a secret.
 */
export interface SeedFederatedIdentityCredential {
  name?: string;
  /** The external issuer's `iss`, compared exactly (case-sensitive), as Entra does. */
  issuer: string;
  /** The token's `sub`, e.g. `system:serviceaccount:<namespace>:<name>`. */
  subject: string;
  /** Default `['api://AzureADTokenExchange']`. */
  audiences?: string[];
}

/** An application as loaded: secrets reduced to their values. */
export interface LoadedSeedApp extends SeedApp {
  /** The secrets' values, in seed order. */
  clientSecrets: string[];
  /** Each secret with its expiry (absent: two years after start). */
  clientSecretDetails: {
    value: string;
    endDateTime?: string;
    displayName?: string;
  }[];
}

/** A tenant's identity: its object id, name and verified domains. */
export interface SeedTenantInfo {
  id: string;
  displayName: string;
  /** Verified domains; the first is the default domain. */
  domains: string[];
}

/**
 * Another organisation whose people can sign in to the home tenant's
 * multi-tenant apps (through `/common`, `/organizations` or its own tenant
 * id). Its people get tokens with its own `iss` and `tid`; they are not in
 * the home tenant's Graph.
 */
export interface SeedOtherTenant {
  tenant: SeedTenantInfo;
  users: SeedUser[];
  /**
   * Applications registered in this tenant: they get client-credentials
   * tokens of this tenant only (`iss`/`tid` of it), signed with the
   * emulator's keys, like any Entra app.
   */
  apps?: SeedApp[];
}

/** The whole seeded tenant, as read from YAML or passed in code. */
export interface EmulatorSeed {
  /** The home tenant: where the apps are registered and what Graph serves. */
  tenant: SeedTenantInfo;
  users: SeedUser[];
  groups: SeedGroup[];
  groupRules?: SeedGroupRule[];
  apps: SeedApp[];
  /** Other organisations, for multi-tenant sign-in tests. */
  otherTenants?: SeedOtherTenant[];
}

/** A seed as the emulator loaded it (member references resolved, secrets as values). */
export interface LoadedSeed extends EmulatorSeed {
  apps: LoadedSeedApp[];
  otherTenants?: Array<
    Omit<SeedOtherTenant, 'apps'> & { apps: LoadedSeedApp[] }
  >;
}

/**
 * A fault injected into matching requests. `route` is a glob (`*` matches any
 * characters) against the request path, e.g. `/v1.0/users*` or `* /oauth2/v2.0/token`.
 */
export type FaultRule = (
  | {
      /** Delay the answer. */
      type: 'latency';
      ms: number;
    }
  | {
      /**
       * Answer 429. `retryAfter` as a number is sent as is (integer or
       * decimal seconds), `{ httpDateInSeconds }` as an HTTP-date that many
       * seconds ahead, and when omitted no Retry-After header is sent.
       */
      type: 'throttle';
      retryAfter?: number | { httpDateInSeconds: number };
    }
  | {
      /** Answer 503 Service Unavailable. */
      type: 'unavailable';
    }
  | {
      /** Destroy the TCP connection without an answer. */
      type: 'reset';
    }
  | {
      /** Fail page `page` (1-based) of a Graph collection with `status` (default 503). */
      type: 'failPage';
      page: number;
      status?: number;
    }
  | {
      /** Answer Graph collections with 200 and no items. */
      type: 'emptyDirectory';
    }
) & {
  route: string;
  /** Only for this HTTP method. */
  method?: string;
  /** Fire at most this many times, then stop matching. Unlimited by default. */
  times?: number;
};

/** A call recorded by the sample deploy API. */
export interface DeployCall {
  oid: string;
  tid: string;
  name?: string;
  preferredUsername?: string;
  /** The client that obtained the token on behalf of the user (`azp`). */
  clientId?: string;
  /** The portal's `X-Portal-Agent-Client`: the agent deploying for the person. */
  agentClientId?: string;
  scopes: string[];
  time: string;
  method: string;
  path: string;
  payload: unknown;
}

/** A pipeline run recorded by the emulated Azure DevOps. */
export interface PipelineRun {
  id: number;
  organization: string;
  project: string;
  pipelineId: number;
  /** Who ran it: the delegated token's `oid`, `tid` and `name`. */
  requestedBy: { oid: string; tid: string; name?: string };
  /** The client that obtained the token on behalf of the user (`azp`). */
  clientId?: string;
  /** The request body of `POST …/runs` (branch, templateParameters, …). */
  request: unknown;
  state: 'inProgress' | 'completed';
  result?: 'succeeded';
  createdDate: string;
  finishedDate?: string;
}

/** How a client proved who it is at the token endpoint. */
export type ClientAuthMethod = 'secret' | 'certificate' | 'federated';

/** A request the token endpoint answered (or refused), without its secrets. */
export interface TokenRequest {
  grantType: string;
  clientId?: string;
  /**
   * The client authentication the request carried: a client secret, a
   * certificate-signed assertion (private_key_jwt) or a federated token.
   * Absent when it carried none.
   */
  clientAuth?: ClientAuthMethod;
  /** The `scope` parameter as sent. */
  scope?: string;
  /** The authority's tenant segment: a tenant id, `common` or `organizations`. */
  tenant: string;
  time: string;
}

/** A request received under the Graph base path, recorded before any fault or check. */
export interface GraphRequest {
  method: string;
  /** Path under the host, query included, e.g. `/v1.0/users?$top=999`. */
  path: string;
  /** When it arrived (ISO 8601). */
  at: string;
  /** The calling application (`azp`/`appid`) when it sent a valid emulator token. */
  clientId?: string;
}
