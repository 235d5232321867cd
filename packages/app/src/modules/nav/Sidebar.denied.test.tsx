import { act, screen, waitFor } from '@testing-library/react';
import { renderSidebar } from './__testUtils__/renderSidebar';

// The search modal (a legacy extension needing the old app's context) and
// the notifications item (its plugin's route and API) are not what these
// tests are about, and the test app has neither.
jest.mock('@backstage/plugin-search', () => ({
  SidebarSearchModal: () => null,
}));
jest.mock('@backstage/plugin-notifications', () => ({
  NotificationsSidebarItem: () => null,
}));

// A file of its own: usePermission keeps answers module-wide (SWR).
describe('Sidebar for someone without audit.read', () => {
  it('has no Audit item once the permission is decided', async () => {
    const { asked } = renderSidebar(false);
    // The item's gate asked: the sidebar is there.
    await waitFor(() => expect(asked).toContain('audit.read'));
    // The decision was answered: let React render what follows from it.
    await act(() => new Promise(resolve => setTimeout(resolve)));
    expect(screen.queryByRole('link', { name: 'Audit' })).toBeNull();
  });
});
