/**
 * The MCP server's guard for agents: live grant on every call, audit per tool call.
 *
 * @packageDocumentation
 */
export { mcpActionsModuleAgentGuard as default } from './module';
export {
  DELEGATION_SECRETS,
  EXECUTE_TEMPLATE_TOOL,
  rewriteDelegationSecrets,
} from './guard';
