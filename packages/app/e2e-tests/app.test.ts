import { test, expect } from '@playwright/test';

test('the portal loads and its catalog lists the portal itself', async ({
  page,
}) => {
  await page.goto('/');

  // Development sign-in until Entra sign-in replaces it.
  await page.getByRole('button', { name: 'Enter' }).click();

  const nav = page.getByRole('navigation', { name: 'sidebar nav' });
  await expect(
    nav.getByRole('link', { name: 'Catalog', exact: true }),
  ).toBeVisible();

  // The catalog is the landing page; the portal registers itself.
  const portal = page.getByRole('link', { name: 'Backstage Entra Starter' });
  await expect(portal).toBeVisible();
  await portal.click();
  await expect(page).toHaveURL(
    /\/catalog\/default\/component\/backstage-entra-starter/,
  );
  await expect(
    page
      .getByText('group:default/platform-admins')
      .or(page.getByRole('link', { name: /platform-admins/i }))
      .first(),
  ).toBeVisible();
});
