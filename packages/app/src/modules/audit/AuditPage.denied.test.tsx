import { discoveryApiRef, fetchApiRef } from '@backstage/frontend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/frontend-test-utils';
import { screen } from '@testing-library/react';
import { auditReadPermission } from '@internal/plugin-audit-common';
import { AuditPage } from './AuditPage';

// A file of its own: usePermission caches answers module-wide (SWR), and
// AuditPage.test.tsx is allowed.
describe('AuditPage for someone without audit.read', () => {
  it('says they may not, shows no filters or export, and does not call the route', async () => {
    const calls: string[] = [];
    const asked: string[] = [];
    renderInTestApp(
      <TestApiProvider
        apis={[
          [
            fetchApiRef,
            {
              fetch: async (input: RequestInfo | URL) => {
                calls.push(String(input));
                return new Response('{"items":[]}', { status: 200 });
              },
            },
          ],
          [
            discoveryApiRef,
            { getBaseUrl: async (id: string) => `http://backend/api/${id}` },
          ],
        ]}
      >
        <AuditPage />
      </TestApiProvider>,
      {
        apis: [
          mockApis.permission({
            authorize: request => {
              asked.push(request.permission.name);
              return AuthorizeResult.DENY;
            },
          }),
        ],
      },
    );

    expect(
      await screen.findByText('Not allowed to read the audit trail'),
    ).toBeInTheDocument();
    expect(asked).toEqual([auditReadPermission.name]);
    expect(screen.queryByLabelText('Person')).toBeNull();
    expect(screen.queryByRole('button', { name: /Export/ })).toBeNull();
    expect(calls).toEqual([]);
  });
});
