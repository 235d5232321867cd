/**
 * Pipelines call the portal with their Microsoft Entra app token (provider
 * id `entra-app`), judged by the ownership policy as their catalog entity.
 *
 * @packageDocumentation
 */
export { authModuleEntraAppProvider as default } from './module';
export { acceptEntraAppTokens } from './middleware';
export type { AcceptEntraAppTokensOptions } from './middleware';
export {
  CONFIG_KEY as ENTRA_APP_CONFIG_KEY,
  readEntraAppConfig,
  readRoleGroups,
} from './config';
export type { EntraAppConfig } from './config';
export { SERVICE_PRINCIPAL_ID_ANNOTATION, APP_ID_ANNOTATION } from './resolver';
export type { VerifiedApp, Refusal, RefusedCheck } from './verifyAppToken';
export type { EntraAppProviderInfo } from './authenticator';
