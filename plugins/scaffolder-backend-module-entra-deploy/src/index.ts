/**
 * Scaffolder deploy actions that carry the initiator's Entra identity.
 *
 * @packageDocumentation
 */
export { scaffolderModuleEntraDeploy as default } from './module';
export { readEntraDeployConfig, CONFIG_KEY } from './config';
export type { EntraDeployConfig, DeployTarget } from './config';
export { DelegatedTokenVerifier, PORTAL_API_SCOPE } from './delegation';
export type { DelegatedIdentity } from './delegation';
export { OnBehalfOfClient } from './onBehalfOf';
export type { OnBehalfOfToken } from './onBehalfOf';
export { SignInAgainError } from './errors';
export { DELEGATED_TOKEN_SECRET } from './actions/shared';
export {
  createEntraDeployAction,
  ENTRA_DEPLOY_ACTION_ID,
} from './actions/deploy';
export {
  createAzureDevOpsPipelineRunAction,
  AZURE_DEVOPS_RUN_ACTION_ID,
} from './actions/pipelineRun';
