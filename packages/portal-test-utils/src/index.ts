/**
 * Pieces the backend plugins' integration tests share: signing a seeded
 * person in through the Entra emulator as the browser does, the emulator's
 * `auth.providers.microsoft` config block, a catalog provider module with a
 * fixed set of entities, an MCP client call, and the audit trail with a
 * reader for what it stored.
 *
 * @packageDocumentation
 */
export {
  cookieHeader,
  emulatorAuthConfig,
  readPopupResponse,
  signIn,
  signInPopup,
} from './signIn';
export type { SignedIn, SignInPopup, SignInTamper } from './signIn';
export { fixedEntityProvider } from './fixedEntityProvider';
export type {
  ApplyEntities,
  FixedEntityProviderOptions,
} from './fixedEntityProvider';
export { callMcpTool } from './mcp';
export {
  approveAs,
  connectAgent,
  HeadlessOAuthProvider,
  startAgentClientHost,
} from './mcpOAuthClient';
export type {
  AgentClientHost,
  ApproveSession,
  ConnectedAgent,
} from './mcpOAuthClient';
export {
  AUDIT_READER_TOKEN,
  auditTrail,
  capturingRootLogger,
  settledAuditEvents,
} from './audit';
