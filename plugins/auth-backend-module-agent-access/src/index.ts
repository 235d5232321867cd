/**
 * AI agents (MCP clients) act for a person: grants per (person, client),
 * listed and revoked by the person, checked by the MCP guard on every call.
 *
 * @packageDocumentation
 */
export { authModuleAgentAccess as default } from './module';
export { AgentGrantStore } from './grants';
export type { AgentGrant } from './grants';
