import { discoveryApiRef, fetchApiRef } from '@backstage/core-plugin-api';
import {
  renderInTestApp,
  TestApiProvider,
} from '@backstage/frontend-test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { AgentGrantsCard } from './AgentGrantsCard';

const grant = {
  id: 'g-1',
  clientId: 'https://agents.example.com/client.json',
  clientName: 'Build Assistant',
  createdAt: '2026-12-03T10:00:00.000Z',
  expiresAt: '2026-12-10T10:00:00.000Z',
};

/** The agent-access routes, with a list the test changes. */
function backend(options: { revokeStatus?: number } = {}) {
  let items = [grant];
  const calls: string[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url}`);
    if (method === 'DELETE') {
      const status = options.revokeStatus ?? 204;
      if (status !== 204) {
        return new Response(
          JSON.stringify({
            error: {
              name: 'NotFoundError',
              message: 'No agent access grant g-1',
            },
          }),
          { status, headers: { 'content-type': 'application/json' } },
        );
      }
      items = [];
      return new Response(null, { status: 204 });
    }
    return new Response(JSON.stringify({ items }), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { calls, fetch };
}

const render = (api: ReturnType<typeof backend>) =>
  renderInTestApp(
    <TestApiProvider
      apis={[
        [fetchApiRef, { fetch: api.fetch }],
        [
          discoveryApiRef,
          { getBaseUrl: async () => 'http://backend/api/auth' },
        ],
      ]}
    >
      <AgentGrantsCard />
    </TestApiProvider>,
  );

describe('AgentGrantsCard', () => {
  it("lists the person's agents by name and host, and revokes one", async () => {
    const api = backend();
    await render(api);
    expect(
      await screen.findByText('Build Assistant (agents.example.com)'),
    ).toBeInTheDocument();

    fireEvent.click(
      screen.getByRole('button', { name: 'Revoke Build Assistant' }),
    );
    expect(
      await screen.findByText(/No agent may act for you/),
    ).toBeInTheDocument();
    expect(api.calls).toEqual([
      'GET http://backend/api/auth/agent-access/v1/grants',
      'DELETE http://backend/api/auth/agent-access/v1/grants/g-1',
      'GET http://backend/api/auth/agent-access/v1/grants',
    ]);
  });

  it('says why a revoke failed and keeps the agent listed', async () => {
    const api = backend({ revokeStatus: 404 });
    await render(api);
    fireEvent.click(
      await screen.findByRole('button', { name: 'Revoke Build Assistant' }),
    );
    expect(
      await screen.findByText(
        /Revoking Build Assistant failed \(404\): No agent access grant g-1/,
      ),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(
        screen.getByText('Build Assistant (agents.example.com)'),
      ).toBeInTheDocument(),
    );
  });
});
