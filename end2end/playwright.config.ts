import { defineConfig, devices } from '@playwright/test';

/**
 * Playwright configuration for Gatehouse end-to-end tests.
 *
 * - Uses the Debian `chromium` package (/usr/bin/chromium); Playwright's own
 *   browser download is skipped (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
 * - No `webServer` block: scripts/test.sh builds the app, starts the server
 *   on a free port with a fresh data dir and passes its URL in GATEHOUSE_URL.
 */
const baseURL = process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:3000';
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: './tests',
  outputDir: 'test-results',
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1, // 2-core machine; the server and the wasm build share it
  reporter: [['list']],
  timeout: 60_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
          ],
        },
      },
    },
  ],
});
