import { test, expect, Page } from '@playwright/test';
import { signInAs } from './signIn';
import { deployCalls, EMULATOR_URL, openDeployForm } from './deploy';

test.setTimeout(180_000);

// Seeded people (packages/entra-emulator/seed/tenant.yaml): Eve is in
// payments-api, nested in payments, the owner of component:default/payments;
// she is not in production-deployers.
const EVE_OID = 'f25eb988-33ed-43cc-b146-d5b37afe29c7';

/**
 * Makes Entra's token endpoint answer 503 to the next `times` requests, as
 * when the person's session cannot be refreshed without them.
 */
async function failNextTokenRequests(times: number) {
  const res = await fetch(`${EMULATOR_URL}/_emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      faults: [
        {
          type: 'unavailable',
          route: '*/oauth2/v2.0/token',
          method: 'POST',
          times,
        },
      ],
    }),
  });
  expect(res.status).toBe(200);
}

async function clearFaults() {
  await fetch(`${EMULATOR_URL}/_emulator/faults`, { method: 'DELETE' });
}

test('an owner deploys a component to staging as herself and sees the deployment', async ({
  page,
}) => {
  await signInAs(page, 'Eve Ellis');
  await openDeployForm(page);

  // The picker offers the components she owns through her groups.
  const component = page.getByRole('textbox', { name: 'Component' });
  await expect(async () => {
    await component.click();
    await component.fill('payments');
    await page
      .getByRole('option', { name: /payments/ })
      .first()
      .click({ timeout: 5_000 });
  }).toPass({ timeout: 60_000 });
  await page.getByLabel('Version').fill('1.4.2');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Create' }).click();

  // The task runs; its output links the deployment the target created.
  await expect(page).toHaveURL(/\/create\/tasks\/[^/]+/);
  const taskId = page.url().split('/create/tasks/')[1].split(/[/?#]/)[0];
  // The link's name also says it opens in a new window.
  const link = page.getByRole('link', { name: /^Deployment deploy-\d+\b/ });
  await expect(link).toBeVisible({ timeout: 60_000 });
  const deploymentId = /deploy-\d+/.exec((await link.textContent())!)![0];
  expect(await link.getAttribute('href')).toMatch(
    new RegExp(`/deploy-api/deployments/${deploymentId}$`),
  );

  // The deploy reached the target as Eve, with the deploy scope, for this
  // very task.
  const call = (await deployCalls()).find(c => c.payload.taskId === taskId);
  expect(call).toMatchObject({
    oid: EVE_OID,
    payload: {
      component: 'component:default/payments',
      environment: 'staging',
      version: '1.4.2',
      taskId,
    },
  });
  expect(call!.scopes).toContain('deploy');
});

test('someone outside production-deployers is refused production, told who may deploy there, and nothing is deployed', async ({
  page,
}) => {
  await signInAs(page, 'Eve Ellis');
  const before = (await deployCalls()).length;
  // The form itself was filled in the test above; here the answers are
  // given through the wizard's formData parameter.
  await openDeployForm(page, {
    component: 'component:default/payments',
    environment: 'production',
    version: '1.4.2',
  });
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Create' }).click();

  await expect(
    page.getByText(/You may not deploy to production/).first(),
  ).toBeVisible({ timeout: 30_000 });
  await expect(
    page.getByText(/group:default\/production-deployers/).first(),
  ).toBeVisible();
  expect(
    (await deployCalls())
      .slice(before)
      .filter(c => c.payload.environment === 'production'),
  ).toEqual([]);
});

test.describe('when Entra cannot give the token without the person', () => {
  test.afterEach(clearFaults);

  const answers = {
    component: 'component:default/payments',
    environment: 'staging',
    version: '2.0.0',
  };

  /** Answers Entra's sign-in popup as Eve whenever one opens. */
  function signInInPopups(page: Page) {
    page.on('popup', popup =>
      popup.getByRole('button', { name: 'Sign in as Eve Ellis' }).click(),
    );
  }

  test('she is asked to sign in again, signs in, and the deploy runs as her', async ({
    page,
  }) => {
    await signInAs(page, 'Eve Ellis');
    await openDeployForm(page, answers);
    await page.getByRole('button', { name: 'Review' }).click();
    // The silent refresh fails, as it does when Entra wants the person.
    await failNextTokenRequests(1);
    await page.getByRole('button', { name: 'Create' }).click();

    const dialog = page.getByRole('dialog', {
      name: 'Sign in again to deploy as yourself',
    });
    await expect(dialog).toBeVisible();
    await expect(page).not.toHaveURL(/\/create\/tasks\//);

    signInInPopups(page);
    await dialog
      .getByRole('button', { name: 'Sign in with Microsoft' })
      .click();

    await expect(page).toHaveURL(/\/create\/tasks\/[^/]+/);
    await expect(dialog).toBeHidden();
    const taskId = page.url().split('/create/tasks/')[1].split(/[/?#]/)[0];
    await expect(
      page.getByRole('link', { name: /^Deployment deploy-\d+\b/ }),
    ).toBeVisible({ timeout: 60_000 });
    const call = (await deployCalls()).find(c => c.payload.taskId === taskId);
    expect(call).toMatchObject({ oid: EVE_OID, payload: { version: '2.0.0' } });
  });

  test('cancelling creates no task and gives her the form back with her answers', async ({
    page,
  }) => {
    await signInAs(page, 'Eve Ellis');
    await openDeployForm(page, { ...answers, version: '2.0.1' });
    await page.getByRole('button', { name: 'Review' }).click();
    await failNextTokenRequests(1);
    await page.getByRole('button', { name: 'Create' }).click();

    const dialog = page.getByRole('dialog', {
      name: 'Sign in again to deploy as yourself',
    });
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // The form again, at the same address. Her portal session went with
    // the failed refresh, so the app may ask her to sign in first.
    await expect(page).toHaveURL(
      /\/create\/templates\/default\/deploy-component/,
    );
    const version = page.getByLabel('Version');
    const signIn = page.getByRole('button', { name: 'Sign In' });
    await expect(version.or(signIn)).toBeVisible({ timeout: 30_000 });
    if (await signIn.isVisible()) {
      signInInPopups(page);
      await signIn.click();
    }
    await expect(version).toHaveValue('2.0.1', { timeout: 30_000 });
    expect(
      (await deployCalls()).filter(c => c.payload.version === '2.0.1'),
    ).toEqual([]);
  });
});
