import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect } from '@playwright/test';
import { signInAs } from './signIn';

// The backend builds the repository's own docs/ (backstage.io/techdocs-ref: dir:.).
const mkdocsYml = path.resolve(__dirname, '../../../mkdocs.yml');

// The first view builds the docs with mkdocs (techdocs.builder: local).
test.setTimeout(180_000);

test("the portal's own component shows its docs/ in the Docs tab, with its pages", async ({
  page,
}) => {
  const mkdocsYmlBefore = readFileSync(mkdocsYml, 'utf8');
  await signInAs(page, 'Eve Ellis');
  // The component page title is also "Backstage Entra Starter": look inside
  // the reader's content only.
  const docs = page.getByTestId('techdocs-native-shadowroot');
  await expect(async () => {
    await page.goto('/catalog/default/component/backstage-entra-starter/docs');
    // docs/index.md's "# Backstage Entra Starter", rendered by mkdocs.
    await expect(
      docs.getByRole('heading', {
        level: 1,
        name: 'Backstage Entra Starter',
      }),
    ).toBeVisible({ timeout: 60_000 });
    // Right after startup the catalog may still be processing the entity.
  }).toPass({ timeout: 150_000 });
  await expect(docs).toContainText('developer portal');
  expect(await page.getByText(/build.*fail|failed to build/i).count()).toBe(0);

  // mkdocs.yml's nav leads to the other pages of docs/, inside the tab.
  await docs
    .getByRole('link', { name: 'Architecture', exact: true })
    .first()
    .click();
  await expect(page).toHaveURL(
    /\/catalog\/default\/component\/backstage-entra-starter\/docs\/architecture\/?$/,
  );
  await expect(
    docs.getByRole('heading', { level: 1, name: 'Architecture' }),
  ).toBeVisible();

  // The build worked on a copy: the working tree's mkdocs.yml is as written.
  expect(readFileSync(mkdocsYml, 'utf8')).toBe(mkdocsYmlBefore);
});
