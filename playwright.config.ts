import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';
import { generateProjects } from '@backstage/e2e-test-utils/playwright';

/*
 * E2E tests for every package with an e2e-tests/ folder.
 *
 * In CI (CI=1) the app is built first (`yarn build:e2e`) and the backend
 * serves it on :7007; locally the dev servers (`yarn dev`) are reused or
 * started. Debian's Chromium is used when installed, because Playwright's own
 * browser download needs network access many machines do not have.
 */
const systemChromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  p => existsSync(p),
);

const launchOptions = systemChromium
  ? {
      executablePath: systemChromium,
      args: [
        // Root (containers, CI) cannot use Chromium's sandbox.
        ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
        '--disable-gpu',
        // No calls home: offline machines refuse them, slowly.
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    }
  : undefined;

export default defineConfig({
  timeout: 60_000,

  expect: {
    timeout: 30_000,
  },

  webServer: process.env.CI
    ? [
        {
          // The backend serves the app built by `yarn build:e2e`; the Entra
          // emulator runs beside it.
          command: 'yarn dev:backend',
          // The app is served by the backend, so both share its origin.
          env: {
            APP_CONFIG_app_baseUrl: 'http://localhost:7007',
            // The access tests register components by URL from a fixture
            // server on this port (packages/app/e2e-tests/access.test.ts);
            // templates register what publish:local serves (app-config.yaml).
            APP_CONFIG_backend_reading_allow: JSON.stringify([
              { host: 'localhost:7199' },
              {
                host: 'localhost:7007',
                paths: ['/api/scaffolder/local-publish/'],
              },
            ]),
          },
          url: 'http://localhost:7007/.backstage/health/v1/readiness',
          reuseExistingServer: false,
          timeout: 180_000,
        },
      ]
    : [
        {
          command: 'yarn dev',
          url: 'http://localhost:3000',
          reuseExistingServer: true,
          timeout: 180_000,
        },
      ],

  forbidOnly: !!process.env.CI,

  retries: process.env.CI ? 1 : 0,

  reporter: [
    ['list'],
    ['html', { open: 'never', outputFolder: 'e2e-test-report' }],
    ['json', { outputFile: 'node_modules/.cache/e2e-results.json' }],
  ],

  use: {
    actionTimeout: 0,
    baseURL:
      process.env.PLAYWRIGHT_URL ??
      (process.env.CI ? 'http://localhost:7007' : 'http://localhost:3000'),
    screenshot: 'only-on-failure',
    trace: 'on-first-retry',
  },

  outputDir: 'node_modules/.cache/e2e-test-results',

  projects: generateProjects().map(project => ({
    ...project,
    use: {
      ...project.use,
      ...(systemChromium ? { channel: undefined, launchOptions } : {}),
    },
  })),
});
