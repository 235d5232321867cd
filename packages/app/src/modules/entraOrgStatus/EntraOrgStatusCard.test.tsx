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
function backend(
  runAnswers: Array<{ status: number; body: object }>,
  providers: object[] = [
    { providerId: 'default', lastRun, removalOverride: null },
  ],
) {
  const calls: string[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push(`${init?.method ?? 'GET'} ${url}`);
    const answer = url.endsWith('/status')
      ? {
          status: 200,
          body: { providers },
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

  it('shows the delta cursor age, what the last polls changed and the last reconciliation', async () => {
    const now = Date.now();
    const at = (secondsAgo: number) =>
      new Date(now - secondsAgo * 1000).toISOString();
    const poll = (secondsAgo: number, extra: object) => ({
      finishedAt: at(secondsAgo),
      durationMs: 40,
      graph: { requests: 2, retries: 0, throttled: 0 },
      ...extra,
    });
    const api = backend(
      [],
      [
        {
          providerId: 'default',
          lastRun,
          removalOverride: null,
          lastReconciledAt: at(3 * 3600),
          delta: {
            cursorSyncedAt: at(12),
            lastPoll: poll(12, {
              outcome: 'unchanged',
              changed: { users: 0, groups: 0 },
              applied: { added: 0, removed: 0 },
            }),
            lastAppliedPoll: poll(300, {
              outcome: 'applied',
              changed: { users: 1, groups: 2 },
              applied: { added: 3, removed: 1 },
            }),
          },
        },
        {
          providerId: 'filtered',
          lastRun,
          removalOverride: null,
          lastReconciledAt: at(60),
          delta: null,
        },
      ],
    );
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
    expect(
      await screen.findByText(/^12 s ago \(changes up to/),
    ).toBeInTheDocument();
    expect(
      screen.getByText('No changes; 2 Graph requests, 12 s ago'),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        'Changes applied; 1 users and 2 groups changed in Entra; 3 entities added or updated, 1 removed; 2 Graph requests, 5 min ago',
      ),
    ).toBeInTheDocument();
    expect(screen.getByText(/\(3 h ago\)$/)).toBeInTheDocument();
    expect(
      screen.getByText(/^Off: changes arrive with each full round/),
    ).toBeInTheDocument();
  });
});
