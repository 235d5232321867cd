import { test, expect } from '@playwright/test';
import { signInAs } from './signIn';

test.setTimeout(120_000);

// The seeded organisation, as the Entra emulator serves it to Graph readers.
test('the org pages show Entra groups with their members, nesting and photos', async ({
  page,
}) => {
  await signInAs(page, 'Ada Admin');

  // A group with its members, their photos, and its parent group.
  await page.goto('/catalog/default/group/platform-admins');
  await expect(
    page.getByRole('heading', { name: 'platform-admins' }).first(),
  ).toBeVisible();
  // The members card lists both seeded members (with their mail), and Ada's
  // Entra photo as her avatar.
  await expect(
    page.getByText('platform-admins members (2 of 2)'),
  ).toBeVisible();
  await expect(page.getByText('ada.admin@contoso.example')).toBeVisible();
  await expect(page.getByText('ben.builder@contoso.example')).toBeVisible();
  await expect(page.locator('img[src^="data:image/"]').first()).toBeVisible();
  await expect(
    page.getByRole('link', { name: 'production-deployers' }).first(),
  ).toBeVisible();

  // Nesting the other way: a parent lists its child groups.
  await page.goto('/catalog/default/group/engineering');
  await expect(
    page.getByRole('link', { name: 'platform-team' }).first(),
  ).toBeVisible();

  // A person's page shows the groups they are in.
  await page.goto('/catalog/default/user/ada.admin');
  await expect(
    page.getByRole('link', { name: 'platform-admins' }).first(),
  ).toBeVisible();
});

test('admins see the last ingestion run on the tenant group page', async ({
  page,
}) => {
  await signInAs(page, 'Ada Admin');
  const card = page.getByText('Entra org ingestion');
  await expect(async () => {
    // The tenant root group carries the status card.
    await page.goto('/catalog/default/group/contoso_entra_emulator');
    await expect(card).toBeVisible({ timeout: 5_000 });
  }).toPass({ timeout: 60_000 });
  await expect(page.getByText('Applied', { exact: true })).toBeVisible();
  await expect(page.getByText(/\d+ users, \d+ groups/).first()).toBeVisible();
});
