import { screen } from '@testing-library/react';
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

// Allowed here; Sidebar.denied.test.tsx is the person who is not.
describe('Sidebar', () => {
  it('lists the Audit page for someone allowed audit.read', async () => {
    const { asked } = renderSidebar(true);
    expect(await screen.findByRole('link', { name: 'Audit' })).toHaveAttribute(
      'href',
      '/audit',
    );
    expect(asked).toContain('audit.read');
  });
});
