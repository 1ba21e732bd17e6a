/**
 * Galata / Playwright configuration for the repro-jupyter UI tests.
 *
 * Uses the system (Debian) chromium: the Playwright browser download is not
 * reachable here, so never run `npx playwright install`.
 */
import { defineConfig } from '@playwright/test';
// eslint-disable-next-line @typescript-eslint/no-var-requires
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { galata } = require('@jupyterlab/galata');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// jupyter_server_test_config.py reads the same variable
const PORT = process.env.REPRO_UI_PORT || '8888';

export default defineConfig({
  ...baseConfig,
  reporter: [
    ['list'],
    ['html', { open: 'never' }],
    ['json', { outputFile: 'test-results/results.json' }]
  ],
  workers: 1, // one JupyterLab + one browser on a 2-core machine
  retries: process.env.CI ? 1 : 0,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${PORT}`,
    headless: true,
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    },
    // galata's default 'retain-on-failure' needs Playwright's own ffmpeg download.
    video: 'off',
    trace: 'retain-on-failure',
    // Verify asks "Restart the kernel?" by default; the specs run as a user who
    // ticked "Don't ask again" (guarded_verify.spec.ts puts the default back).
    mockSettings: {
      ...galata.DEFAULT_SETTINGS,
      'repro-jupyter:plugin': { askBeforeRestart: false }
    }
  },
  webServer: {
    command: 'jupyter lab --config jupyter_server_test_config.py',
    url: `http://127.0.0.1:${PORT}/lab`,
    timeout: 120_000,
    reuseExistingServer: !process.env.CI
  }
});
