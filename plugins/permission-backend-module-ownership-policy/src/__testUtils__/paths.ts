import fs from 'node:fs';
import path from 'node:path';

/** This package's directory, found through the package manager (no __dirname). */
export const PACKAGE_ROOT = path.dirname(
  require.resolve(
    '@internal/plugin-permission-backend-module-ownership-policy/package.json',
  ),
);

/** The repository root, where app-config.yaml lives. */
export const REPO_ROOT = path.resolve(PACKAGE_ROOT, '..', '..');

/** The case files shipped in policy-tests/. */
export const SHIPPED_CASE_FILES = fs
  .readdirSync(path.join(PACKAGE_ROOT, 'policy-tests'))
  .filter(f => f.endsWith('.yaml'))
  .map(f => path.join(PACKAGE_ROOT, 'policy-tests', f));

/** The catalog fixture the shipped cases and the integration tests share. */
export const CATALOG_FIXTURE = path.join(
  PACKAGE_ROOT,
  'policy-tests',
  'fixtures',
  'seeded-org-catalog.yaml',
);
