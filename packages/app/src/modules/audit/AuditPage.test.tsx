import { discoveryApiRef, fetchApiRef } from '@backstage/frontend-plugin-api';
import { catalogApiRef, entityRouteRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/frontend-test-utils';
import { AuditEvent } from '@internal/plugin-audit-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { AuditPage } from './AuditPage';

const deploy: AuditEvent = {
  id: '7f1c3c1e-0000-4000-8000-000000000002',
  time: '2026-12-04T19:00:00.000Z',
  plugin: 'scaffolder',
  eventId: 'deploy',
  action: 'scaffolder.deploy',
  severity: 'medium',
  outcome: 'succeeded',
  actor: {
    kind: 'person',
    entityRef: 'user:default/eve.ellis',
    oid: 'f25eb988-33ed-43cc-b146-d5b37afe29c7',
    tid: 'b19432bf-159f-4ebf-861f-91de48b5e4d2',
  },
  entityRefs: ['component:default/payments'],
  meta: {
    environment: 'staging',
    target: 'http://localhost:8400/deploy-api',
    deploymentId: 'deploy-7',
    outcome: 'succeeded',
  },
};

const denial: AuditEvent = {
  id: '7f1c3c1e-0000-4000-8000-000000000001',
  time: '2026-12-04T18:00:00.000Z',
  plugin: 'permission',
  eventId: 'permission-denied',
  action: 'permission.permission-denied',
  severity: 'medium',
  outcome: 'failed',
  actor: {
    kind: 'agent',
    entityRef: 'user:default/eve.ellis',
    clientId: 'https://agents.example.com/client.json',
  },
  request: { method: 'POST', route: '/api/permission/authorize' },
  entityRefs: [],
  meta: { permission: 'catalog.entity.delete', rule: 'owner-only' },
  error: { name: 'NotAllowedError', message: 'catalog.entity.delete denied' },
};

const older: AuditEvent = {
  ...deploy,
  id: '7f1c3c1e-0000-4000-8000-000000000000',
  time: '2026-12-03T09:00:00.000Z',
  meta: { ...deploy.meta, environment: 'qa', deploymentId: 'deploy-3' },
};

/** The audit routes: two pages of events, or the status told. */
function backend(options: { status?: number; truncated?: boolean } = {}) {
  const calls: string[] = [];
  const fetch = async (input: RequestInfo | URL) => {
    const url = new URL(String(input));
    calls.push(`${url.pathname}${url.search}`);
    if (options.status) {
      return new Response(
        JSON.stringify({
          error: { name: 'NotAllowedError', message: 'audit.read denied' },
        }),
        {
          status: options.status,
          headers: { 'content-type': 'application/json' },
        },
      );
    }
    if (url.pathname.endsWith('/events/export')) {
      return new Response(`${JSON.stringify(deploy)}\n`, {
        status: 200,
        headers: {
          'content-type': 'application/x-ndjson',
          'content-disposition': 'attachment; filename="audit-events.jsonl"',
          ...(options.truncated ? { 'x-audit-export-truncated': 'true' } : {}),
        },
      });
    }
    const page = url.searchParams.get('cursor')
      ? { items: [older] }
      : { items: [deploy, denial], nextCursor: 'c2Vx' };
    return new Response(JSON.stringify(page), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { calls, fetch };
}

// usePermission keeps answers in a module-wide cache (SWR), so every test
// here is allowed; AuditPage.denied.test.tsx is the denied person.
function render(
  api: ReturnType<typeof backend>,
  options: { route?: string } = {},
) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [fetchApiRef, { fetch: api.fetch }],
        [
          discoveryApiRef,
          {
            getBaseUrl: async (id: string) => `http://backend/api/${id}`,
          },
        ],
        [
          catalogApiRef,
          catalogApiMock({
            entities: [
              {
                apiVersion: 'backstage.io/v1alpha1',
                kind: 'User',
                metadata: { name: 'eve.ellis', namespace: 'default' },
                spec: {},
              },
            ],
          }),
        ],
      ]}
    >
      <AuditPage />
    </TestApiProvider>,
    {
      mountPath: '/audit',
      initialRouteEntries: [options.route ?? '/audit'],
      mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef },
      apis: [mockApis.permission({ authorize: AuthorizeResult.ALLOW })],
    },
  );
}

/**
 * What the page saves: jsdom has no object URLs and does not download, so
 * the blob behind each clicked link is kept here.
 */
function captureDownloads() {
  const saved: Array<{ download: string; blob: Blob }> = [];
  const blobs = new Map<string, Blob>();
  URL.createObjectURL = jest.fn((blob: Blob) => {
    const href = `blob:http://localhost/${blobs.size}`;
    blobs.set(href, blob);
    return href;
  });
  URL.revokeObjectURL = jest.fn();
  const click = jest
    .spyOn(HTMLAnchorElement.prototype, 'click')
    .mockImplementation(function save(this: HTMLAnchorElement) {
      saved.push({ download: this.download, blob: blobs.get(this.href)! });
    });
  return Object.assign(saved, { restore: () => click.mockRestore() });
}

const rowOf = async (text: string) =>
  (await screen.findByText(text)).closest('tr') as HTMLElement;

describe('AuditPage', () => {
  it('lists events newest first with actor, entities, environment, request and details', async () => {
    const api = backend();
    render(api);

    const row = await rowOf('scaffolder.deploy');
    expect(within(row).getByText('staging')).toBeInTheDocument();
    expect(within(row).getByText('succeeded')).toBeInTheDocument();
    expect(within(row).getByText('person')).toBeInTheDocument();
    expect(
      within(row).getByRole('link', { name: /eve\.ellis/ }),
    ).toHaveAttribute('href', '/catalog/default/user/eve.ellis');
    expect(within(row).getByRole('link', { name: /payments/ })).toHaveAttribute(
      'href',
      '/catalog/default/component/payments',
    );
    expect(within(row).getByText('deploymentId: deploy-7')).toBeInTheDocument();

    const denied = await rowOf('permission.permission-denied');
    expect(within(denied).getByText('agent')).toBeInTheDocument();
    expect(
      within(denied).getByText(/https:\/\/agents\.example\.com\/client\.json/),
    ).toBeInTheDocument();
    expect(
      within(denied).getByText('POST /api/permission/authorize'),
    ).toBeInTheDocument();
    expect(
      within(denied).getByText(
        'error: NotAllowedError: catalog.entity.delete denied',
      ),
    ).toBeInTheDocument();

    const rows = screen.getAllByRole('row').map(r => r.textContent);
    expect(rows.findIndex(r => r?.includes('scaffolder.deploy'))).toBeLessThan(
      rows.findIndex(r => r?.includes('permission-denied')),
    );
    expect(api.calls).toEqual(['/api/audit/events?limit=50']);
  });

  it('sends the filters of the address and of the form to the route, and loads older pages by cursor', async () => {
    const api = backend();
    render(api, {
      route:
        '/audit?outcome=succeeded&severity=medium&entity=component%3Adefault%2Fpayments',
    });
    await rowOf('scaffolder.deploy');
    expect(api.calls[0]).toBe(
      '/api/audit/events?outcome=succeeded&severity=medium&entity=component%3Adefault%2Fpayments&limit=50',
    );
    expect(screen.getByLabelText('Entity')).toHaveValue(
      'component:default/payments',
    );

    fireEvent.change(screen.getByLabelText('Person'), {
      target: { value: 'user:default/eve.ellis' },
    });
    fireEvent.change(screen.getByLabelText('Action'), {
      target: { value: 'scaffolder.deploy' },
    });
    fireEvent.change(screen.getByLabelText('From'), {
      target: { value: '2026-12-01T10:00' },
    });
    fireEvent.mouseDown(screen.getByRole('button', { name: /Outcome/ }));
    fireEvent.click(await screen.findByRole('option', { name: 'Failed' }));
    fireEvent.mouseDown(screen.getByRole('button', { name: /Severity/ }));
    fireEvent.click(await screen.findByRole('option', { name: 'High and up' }));
    fireEvent.click(screen.getByRole('button', { name: 'Apply filters' }));

    const from = encodeURIComponent(new Date('2026-12-01T10:00').toISOString());
    await waitFor(() =>
      expect(api.calls[1]).toBe(
        `/api/audit/events?person=user%3Adefault%2Feve.ellis&action=scaffolder.deploy&outcome=failed&severity=high&entity=component%3Adefault%2Fpayments&from=${from}&limit=50`,
      ),
    );
    await rowOf('scaffolder.deploy');

    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    expect(await rowOf('qa')).toBeInTheDocument();
    expect(api.calls[2]).toBe(
      `/api/audit/events?person=user%3Adefault%2Feve.ellis&action=scaffolder.deploy&outcome=failed&severity=high&entity=component%3Adefault%2Fpayments&from=${from}&limit=50&cursor=c2Vx`,
    );
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('exports the filtered events as JSON Lines and CSV under the name the route gives', async () => {
    const api = backend();
    const saved = captureDownloads();
    try {
      render(api, { route: '/audit?person=user%3Adefault%2Feve.ellis' });
      await rowOf('scaffolder.deploy');
      fireEvent.click(
        screen.getByRole('button', { name: 'Export JSON Lines' }),
      );
      await waitFor(() => expect(saved).toHaveLength(1));
      expect(api.calls[1]).toBe(
        '/api/audit/events/export?person=user%3Adefault%2Feve.ellis&format=jsonl',
      );
      expect(saved[0].download).toBe('audit-events.jsonl');
      expect(JSON.parse((await saved[0].blob.text()).trim())).toEqual(deploy);

      fireEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
      await waitFor(() => expect(saved).toHaveLength(2));
      expect(api.calls[2]).toBe(
        '/api/audit/events/export?person=user%3Adefault%2Feve.ellis&format=csv',
      );
      expect(
        screen.queryByText(/The export holds only the newest matching events/),
      ).toBeNull();
    } finally {
      saved.restore();
    }
  });

  it('says when the route cut the export at its maximum', async () => {
    const api = backend({ truncated: true });
    const saved = captureDownloads();
    try {
      render(api);
      await rowOf('scaffolder.deploy');
      fireEvent.click(
        screen.getByRole('button', { name: 'Export JSON Lines' }),
      );
      expect(
        await screen.findByText(
          /The export holds only the newest matching events/,
        ),
      ).toBeInTheDocument();
      expect(saved).toHaveLength(1);
    } finally {
      saved.restore();
    }
  });

  it('tells a person the route refuses (403) that they may not, and shows no events or filters', async () => {
    const api = backend({ status: 403 });
    render(api);
    expect(
      await screen.findByText('Not allowed to read the audit trail'),
    ).toBeInTheDocument();
    expect(screen.queryByLabelText('Person')).toBeNull();
    expect(screen.queryByRole('table')).toBeNull();
    expect(api.calls).toEqual(['/api/audit/events?limit=50']);
  });

  it('names the parameter the route rejected', async () => {
    const api = backend({ status: 400 });
    render(api, { route: '/audit?from=yesterday' });
    expect(
      await screen.findByText(/Reading the audit trail failed \(400\)/),
    ).toBeInTheDocument();
    expect(screen.getByLabelText('Person')).toBeInTheDocument();
  });
});
