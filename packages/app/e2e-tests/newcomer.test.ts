import { test, expect, Page } from '@playwright/test';
import { signInAs } from './signIn';

test.setTimeout(120_000);

/**
 * Collects what the browser reports as uncaught: page errors and window
 * `error` events. `yarn dev` turns either into a full-screen overlay, so a
 * page that raises one is broken for a newcomer even if it looks fine here.
 */
async function collectPageErrors(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', e => errors.push(e.message));
  await page.addInitScript(() => {
    window.addEventListener('error', e => {
      (window as any).__pageErrors = [
        ...((window as any).__pageErrors ?? []),
        String(e.message ?? e.error),
      ];
    });
  });
  return async () => [
    ...errors,
    ...(await page.evaluate(() => (window as any).__pageErrors ?? [])),
  ];
}

test("an entity's ⋮ menu opens without a page error", async ({ page }) => {
  const pageErrors = await collectPageErrors(page);
  // Rosa owns nothing: the Unregister item carries its reason, the tallest
  // item the menu has.
  await signInAs(page, 'Rosa Ruiz');
  const item = page.getByRole('menuitem', { name: /Unregister entity/ });
  await expect(async () => {
    await page.goto('/catalog/default/component/payments');
    await page.getByRole('button', { name: 'more' }).click({ timeout: 5_000 });
    // Right after startup the catalog may still be processing the entity.
  }).toPass({ timeout: 90_000 });
  await expect(item).toContainText('Only owners');
  // Let the popover settle: a resize loop reports within a few frames.
  await page.evaluate(
    () =>
      new Promise(r =>
        requestAnimationFrame(() =>
          requestAnimationFrame(() => setTimeout(r, 500)),
        ),
      ),
  );
  await expect(item).toBeVisible();
  expect(await pageErrors()).toEqual([]);
});

test('the home page shows what I own, my groups and the portal docs, with no page error', async ({
  page,
}) => {
  const pageErrors = await collectPageErrors(page);
  // Eve is in payments-api, nested in payments, which owns `payments`.
  await signInAs(page, 'Eve Ellis');
  // Home is the landing page.
  await expect(page).toHaveURL(/\/$/);
  const owned = page.getByRole('list', { name: 'What I own' });
  await expect(async () => {
    // Right after startup the catalog may still be processing.
    await page.goto('/');
    await expect(
      owned.getByRole('link', { name: 'payments', exact: true }),
    ).toBeVisible({
      timeout: 5_000,
    });
  }).toPass({ timeout: 90_000 });
  await expect(
    page
      .getByRole('list', { name: 'My groups' })
      .getByRole('link', { name: 'payments-api' }),
  ).toBeVisible();
  // The policy lets everyone signed in run the Node.js service template.
  await expect(
    page
      .getByRole('list', { name: 'Templates I can run' })
      .getByRole('link', { name: 'Node.js service' }),
  ).toBeVisible();
  await expect(
    page
      .getByRole('list', { name: 'About this portal' })
      .getByRole('link', { name: 'My access' }),
  ).toBeVisible();
  await expect(page.getByPlaceholder(/^Search/)).toBeVisible();
  // create-app's demo widgets are gone (the joke API failed offline).
  await expect(page.getByText(/random joke/i)).toHaveCount(0);
  await expect(page.getByText('NYC', { exact: true })).toHaveCount(0);
  expect(await pageErrors()).toEqual([]);
});

test('the sidebar shows who is signed in, with their photo, and signs out', async ({
  page,
}) => {
  await signInAs(page, 'Ada Admin');
  const nav = page.getByRole('navigation', { name: 'sidebar nav' });
  const profile = nav.getByRole('link', { name: 'Ada Admin' });
  await expect(profile).toBeVisible();
  // The photo from Entra, not the initials fallback.
  await expect(profile.locator('img[src^="data:image/"]')).toBeVisible();
  // One Home entry, no developer-only Visualizer, Register not cut off.
  await expect(nav.getByRole('link', { name: 'Home' })).toHaveCount(1);
  await expect(nav.getByText('Visualizer')).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Register' })).toBeVisible();

  await profile.click();
  await expect(page).toHaveURL(/\/settings/);
  await nav.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('button', { name: 'Sign In' })).toBeVisible();
});

test('search finds a seeded component within a minute, and no search request fails', async ({
  page,
}) => {
  const failed: string[] = [];
  page.on('response', res => {
    if (res.url().includes('/api/search/') && res.status() >= 500) {
      failed.push(`${res.status()} ${res.url()}`);
    }
  });
  await signInAs(page, 'Rosa Ruiz');
  // The title link's text is split by highlight marks.
  const result = page
    .getByRole('listitem')
    .locator('a[href="/catalog/default/component/payments"]');
  await expect(async () => {
    await page.goto('/search?query=payments');
    await expect(result).toBeVisible({ timeout: 5_000 });
  }).toPass({ timeout: 60_000 });
  // The result types include TechDocs, which has no pages here: its count
  // is asked for too, and must not fail.
  await expect(page.getByText('Documentation')).toBeVisible();
  expect(failed).toEqual([]);
});

test('the Node.js service template runs offline end to end: published, registered, owned by my group, and I am notified', async ({
  page,
}) => {
  // Registering is for admins unless permission.ownershipPolicy.catalog
  // .registerGroups says otherwise (app-config.yaml).
  await signInAs(page, 'Ada Admin');
  // Unique per run: publish:local never overwrites a published name.
  const name = `orders-${Date.now().toString(36)}`;
  await expect(async () => {
    await page.goto('/create/templates/default/nodejs-service');
    await expect(page.getByLabel('Name')).toBeVisible({ timeout: 5_000 });
  }).toPass({ timeout: 90_000 });
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Description').fill('Takes orders');
  // Only the groups Ada is a member of are offered.
  await page.getByLabel('Owner').click();
  await expect(page.getByRole('option', { name: /payments/ })).toHaveCount(0);
  await page.getByRole('option', { name: /platform-admins/ }).click();
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Create' }).click();

  const open = page.getByRole('link', { name: 'Open in catalog' });
  await expect(open).toBeVisible({ timeout: 60_000 });
  await open.click();
  await expect(page).toHaveURL(
    new RegExp(`/catalog/default/component/${name}`),
  );
  // catalog:register adds the location; the catalog processes it moments
  // later, and the entity page does not refetch on its own until then.
  await expect(async () => {
    if (!(await page.getByText('Takes orders').first().isVisible())) {
      await page.reload();
    }
    await expect(page.getByText('Takes orders').first()).toBeVisible({
      timeout: 5_000,
    });
  }).toPass({ timeout: 60_000 });
  await expect(
    page.getByRole('link', { name: 'platform-admins' }).first(),
  ).toBeVisible();

  await page.goto('/notifications');
  await expect(page.getByText(`${name} is in the catalog`)).toBeVisible();
});

test('the tenant group page opens with the ingestion status at the top and a bounded relations graph', async ({
  page,
}) => {
  await signInAs(page, 'Ada Admin');
  const status = page.getByText('Entra org ingestion');
  await expect(async () => {
    await page.goto('/catalog/default/group/contoso_entra_emulator');
    await expect(status).toBeVisible({ timeout: 5_000 });
  }).toPass({ timeout: 60_000 });
  // In the first screen, not under the members list.
  await expect(status).toBeInViewport();
  const members = page.getByRole('heading', { name: /members \(\d+ of \d+\)/ });
  await expect(members).toBeVisible();
  const statusBox = (await status.boundingBox())!;
  const membersBox = (await members.boundingBox())!;
  expect(statusBox.y).toBeLessThan(membersBox.y);
  // Every top-level group is a child of the root: the graph is drawn at the
  // configured height (app-config.yaml), not one row per group.
  const graph = page.locator('svg#dependency-graph').first();
  const graphBox = (await graph.boundingBox())!;
  expect(graphBox.height).toBeLessThanOrEqual(480);
});

test('catalog names wrap between words, never inside one', async ({ page }) => {
  await signInAs(page, 'Ada Admin');
  const name = page
    .getByRole('table')
    .getByRole('link', { name: 'Backstage Entra Starter' });
  await expect(async () => {
    await page.goto('/catalog?filters[kind]=component&filters[user]=all');
    await expect(name).toBeVisible({ timeout: 5_000 });
  }).toPass({ timeout: 60_000 });
  // The link is at least as wide as its longest word set in the same font;
  // a word broken across lines would make it narrower.
  const fits = await name.evaluate(link => {
    const words = (link.textContent ?? '').trim().split(/\s+/);
    const probe = document.createElement('span');
    probe.style.cssText =
      'position:absolute;visibility:hidden;white-space:nowrap';
    probe.style.font = getComputedStyle(link).font;
    link.appendChild(probe);
    const widest = Math.max(
      ...words.map(w => {
        probe.textContent = w;
        return probe.getBoundingClientRect().width;
      }),
    );
    probe.remove();
    return link.getBoundingClientRect().width + 0.5 >= widest;
  });
  expect(fits).toBe(true);
});
