import { expect, Page } from '@playwright/test';

/**
 * Signs in through the Entra emulator's login page, in the sign-in popup.
 * Right after the backend starts, org ingestion may not have reached the
 * catalog yet and sign-in says so; then it is tried again, as a person would.
 */
export async function signInAs(page: Page, name: string) {
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
