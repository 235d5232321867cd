import { expect, Page } from '@playwright/test';

/**
 * What the deploy tests share (deploy.test.ts, audit.test.ts): the
 * emulator's records of deploys, and the deploy template's form.
 */

/** The emulator `yarn dev` starts, on its default plain HTTP port. */
export const EMULATOR_URL =
  process.env.ENTRA_EMULATOR_URL ?? 'http://localhost:8400';

export interface DeployCall {
  oid: string;
  tid: string;
  scopes: string[];
  payload: {
    component?: string;
    environment?: string;
    version?: string;
    taskId?: string;
  };
}

/** What the emulator's sample deploy API recorded (its admin route). */
export async function deployCalls(): Promise<DeployCall[]> {
  const res = await fetch(`${EMULATOR_URL}/_emulator/deploy-calls`);
  expect(res.status).toBe(200);
  return (await res.json()).calls;
}

/**
 * Waits until the permission policy sees the signed-in person as an owner
 * of `entityRef`, which is what it checks a deploy against. Right after the
 * backend starts, org ingestion may not have brought the person's groups
 * yet, and the policy keeps what it read of a person for a while
 * (permission.ownershipPolicy.identityCacheTtl, 30 s), so an early deploy
 * would be refused as not theirs. Asked as the policy is asked: may they
 * unregister it, which owners may.
 */
export async function waitForOwnership(page: Page, entityRef: string) {
  await expect(async () => {
    const result = await page.evaluate(async resourceRef => {
      const session = await fetch(
        '/api/auth/microsoft/refresh?env=development',
        { headers: { 'x-requested-with': 'XMLHttpRequest' } },
      ).then(r => r.json());
      const res = await fetch('/api/permission/authorize', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${session.backstageIdentity.token}`,
        },
        body: JSON.stringify({
          items: [
            {
              id: 'owner',
              permission: {
                type: 'resource',
                name: 'catalog.entity.delete',
                attributes: { action: 'delete' },
                resourceType: 'catalog-entity',
              },
              resourceRef,
            },
          ],
        }),
      });
      return (await res.json()).items?.[0]?.result;
    }, entityRef);
    expect(result).toBe('ALLOW');
  }).toPass({ timeout: 120_000 });
}

/** Opens the deploy template, its answers given as the wizard's formData. */
export async function openDeployForm(page: Page, formData?: object) {
  const query = formData
    ? `?formData=${encodeURIComponent(JSON.stringify(formData))}`
    : '';
  // Right after startup the catalog may still be reading the templates.
  await expect(async () => {
    await page.goto(`/create/templates/default/deploy-component${query}`);
    await expect(page.getByLabel('Version')).toBeVisible({ timeout: 10_000 });
  }).toPass({ timeout: 90_000 });
}

/**
 * Deploys with the template as the signed-in person and waits for the
 * deployment the target created; returns the task's and deployment's ids.
 */
export async function deployWithTemplate(
  page: Page,
  answers: { component: string; environment: string; version: string },
): Promise<{ taskId: string; deploymentId: string }> {
  await openDeployForm(page, answers);
  // The wizard page reads the template (with its form decorators, which add
  // the person's Entra token) apart from the form; a Create pressed before
  // that read is done skips the decorators and the task is refused for the
  // missing secret. Both reads are done when the network is quiet.
  await page.waitForLoadState('networkidle');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(/\/create\/tasks\/[^/]+/);
  const taskId = page.url().split('/create/tasks/')[1].split(/[/?#]/)[0];
  // The link's name also says it opens in a new window.
  const link = page.getByRole('link', { name: /^Deployment deploy-\d+\b/ });
  await expect(link).toBeVisible({ timeout: 60_000 });
  const deploymentId = /deploy-\d+/.exec((await link.textContent())!)![0];
  return { taskId, deploymentId };
}
