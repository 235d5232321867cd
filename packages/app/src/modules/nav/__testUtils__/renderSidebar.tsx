import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { mockApis, renderTestApp } from '@backstage/frontend-test-utils';
import { auditPlugin } from '../../audit';
import { navModule } from '..';

/**
 * The app's sidebar with the Audit page in it; `allowed` answers every
 * permission. One answer per test file: usePermission keeps answers
 * module-wide (SWR). Test files mock the search modal and the notifications
 * item first (see Sidebar.test.tsx).
 */
export function renderSidebar(allowed: boolean) {
  const asked: string[] = [];
  renderTestApp({
    features: [navModule, auditPlugin],
    config: { app: { title: 'Test' } },
    apis: [
      mockApis.permission({
        authorize: request => {
          asked.push(request.permission.name);
          return allowed ? AuthorizeResult.ALLOW : AuthorizeResult.DENY;
        },
      }),
    ],
  });
  return { asked };
}
