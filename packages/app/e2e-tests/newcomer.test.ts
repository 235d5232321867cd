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
