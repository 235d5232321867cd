import { useCallback, useEffect, useState } from 'react';
import { InfoCard, WarningPanel } from '@backstage/core-components';
import {
  discoveryApiRef,
  fetchApiRef,
  useApi,
} from '@backstage/core-plugin-api';
import Button from '@material-ui/core/Button';
import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import ListItemSecondaryAction from '@material-ui/core/ListItemSecondaryAction';
import ListItemText from '@material-ui/core/ListItemText';
import Typography from '@material-ui/core/Typography';

/** A grant as `GET /api/auth/agent-access/v1/grants` lists it. */
interface AgentGrant {
  id: string;
  clientId: string;
  clientName: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt?: string;
}

const date = (iso?: string) => (iso ? new Date(iso).toLocaleString() : '—');

const hostOf = (clientId: string) => {
  try {
    return new URL(clientId).host;
  } catch {
    return clientId;
  }
};

/** Why a call to the agent-access routes failed, from Backstage's error body. */
async function failure(res: Response, what: string): Promise<Error> {
  const body = await res.json().catch(() => undefined);
  return new Error(
    `${what} failed (${res.status}): ${body?.error?.message ?? res.statusText}`,
  );
}

/**
 * The AI agents (MCP clients) the person let act for them, with Revoke:
 * a revoked agent's next call is refused, and it cannot refresh.
 */
export function AgentGrantsCard() {
  const discovery = useApi(discoveryApiRef);
  const { fetch } = useApi(fetchApiRef);
  const [grants, setGrants] = useState<AgentGrant[]>();
  const [error, setError] = useState<Error>();
  const [revoking, setRevoking] = useState<string>();

  const base = useCallback(
    async () => `${await discovery.getBaseUrl('auth')}/agent-access/v1`,
    [discovery],
  );
  const load = useCallback(async () => {
    const res = await fetch(`${await base()}/grants`);
    if (!res.ok) throw await failure(res, 'Listing your agents');
    setGrants((await res.json()).items);
  }, [base, fetch]);

  useEffect(() => {
    load().catch(setError);
  }, [load]);

  const revoke = async (grant: AgentGrant) => {
    setRevoking(grant.id);
    setError(undefined);
    try {
      const res = await fetch(
        `${await base()}/grants/${encodeURIComponent(grant.id)}`,
        { method: 'DELETE' },
      );
      if (!res.ok) throw await failure(res, `Revoking ${grant.clientName}`);
      await load();
    } catch (e) {
      setError(e as Error);
    } finally {
      setRevoking(undefined);
    }
  };

  return (
    <InfoCard title="Agents acting for me">
      {error && <WarningPanel title={error.message} />}
      {grants && grants.length === 0 && (
        <Typography>
          No agent may act for you. An agent (MCP client) you approve appears
          here; it can do what you may do, until you revoke it.
        </Typography>
      )}
      {grants && grants.length > 0 && (
        <List dense aria-label="Agents acting for me">
          {grants.map(g => (
            <ListItem key={g.id}>
              <ListItemText
                primary={`${g.clientName} (${hostOf(g.clientId)})`}
                secondary={`Approved ${date(g.createdAt)} · last used ${date(
                  g.lastUsedAt,
                )} · expires ${date(g.expiresAt)}`}
              />
              <ListItemSecondaryAction>
                <Button
                  color="secondary"
                  disabled={revoking === g.id}
                  aria-label={`Revoke ${g.clientName}`}
                  onClick={() => revoke(g)}
                >
                  Revoke
                </Button>
              </ListItemSecondaryAction>
            </ListItem>
          ))}
        </List>
      )}
    </InfoCard>
  );
}
