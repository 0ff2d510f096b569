/**
 * Whether this build answers the test-only service-worker messages (`dev:seed`, `dev:history`).
 * (The retry delay is the relay's now; its tests move the relay's clock instead.) Fixed at build
 * time: on in `wxt build --mode test` (what the end-to-end tests, `npm run test:e2e`,
 * scripts/test-all.mjs and the popup bench build) and under vitest (mode "test"); off in the
 * production build (`npm start`, `npm run build`, `npm run demo`), whose users must not be able to
 * seed fake accounts or history.
 */
export const TEST_HOOKS_BUILD: boolean = import.meta.env.MODE === 'test';

export function isTestOnlyMessage(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && String((raw as { type?: unknown }).type).startsWith('dev:');
}
