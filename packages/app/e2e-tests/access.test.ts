import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, Page } from '@playwright/test';
import { signInAs } from './signIn';

test.setTimeout(120_000);
test.describe.configure({ mode: 'serial' });

// Seeded people (packages/entra-emulator/seed/tenant.yaml): Rosa is in data
// only; Eve is in payments-api, which is nested in payments, the owner of
// component:default/payments and of the `ledger` fixture; Ada is in
// platform-admins, the admins.

/**
 * Serves e2e-tests/fixtures as a repository would, so components can be
 * registered the way people register them: by URL. playwright.config.ts
 * lets the backend read from this port.
 */
const FIXTURES_PORT = 7199;
let fixtures: http.Server;
test.beforeAll(async () => {
  // eslint-disable-next-line no-restricted-syntax -- test-only: the fixtures sit next to this file
  const dir = path.join(__dirname, 'fixtures');
  fixtures = http.createServer((req, res) => {
    const file = path.join(dir, path.basename(req.url ?? ''));
    if (!fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/yaml' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>(r => fixtures.listen(FIXTURES_PORT, '127.0.0.1', r));
});
test.afterAll(() => new Promise(r => fixtures.close(r)));

/**
 * Registers a fixture as the signed-in person, through the catalog API, and
 * expects `expected` (201; as shipped, only admins may register).
 */
async function register(page: Page, fixture: string, expected = 201) {
  const status = await page.evaluate(async target => {
    const session = await fetch('/api/auth/microsoft/refresh?env=development', {
      headers: { 'x-requested-with': 'XMLHttpRequest' },
    }).then(r => r.json());
    const res = await fetch('/api/catalog/locations', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${session.backstageIdentity.token}`,
      },
      body: JSON.stringify({ type: 'url', target }),
    });
    return res.status;
  }, `http://localhost:${FIXTURES_PORT}/${fixture}`);
  expect(status).toBe(expected);
}

async function openUnregister(page: Page, entityPath: string) {
  await expect(async () => {
    await page.goto(entityPath);
    await page.getByRole('button', { name: 'more' }).click({ timeout: 5_000 });
    // Right after startup the catalog may still be processing the entity.
  }).toPass({ timeout: 90_000 });
  return page.getByRole('menuitem', { name: /Unregister entity/ });
}

async function unregister(page: Page, entityPath: string) {
  const item = await openUnregister(page, entityPath);
  await expect(item).toBeEnabled();
  await item.click();
  await page.getByRole('button', { name: 'Unregister', exact: true }).click();
  // Back on the catalog, and the entity is gone.
  await expect(page).toHaveURL(/\/$/);
  await expect(async () => {
    await page.goto(entityPath);
    await expect(page.getByText(/not found/i).first()).toBeVisible({
      timeout: 5_000,
    });
  }).toPass({ timeout: 30_000 });
}

test('a non-owner sees unregister disabled, with who may do it', async ({
  page,
}) => {
  await signInAs(page, 'Rosa Ruiz');
  const item = await openUnregister(
    page,
    '/catalog/default/component/payments',
  );
  await expect(item).toBeDisabled();
  await expect(item).toContainText(
    'Only owners of component:default/payments — group:default/payments — and portal admins (group:default/platform-admins) can unregister it.',
  );
});

test('My access shows who I am, my groups with their nesting, and what I own', async ({
  page,
}) => {
  await signInAs(page, 'Eve Ellis');
  await page.goto('/my-access');
  await expect(page.getByText('user:default/eve.ellis')).toBeVisible();
  // The tenant id from Eve's Entra ID token.
  await expect(
    page.getByText('b19432bf-159f-4ebf-861f-91de48b5e4d2'),
  ).toBeVisible();
  const groups = page.getByRole('list', { name: 'My groups' });
  await expect(groups.getByText('direct member')).toBeVisible();
  // payments-api is nested in payments, which is nested in engineering.
  await expect(
    groups.getByText('through group:default/payments-api', { exact: true }),
  ).toBeVisible();
  await expect(
    groups.getByText(
      'through group:default/payments-api → group:default/payments',
      { exact: true },
    ),
  ).toBeVisible();
  const owned = page.getByRole('list', { name: 'What I own' });
  await expect(owned.getByText('payments', { exact: true })).toBeVisible();
  const may = page.getByRole('list', { name: 'What I may do' });
  await expect(
    may.getByText(/^Allowed: Unregister .*, which you own$/),
  ).toBeVisible();
  await expect(
    may.getByText(/^Not allowed: Unregister .*, which you do not own$/),
  ).toBeVisible();
  await expect(
    may.getByText('Not allowed: Deploy to production'),
  ).toBeVisible();
});

test('an admin registers components by URL; others may not, as shipped', async ({
  page,
}) => {
  await signInAs(page, 'Ada Admin');
  await register(page, 'ledger.yaml');
  await register(page, 'indexer.yaml');
});

test('a member of a nested owner group can unregister what the group owns', async ({
  page,
}) => {
  await signInAs(page, 'Eve Ellis');
  // registerGroups is left out in app-config.yaml: admins only.
  await register(page, 'ledger.yaml', 403);
  await unregister(page, '/catalog/default/component/ledger');
  // Not what the search group owns.
  const item = await openUnregister(page, '/catalog/default/component/indexer');
  await expect(item).toBeDisabled();
});

test('an admin can unregister what others own', async ({ page }) => {
  await signInAs(page, 'Ada Admin');
  await unregister(page, '/catalog/default/component/indexer');
});
