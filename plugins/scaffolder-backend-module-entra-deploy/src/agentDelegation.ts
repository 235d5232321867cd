import {
  AuthService,
  BackstageCredentials,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError, ServiceUnavailableError } from '@backstage/errors';

/**
 * How a task an MCP agent started carries the person's delegation: the
 * portal's MCP guard puts a signed handle of the agent's grant (never a
 * token) in `entraDelegatedToken`, with this prefix; agents cannot set it.
 */
export const AGENT_HANDLE_PREFIX = 'agent-grant:';

/** A delegated token the auth plugin obtained for an agent's deploy. */
export interface AgentDelegatedToken {
  accessToken: string;
  clientId: string;
  grantId: string;
}

/**
 * Asks the auth plugin's agent-access module, on behalf of the task's
 * initiator, for a fresh delegated token for the portal API under the
 * agent's grant. The module checks the handle, that it is the initiator's,
 * and that the grant is live; its refusal message is the person's.
 */
export function createAgentDelegationClient(options: {
  auth: AuthService;
  discovery: DiscoveryService;
}) {
  return async (
    handle: string,
    initiator: BackstageCredentials,
  ): Promise<AgentDelegatedToken> => {
    const [{ token }, base] = await Promise.all([
      options.auth.getPluginRequestToken({
        onBehalfOf: initiator,
        targetPluginId: 'auth',
      }),
      options.discovery.getBaseUrl('auth'),
    ]);
    let res: Response;
    try {
      res = await fetch(`${base}/agent-access/v1/delegations/token`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ handle }),
      });
    } catch (e) {
      throw new ServiceUnavailableError(
        `The agent's delegation could not be checked: ${(e as Error).name}.`,
      );
    }
    const body = await res.json().catch(() => undefined);
    if (res.status === 403 || res.status === 401) {
      const message = String(body?.error?.message ?? '').slice(0, 300);
      throw new NotAllowedError(
        `The agent may not deploy as you: ${
          message || 'its delegation was refused.'
        }`,
      );
    }
    if (!res.ok || typeof body?.accessToken !== 'string') {
      throw new ServiceUnavailableError(
        `The agent's delegation could not be used (HTTP ${res.status}); try again.`,
      );
    }
    return body;
  };
}

export type AgentDelegationClient = ReturnType<
  typeof createAgentDelegationClient
>;
