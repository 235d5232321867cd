import { test, expect } from '@playwright/test';
import { signInAs } from './signIn';

test.setTimeout(120_000);

test('a seeded person signs in with Entra and the catalog lists the portal itself', async ({
  page,
}) => {
  await signInAs(page, 'Ada Admin');

  const nav = page.getByRole('navigation', { name: 'sidebar nav' });
  await expect(
    nav.getByRole('link', { name: 'Catalog', exact: true }),
  ).toBeVisible();

  // The catalog lists the portal itself, which registers itself.
  await nav.getByRole('link', { name: 'Catalog', exact: true }).click();
  const portal = page
    .getByRole('table')
    .getByRole('link', { name: 'Backstage Entra Starter' });
  await expect(portal).toBeVisible();
  await portal.click();
  await expect(page).toHaveURL(
    /\/catalog\/default\/component\/backstage-entra-starter/,
  );

  // Who is signed in: settings show the person's Entra name and photo.
  await page.goto('/settings');
  await expect(page.getByText('Ada Admin').first()).toBeVisible();
  await expect(
    page.locator('img[src^="data:image/png;base64,"]').first(),
  ).toBeVisible();
});

test('signing out and in again as someone else changes who is signed in', async ({
  page,
}) => {
  await signInAs(page, 'Ada Admin');
  await page.goto('/settings');
  await expect(page.getByText('Ada Admin').first()).toBeVisible();

  await page.getByRole('button', { name: 'more' }).click();
  await page.getByRole('menuitem', { name: 'Sign Out' }).click();
  await expect(page.getByRole('button', { name: 'Sign In' })).toBeVisible();

  await signInAs(page, 'Ben Builder');
  await page.goto('/settings');
  await expect(page.getByText('Ben Builder').first()).toBeVisible();
  await expect(page.getByText('Ada Admin')).toHaveCount(0);
});

test('there is no guest sign-in', async ({ page }) => {
  await page.goto('/');
  await expect(
    page.getByText('Microsoft Entra ID', { exact: true }),
  ).toBeVisible();
  await expect(page.getByRole('button', { name: 'Enter' })).toHaveCount(0);
});
