/**
 * The portal's Entra app credential: a client secret, a secret file, a
 * certificate or a federated workload identity token, read from config,
 * followed through file rotation, and handed to openid-client (sign-in),
 * `@azure/identity` (Graph) and `@azure/msal-node` (on-behalf-of).
 *
 * @packageDocumentation
 */
export { readEntraAppCredential, CREDENTIAL_KEYS } from './readCredential';
export type {
  CredentialKey,
  ReadEntraAppCredentialOptions,
} from './readCredential';
export { describeCredentialText } from './credential';
export type {
  AzureIdentityOptions,
  EntraAppCredential,
  EntraCredentialDescription,
  EntraCredentialKind,
  MsalCredentialAuth,
} from './credential';
export { parseClientCertificate } from './certificate';
export type { ClientCertificate } from './certificate';
export {
  parseFederatedToken,
  DEFAULT_FEDERATED_AUDIENCE,
} from './federatedToken';
export type { FederatedToken } from './federatedToken';
export type { CredentialLogger } from './watchedFile';
