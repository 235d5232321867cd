import { useEffect, useState } from 'react';
import { Route, Routes, useParams, useSearchParams } from 'react-router-dom';
import {
  Content,
  InfoCard,
  Progress,
  StructuredMetadataTable,
  WarningPanel,
} from '@backstage/core-components';
import {
  configApiRef,
  discoveryApiRef,
  fetchApiRef,
  identityApiRef,
  useApi,
} from '@backstage/frontend-plugin-api';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import Typography from '@material-ui/core/Typography';

/** An authorization session as upstream's `GET /v1/sessions/:id` answers. */
interface Session {
  id: string;
  clientId: string;
  clientName?: string;
  scope?: string;
  redirectUri: string;
}

interface Person {
  ref: string;
  displayName?: string;
  email?: string;
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

/**
 * The consent page for an agent (MCP client): names the person who is
 * approving and the client asking, says what the agent could then do, and
 * approves or denies through upstream's session API. Upstream's page shows
 * the client only, so a person signed in as someone else would not notice.
 */
export function AgentConsentPage(props: {
  /** Where the browser goes afterwards; the agent's redirect URI. */
  navigate?: (url: string) => void;
}) {
  const navigate =
    props.navigate ?? ((url: string) => window.location.assign(url));
  const { sessionId } = useParams();
  const discovery = useApi(discoveryApiRef);
  const { fetch } = useApi(fetchApiRef);
  const identity = useApi(identityApiRef);
  const catalog = useApi(catalogApiRef);
  const delegationEnabled =
    useApi(configApiRef).getOptionalBoolean('agentAccess.delegation.enabled') ??
    false;
  // Back from Entra with the delegation stored. Never approves by itself: a
  // link with this parameter must not connect an agent without a click.
  const [search] = useSearchParams();
  const delegated = search.get('delegation') === 'granted';
  const [deployAsMe, setDeployAsMe] = useState(false);
  const [state, setState] = useState<{
    session?: Session;
    person?: Person;
    error?: Error;
    busy?: boolean;
  }>({});

  useEffect(() => {
    (async () => {
      const base = await discovery.getBaseUrl('auth');
      const res = await fetch(
        `${base}/v1/sessions/${encodeURIComponent(sessionId ?? '')}`,
      );
      if (!res.ok) {
        throw new Error(
          `This authorization request is unknown or has expired (${res.status}). Start again from the agent.`,
        );
      }
      const session: Session = await res.json();
      const { userEntityRef } = await identity.getBackstageIdentity();
      const user = await catalog.getEntityByRef(userEntityRef);
      const profile = (user?.spec?.profile ?? {}) as {
        displayName?: string;
        email?: string;
      };
      setState({
        session,
        person: {
          ref: userEntityRef,
          displayName: profile.displayName,
          email: profile.email,
        },
      });
    })().catch(error => setState({ error }));
  }, [discovery, fetch, identity, catalog, sessionId]);

  /**
   * "Deploy as me": the person signs in at Entra for the portal's API; the
   * backend stores the delegation and sends the browser back here.
   */
  const delegate = async (session: Session) => {
    const base = await discovery.getBaseUrl('auth');
    const res = await fetch(`${base}/agent-access/v1/delegations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: session.id }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok || !body.authorizeUrl) {
      throw new Error(
        `Could not start the deploy delegation (${res.status}): ${
          body.error?.message ?? res.statusText
        }`,
      );
    }
    navigate(body.authorizeUrl);
  };

  const decide = async (action: 'approve' | 'reject') => {
    const { session } = state;
    if (!session) return;
    setState(s => ({ ...s, busy: true, error: undefined }));
    try {
      if (action === 'approve' && deployAsMe && !delegated) {
        await delegate(session);
        return;
      }
      const base = await discovery.getBaseUrl('auth');
      const res = await fetch(
        `${base}/v1/sessions/${encodeURIComponent(session.id)}/${action}`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
      );
      const body = await res.json().catch(() => ({}));
      if (!res.ok || !body.redirectUrl) {
        throw new Error(
          `Could not ${action === 'approve' ? 'approve' : 'deny'} (${
            res.status
          }): ${
            body.error_description ?? body.error?.message ?? res.statusText
          }`,
        );
      }
      navigate(body.redirectUrl);
    } catch (error) {
      setState(s => ({ ...s, busy: false, error: error as Error }));
    }
  };

  if (!state.session && state.error) {
    return (
      <Content>
        <WarningPanel title="Cannot connect this agent">
          {state.error.message}
        </WarningPanel>
      </Content>
    );
  }
  if (!state.session || !state.person) return <Progress />;
  const { session, person } = state;
  const clientName = session.clientName ?? hostOf(session.clientId);
  const personName = person.displayName ?? person.ref;
  return (
    <Content>
      <InfoCard title={`Let ${clientName} act as you?`}>
        {state.error && <WarningPanel title={state.error.message} />}
        <Typography paragraph>
          You are signed in as{' '}
          <strong>
            {personName}
            {person.email ? ` (${person.email})` : ''}
          </strong>
          . If that is not you, do not approve: sign out and sign in as
          yourself.
        </Typography>
        <StructuredMetadataTable
          options={{ titleFormat: (key: string) => key }}
          metadata={{
            Agent: clientName,
            'Agent host': hostOf(session.clientId),
            'Client id': session.clientId,
            'Acts as': `${personName} (${person.ref})`,
            'Returns to': hostOf(session.redirectUri),
            Scopes: session.scope ?? 'openid',
          }}
        />
        <Typography paragraph>
          If you approve, {clientName} can do in the portal what you may do:
          read what you may read and run the templates you may run, as you. It
          can do no more than you. You can revoke it at any time on My access;
          its next call is then refused.
        </Typography>
        {delegationEnabled && delegated && (
          <Typography paragraph>
            <strong>Deploy as you:</strong> Entra confirmed your permission.
            Approve to finish connecting {clientName}; it can then run deploy
            templates as you, with your Entra identity, until you revoke it.
          </Typography>
        )}
        {delegationEnabled && !delegated && (
          <FormControlLabel
            control={
              <Checkbox
                checked={deployAsMe}
                onChange={e => setDeployAsMe(e.target.checked)}
                color="primary"
              />
            }
            label={`Also let ${clientName} deploy as me (you sign in at Microsoft Entra once more; deploy targets then see your identity)`}
          />
        )}
        <Box display="flex" gridGap={8}>
          <Button
            variant="contained"
            color="primary"
            disabled={state.busy}
            onClick={() => decide('approve')}
          >
            Approve as {personName}
          </Button>
          <Button
            variant="outlined"
            disabled={state.busy}
            onClick={() => decide('reject')}
          >
            Deny
          </Button>
        </Box>
      </InfoCard>
    </Content>
  );
}

/** `/oauth2/*`: the consent page at `authorize/:sessionId`, as upstream routes it. */
export function AgentConsentRouter() {
  return (
    <Routes>
      <Route path="/authorize/:sessionId" element={<AgentConsentPage />} />
    </Routes>
  );
}
