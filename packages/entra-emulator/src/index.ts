/**
 * Offline Microsoft Entra ID and Microsoft Graph for development, tests and CI.
 *
 * @packageDocumentation
 */
export { createEntraEmulator, DEFAULT_DATA_DIR } from './emulator';
export type { EntraEmulator, EntraEmulatorOptions } from './emulator';
export type {
  DeployCall,
  PipelineRun,
  EmulatorSeed,
  FaultRule,
  GraphRequest,
  ClientAuthMethod,
  LoadedSeed,
  LoadedSeedApp,
  SeedApp,
  SeedCertificate,
  SeedClientSecret,
  SeedFederatedIdentityCredential,
  SeedGroup,
  SeedGroupRule,
  SeedOtherTenant,
  SeedTenantInfo,
  SeedPermission,
  SeedScope,
  SeedUser,
  TokenRequest,
} from './types';
export { loadSeed, DEFAULT_SEED_PATH } from './seed/loadSeed';
export { generateTenant } from './seed/generateTenant';
export type { GenerateTenantOptions } from './seed/generateTenant';
export { EMULATOR_MARKER } from './oidc/router';
export { createSelfSignedCertificate } from './credentials/certificates';
export type { SelfSignedCertificate } from './credentials/certificates';
export { DEFAULT_FEDERATED_AUDIENCE } from './credentials/appCredentials';
export { startWorkloadIdentityIssuer } from './workloadIdentity/issuer';
export type { WorkloadIdentityIssuer } from './workloadIdentity/issuer';
