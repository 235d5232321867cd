import { test, expect, Page } from '@playwright/test';

/**
 * Signs in through the Entra emulator's login page, in the sign-in popup.
 * Right after the backend starts, org ingestion may not have reached the
 * catalog yet and sign-in says so; then it is tried again, as a person would.
 */
async function signInAs(page: Page, name: string) {
  await page.goto('/');
  // The sidebar's Catalog link appears once someone is signed in.
  const nav = page
    .getByRole('navigation', { name: 'sidebar nav' })
    .getByRole('link', { name: 'Catalog', exact: true });
  await expect(async () => {
    if (await nav.isVisible()) return;
    const popupOpened = page.waitForEvent('popup');
    await page.getByRole('button', { name: 'Sign In' }).click();
    const popup = await popupOpened;
    await popup.getByRole('button', { name: `Sign in as ${name}` }).click();
    await expect(nav).toBeVisible({ timeout: 10_000 });
  }).toPass({ timeout: 90_000 });
}

test.setTimeout(120_000);

test('a seeded person signs in with Entra and the catalog lists the portal itself', async ({
  page,
}) => {
  await signInAs(page, 'Ada Admin');

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
