import { discoveryApiRef, fetchApiRef } from '@backstage/core-plugin-api';
import {
  renderInTestApp,
  TestApiProvider,
} from '@backstage/frontend-test-utils';
import { fireEvent, screen } from '@testing-library/react';
import { EntraOrgStatusCard } from './EntraOrgStatusCard';

const lastRun = {
  startedAt: '2026-12-03T10:00:00.000Z',
  finishedAt: '2026-12-03T10:00:01.000Z',
  durationMs: 1000,
  readMs: 800,
  outcome: 'applied',
  read: { users: 9, groups: 12, memberships: 20 },
  sent: { users: 9, groups: 12, memberships: 20 },
  rejected: { users: 1, groups: 1 },
  ingested: { users: 8, groups: 12 },
  graph: { requests: 15, retries: 0, throttled: 0 },
  consecutiveFailures: 0,
};

/** The catalog backend's entra-org routes, answering as told. */
function backend(runAnswers: Array<{ status: number; body: object }>) {
  const calls: string[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push(`${init?.method ?? 'GET'} ${url}`);
    const answer = url.endsWith('/status')
      ? {
          status: 200,
          body: {
            providers: [
              { providerId: 'default', lastRun, removalOverride: null },
            ],
          },
        }
      : runAnswers.shift()!;
    return new Response(JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { calls, fetch };
}

describe('EntraOrgStatusCard', () => {
  it('shows what was read, sent, left out and is in the catalog, and runs now on request', async () => {
    const api = backend([
      { status: 202, body: { providerId: 'default', state: 'started' } },
      {
        status: 409,
        body: {
          error: {
            name: 'ConflictError',
            message: "A run of Entra org provider 'default' is going on now",
          },
        },
      },
    ]);
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [fetchApiRef, { fetch: api.fetch }],
          [
            discoveryApiRef,
            { getBaseUrl: async () => 'http://backend/api/catalog' },
          ],
        ]}
      >
        <EntraOrgStatusCard />
      </TestApiProvider>,
    );

    // Read from Graph and sent to the catalog.
    expect(
      await screen.findAllByText('9 users, 12 groups, 20 memberships'),
    ).toHaveLength(2);
    expect(screen.getByText('8 users, 12 groups')).toBeInTheDocument();
    expect(
      screen.getByText(/1 users, 1 groups: see the backend log/),
    ).toBeInTheDocument();

    fireEvent.click(screen.getByRole('button', { name: 'Run now' }));
    expect(await screen.findByText(/Run started/)).toBeInTheDocument();
    expect(api.calls).toContain(
      'POST http://backend/api/catalog/entra-org/providers/default/run',
    );

    fireEvent.click(screen.getByRole('button', { name: 'Run now' }));
    expect(
      await screen.findByText(
        "A run of Entra org provider 'default' is going on now",
      ),
    ).toBeInTheDocument();
  });
});
