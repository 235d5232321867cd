/**
 * Helpers for tests that run against the emulator: start one on free ports
 * (trusting its CA in-process), walk the login page as a browser would,
 * drive its admin routes (accounts, faults) and record where connections went.
 *
 * @packageDocumentation
 */
export { startTestEmulator, trustCa, recordConnections } from './testEmulator';
export { signInThroughBrowser, parseLoginForm } from './browser';
export { EmulatorAdminClient } from './adminClient';
export type { AccountState, FederatedCredentialInfo } from './adminClient';
export {
  decodeJwt,
  delegatedToken,
  graphAppToken,
  obtainCode,
  postToken,
  redeem,
} from './tokens';
export { pipelineApp, pipelineAppToken } from './pipelines';
export type { PipelineKey } from './pipelines';
