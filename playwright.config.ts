import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './test/e2e',
  testMatch: /.*\.spec\.ts$/,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  // One persistent Chromium (plus relay and Dovecot) at a time on a 2-core machine.
  workers: 1,
  retries: 0,
  reporter: process.env.PW_JSON_OUT
    ? [['list'], ['json', { outputFile: process.env.PW_JSON_OUT }]]
    : [['list']],
  outputDir: 'test-results',
  // An action that cannot happen (an option that is not there) fails in seconds, not at the test's timeout.
  use: { trace: 'retain-on-failure', actionTimeout: 30_000 },
});
