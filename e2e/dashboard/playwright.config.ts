// Playwright against the whole platform and the built dashboard (global-setup.ts starts both), in Debian's
// Chromium (Playwright's own browsers cannot be downloaded here). No retries: a flaky test is a bug.
import path from 'node:path';
import { defineConfig } from '@playwright/test';

export const ARTIFACTS = path.resolve(import.meta.dirname, '../../.artifacts');

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  retries: 0,
  workers: 1,
  timeout: 180_000,
  expect: { timeout: 15_000 },
  outputDir: path.join(ARTIFACTS, 'playwright'),
  globalSetup: './global-setup.ts',
  reporter: [['list']],
  use: {
    baseURL: process.env.DASHBOARD_URL,
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
});
