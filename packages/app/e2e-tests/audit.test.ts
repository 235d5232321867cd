import fs from 'node:fs/promises';
import { test, expect, Page } from '@playwright/test';
import { signInAs } from './signIn';
import { deployWithTemplate, waitForOwnership } from './deploy';

test.setTimeout(180_000);
// The deploy of the first test is what the second looks for.
test.describe.configure({ mode: 'serial' });

// Seeded people (packages/entra-emulator/seed/tenant.yaml): Eve owns
// component:default/payments through payments-api and may deploy it to
// staging; Ada is in platform-admins, the admins, who alone may read the
// audit trail.
const EVE = 'user:default/eve.ellis';
const EVE_OID = 'f25eb988-33ed-43cc-b146-d5b37afe29c7';

let deployed: { taskId: string; deploymentId: string };

const sidebar = (page: Page) =>
  page.getByRole('navigation', { name: 'sidebar nav' });

/** Calls a portal route with the signed-in person's Backstage token. */
async function statusOf(page: Page, route: string): Promise<number> {
  return page.evaluate(async url => {
    const session = await fetch('/api/auth/microsoft/refresh?env=development', {
      headers: { 'x-requested-with': 'XMLHttpRequest' },
    }).then(r => r.json());
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${session.backstageIdentity.token}` },
    });
    return res.status;
  }, route);
}

test('Eve deploys payments to staging', async ({ page }) => {
  await signInAs(page, 'Eve Ellis');
  await waitForOwnership(page, 'component:default/payments');
  deployed = await deployWithTemplate(page, {
    component: 'component:default/payments',
    environment: 'staging',
    version: '3.1.0',
  });
});

test('an admin filters the Audit page to Eve, sees her deploy with its environment and outcome, and exports it', async ({
  page,
}) => {
  await signInAs(page, 'Ada Admin');
  await sidebar(page).getByRole('link', { name: 'Audit' }).click();
  await expect(page).toHaveURL(/\/audit$/);

  await page.getByLabel('Person').fill(EVE);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/\/audit\?person=user%3Adefault%2Feve\.ellis$/);

  // The sink writes in batches, a moment after the deploy finished. Her
  // task's page reading the task is in the trail too (scaffolder.task).
  const row = page
    .getByRole('row')
    .filter({ hasText: 'scaffolder.deploy' })
    .filter({ hasText: `taskId: ${deployed.taskId}` });
  await expect(async () => {
    await page.reload();
    await expect(row).toBeVisible({ timeout: 5_000 });
  }).toPass({ timeout: 60_000 });
  await expect(row).toContainText('scaffolder.deploy');
  await expect(row).toContainText('staging');
  await expect(row).toContainText('succeeded');
  await expect(row).toContainText(`deploymentId: ${deployed.deploymentId}`);
  await expect(
    row.getByRole('link', { name: /eve\.ellis|Eve Ellis/ }).first(),
  ).toHaveAttribute('href', '/catalog/default/user/eve.ellis');
  await expect(
    row.getByRole('link', { name: /payments/ }).first(),
  ).toHaveAttribute('href', '/catalog/default/component/payments');
  // Only Eve's events are listed: each row links to her (as the person, or
  // the person an agent acted for).
  const rows = page.locator('tbody tr');
  await expect(
    rows.filter({
      has: page.locator('a[href="/catalog/default/user/eve.ellis"]'),
    }),
  ).toHaveCount(await rows.count());

  // JSON Lines: one AuditEvent per line, this deploy among them, as Eve.
  const jsonl = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export JSON Lines' }).click();
  const jsonlFile = await jsonl;
  expect(jsonlFile.suggestedFilename()).toBe('audit-events.jsonl');
  const events = (await fs.readFile((await jsonlFile.path())!, 'utf8'))
    .split('\n')
    .filter(line => line.trim())
    .map(line => JSON.parse(line));
  expect(events.length).toBeGreaterThan(0);
  expect(events.every(e => e.actor.entityRef === EVE)).toBe(true);
  // Her task page's reads of the task (scaffolder.task) name it too.
  const event = events.find(
    e => e.action === 'scaffolder.deploy' && e.meta?.taskId === deployed.taskId,
  );
  expect(event).toMatchObject({
    action: 'scaffolder.deploy',
    outcome: 'succeeded',
    actor: { kind: 'person', entityRef: EVE, oid: EVE_OID },
    meta: { environment: 'staging', deploymentId: deployed.deploymentId },
  });
  expect(event.entityRefs).toContain('component:default/payments');

  // CSV: the same deploy, one row, with Eve as its actor.
  const csv = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const csvFile = await csv;
  expect(csvFile.suggestedFilename()).toBe('audit-events.csv');
  const lines = (await fs.readFile((await csvFile.path())!, 'utf8')).split(
    /\r?\n/,
  );
  expect(lines[0]).toBe(
    'time,action,outcome,severity,actor_kind,actor_ref,actor_oid,actor_tid,actor_app_id,actor_client_id,method,route,entity_refs,meta,error',
  );
  const deployLines = lines.filter(
    l => l.includes('scaffolder.deploy') && l.includes(deployed.taskId),
  );
  expect(deployLines).toHaveLength(1);
  expect(deployLines[0]).toContain(
    `scaffolder.deploy,succeeded,medium,person,${EVE},${EVE_OID},`,
  );
});

test('Eve, not an admin, has no Audit item, is told she may not, and the route refuses her', async ({
  page,
}) => {
  await signInAs(page, 'Eve Ellis');
  await page.goto('/audit');
  await expect(
    page.getByText('Not allowed to read the audit trail'),
  ).toBeVisible();
  await expect(page.getByLabel('Person')).toHaveCount(0);
  await expect(page.getByRole('table')).toHaveCount(0);
  // The permission is decided by now (the page said so): no nav item.
  await expect(
    sidebar(page).getByRole('link', { name: 'Catalog', exact: true }),
  ).toBeVisible();
  await expect(sidebar(page).getByRole('link', { name: 'Audit' })).toHaveCount(
    0,
  );
  expect(await statusOf(page, `/api/audit/events?person=${EVE}`)).toBe(403);
  expect(await statusOf(page, '/api/audit/events/export?format=jsonl')).toBe(
    403,
  );
});
