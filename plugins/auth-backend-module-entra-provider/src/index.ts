/**
 * Microsoft Entra ID sign-in for Backstage, identity keyed on oid + tid.
 *
 * @packageDocumentation
 */
export { authModuleEntraProvider as default } from './module';
export { entraAuthenticator } from './authenticator';
export type { EntraAuthResult, EntraIdTokenClaims } from './authenticator';
export { entraSignInResolvers, ENTRA_USER_ID_ANNOTATION } from './resolvers';
export { NestedGroupOwnershipResolver, MAX_GROUP_NESTING } from './ownership';
export {
  logRequestsWithoutOAuthSecrets,
  redactOAuthSecrets,
  OAUTH_SECRET_PARAMS,
} from './requestLog';
