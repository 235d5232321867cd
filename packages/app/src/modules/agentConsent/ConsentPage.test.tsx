import {
  configApiRef,
  discoveryApiRef,
  fetchApiRef,
  identityApiRef,
} from '@backstage/frontend-plugin-api';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/frontend-test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { AgentConsentPage } from './ConsentPage';

const session = {
  id: 's-1',
  clientId: 'https://agents.example.com/client.json',
  clientName: 'Build Assistant',
  scope: 'openid offline_access',
  redirectUri: 'http://127.0.0.1:33418/callback',
};

/** Upstream's session routes, answering as told. */
function backend(approve: { status: number; body: object }) {
  const calls: string[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push(`${init?.method ?? 'GET'} ${url}`);
    let answer: { status: number; body: object } = {
      status: 200,
      body: session,
    };
    if (url.endsWith('/approve')) answer = approve;
    if (url.endsWith('/agent-access/v1/delegations')) {
      answer = {
        status: 200,
        body: { authorizeUrl: 'https://login.example/authorize?x=1' },
      };
    }
    if (url.endsWith('/reject')) {
      answer = {
        status: 200,
        body: { redirectUrl: `${session.redirectUri}?error=access_denied` },
      };
    }
    return new Response(JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { calls, fetch };
}

async function render(
  api: ReturnType<typeof backend>,
  options: { delegation?: boolean; route?: string } = {},
) {
  const navigate = jest.fn();
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [fetchApiRef, { fetch: api.fetch }],
        [
          configApiRef,
          mockApis.config({
            data: {
              agentAccess: { delegation: { enabled: !!options.delegation } },
            },
          }),
        ],
        [
          discoveryApiRef,
          { getBaseUrl: async () => 'http://backend/api/auth' },
        ],
        [
          identityApiRef,
          {
            getBackstageIdentity: async () => ({
              type: 'user' as const,
              userEntityRef: 'user:default/carla.chen',
              ownershipEntityRefs: [],
            }),
          },
        ],
        [
          catalogApiRef,
          {
            getEntityByRef: async () => ({
              apiVersion: 'backstage.io/v1alpha1',
              kind: 'User',
              metadata: { name: 'carla.chen' },
              spec: {
                profile: {
                  displayName: 'Carla Chen',
                  email: 'carla.chen@contoso.example',
                },
              },
            }),
          },
        ],
      ]}
    >
      <AgentConsentPage navigate={navigate} />
    </TestApiProvider>,
    {
      mountPath: '/oauth2/authorize/:sessionId',
      initialRouteEntries: [options.route ?? '/oauth2/authorize/s-1'],
    },
  );
  return navigate;
}

describe('AgentConsentPage', () => {
  it('names the person approving and the agent asking, then approves', async () => {
    const api = backend({
      status: 200,
      body: { redirectUrl: `${session.redirectUri}?code=c&state=x` },
    });
    const navigate = await render(api);

    expect(
      await screen.findByText('Carla Chen (carla.chen@contoso.example)'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('Let Build Assistant act as you?'),
    ).toBeInTheDocument();
    expect(screen.getByText('agents.example.com')).toBeInTheDocument();
    expect(
      screen.getByText('Carla Chen (user:default/carla.chen)'),
    ).toBeInTheDocument();

    fireEvent.click(
      screen.getByRole('button', { name: 'Approve as Carla Chen' }),
    );
    await waitFor(() =>
      expect(navigate).toHaveBeenCalledWith(
        `${session.redirectUri}?code=c&state=x`,
      ),
    );
    expect(api.calls).toEqual([
      'GET http://backend/api/auth/v1/sessions/s-1',
      'POST http://backend/api/auth/v1/sessions/s-1/approve',
    ]);
  });

  it('says why approval failed and stays on the page', async () => {
    const api = backend({
      status: 404,
      body: {
        error: 'invalid_request',
        error_description: 'Authorization session not found or expired',
      },
    });
    const navigate = await render(api);
    fireEvent.click(
      await screen.findByRole('button', { name: 'Approve as Carla Chen' }),
    );
    expect(
      await screen.findByText(
        /Could not approve \(404\): Authorization session not found or expired/,
      ),
    ).toBeInTheDocument();
    expect(navigate).not.toHaveBeenCalled();
  });

  it('offers "deploy as me" only when delegation is on', async () => {
    await render(backend({ status: 200, body: {} }));
    await screen.findByRole('button', { name: 'Approve as Carla Chen' });
    expect(screen.queryByLabelText(/deploy as me/)).not.toBeInTheDocument();
  });

  it('with "deploy as me", sends the person to Entra before approving', async () => {
    const api = backend({ status: 200, body: { redirectUrl: 'x' } });
    const navigate = await render(api, { delegation: true });
    fireEvent.click(await screen.findByLabelText(/deploy as me/));
    fireEvent.click(
      screen.getByRole('button', { name: 'Approve as Carla Chen' }),
    );
    await waitFor(() =>
      expect(navigate).toHaveBeenCalledWith(
        'https://login.example/authorize?x=1',
      ),
    );
    expect(api.calls).toEqual([
      'GET http://backend/api/auth/v1/sessions/s-1',
      'POST http://backend/api/auth/agent-access/v1/delegations',
    ]);
  });

  it('back from Entra, still waits for the person to approve', async () => {
    const api = backend({
      status: 200,
      body: { redirectUrl: `${session.redirectUri}?code=c` },
    });
    const navigate = await render(api, {
      delegation: true,
      route: '/oauth2/authorize/s-1?delegation=granted',
    });
    expect(
      await screen.findByText(/Entra confirmed your permission/),
    ).toBeInTheDocument();
    expect(navigate).not.toHaveBeenCalled();
    fireEvent.click(
      screen.getByRole('button', { name: 'Approve as Carla Chen' }),
    );
    await waitFor(() =>
      expect(navigate).toHaveBeenCalledWith(`${session.redirectUri}?code=c`),
    );
    expect(api.calls).toEqual([
      'GET http://backend/api/auth/v1/sessions/s-1',
      'POST http://backend/api/auth/v1/sessions/s-1/approve',
    ]);
  });
});
