/**
 * Microsoft Entra ID sign-in for Backstage, identity keyed on oid + tid.
 *
 * @packageDocumentation
 */
export { authModuleEntraProvider as default } from './module';
export { createEntraAuthenticator } from './authenticator';
export type { EntraAuthResult, EntraIdTokenClaims } from './authenticator';
export {
  entraSignInResolvers,
  ENTRA_USER_ID_ANNOTATION,
  ENTRA_TENANT_ID_ANNOTATION,
} from './resolvers';
export { readEntraProviderConfig } from './providerConfig';
export type { EntraProviderConfig } from './providerConfig';
export {
  NestedGroupOwnershipResolver,
  MAX_GROUP_NESTING,
  ENTRA_ACCOUNT_ENABLED_ANNOTATION,
  isDisabledUser,
} from './ownership';
export {
  logRequestsWithoutOAuthSecrets,
  redactOAuthSecrets,
  OAUTH_SECRET_PARAMS,
} from './requestLog';
