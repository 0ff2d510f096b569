/**
 * Sentences shared by several hints, so that a promise the product makes ("retries by itself",
 * "Copy diagnostics") is worded once. Each one must stay true of the product (design.md section 2):
 * - AUTO_RETRY: the relay keeps it, with the browser closed: for backups its scheduler
 *   (relay/state/scheduler.ts, AccountState.retryAt); for runs the user started its job retries
 *   (relay/state/job-retries.ts, JobSnapshot.retryAt), SCHEDULE_LIMITS.autoRetryDelayMs (3 hours)
 *   after the run ended. The extension only shows the relay's time (JobRow.nextRetryAt).
 * - REPORT: the card shows a "Copy diagnostics" button and a "Report a problem" link
 *   (REPORT_PROBLEM_URL) whenever StatusInfo.offersDiagnostics is true.
 */
export const AUTO_RETRY = 'Mailkeep tries again by itself within a few hours.';
export const REPORT = 'If this does not happen, click "Copy diagnostics" and report the problem with the link below.';
export const REPORT_AGAIN = 'If it happens again, click "Copy diagnostics" and report the problem with the link below.';
export const EDIT_PASSWORD =
  'Click the "Edit" button and update the password for this email. If the error continues, contact your email provider.';

/**
 * How to start the relay, wherever the product says it (popup banner, badge tooltip, options page,
 * the RELAY_UNREACHABLE hint). Never "npx mailkeep ...": outside the Mailkeep folder npx would
 * fetch an unrelated registry package of that name.
 */
export const START_RELAY_NPM = 'npm start';
export const START_RELAY_NODE = 'node bin/mailkeep.js relay';
export const START_RELAY_COMMAND = `run \`${START_RELAY_NPM}\` in the Mailkeep folder (or \`${START_RELAY_NODE}\`)`;
