import type { ErrorCode } from '../protocol/error-codes.ts';
import type { ConnectionChecks } from '../protocol/relay-frames.ts';
import { errorHint, FORM_HINTS } from './error-hints.ts';
import { serverTextIn } from './server-text-words.ts';

/**
 * Test connection's answer on the account form, in words: what failed first, why (the server's
 * reply translated, lib/status/server-text-words.ts), what to change on this very form ("above",
 * never 'Click "Edit"': the user is in it), then what was checked. The stable code stays out of
 * the sentence (it is on the element for tests and diagnostics).
 */
export type TestResult =
  | { ok: true; checks?: ConnectionChecks }
  | { ok: false; errorCode: ErrorCode; message: string; checks?: ConnectionChecks; advice?: string | null };

export type Security = 'tls' | 'starttls' | 'none';


function securityWords(security: Security): string {
  return security === 'tls' ? 'secure connection (TLS)' : security === 'starttls' ? 'secure connection (STARTTLS)' : 'secure connection';
}

/** "Reached the server: yes. Secure connection (TLS): yes. Signed in: no. Folders listed: not tried." */
export function checkedText(checks: ConnectionChecks, security: Security): string {
  const secureLine = security === 'none' ? 'Encryption: off (security is set to None)' : `${cap(securityWords(security))}: ${!checks.reached ? 'not tried' : checks.secure ? 'yes' : 'no'}`;
  const parts = [
    `Reached the server: ${checks.reached ? 'yes' : 'no'}`,
    secureLine,
    `Signed in: ${checks.signedIn ? 'yes' : checks.reached && (checks.secure || security === 'none') ? 'no' : 'not tried'}`,
    `Folders listed: ${checks.folders !== null ? `yes (${checks.folders})` : checks.signedIn ? 'no' : 'not tried'}`,
  ];
  return `Checked: ${parts.join('. ')}.`;
}

function cap(s: string): string {
  return `${s.charAt(0).toUpperCase()}${s.slice(1)}`;
}

/** The step that failed, as the sentence's start. */
function failedStep(checks: ConnectionChecks | undefined, security: Security, code: ErrorCode): string {
  if (!checks) return 'The connection test failed';
  if (!checks.reached) return 'Could not reach the server';
  if (security !== 'none' && !checks.secure) return `Could not set up a ${securityWords(security)}`;
  if (!checks.signedIn) return code === 'SERVER_BUSY' || code === 'PROVIDER_LIMIT_PAUSED' ? 'The server did not let the account sign in now' : 'Could not sign in';
  return 'Could not list the folders';
}

/** An error hint without its "in Edit" advice, for a code the form table does not word. */
function withoutEdit(hint: string | null): string {
  if (!hint) return 'Check the settings above, then test again.';
  const kept = hint.split(/(?<=[.!?])\s+/).filter((s) => !/"Edit"/.test(s));
  return kept.join(' ') || 'Check the settings above, then test again.';
}

/** `text`: what happened and what to do; `checked`: each step and how it went, on a line of its own (null on success: the text says it). */
export function testConnectionText(result: TestResult, ctx: { security: Security; oauth?: boolean }): { ok: boolean; text: string; checked: string | null } {
  if (result.ok) {
    const c = result.checks;
    const signed = ctx.oauth ? 'the server accepted the sign-in' : 'the server accepted the user name and password';
    if (!c) return { ok: true, text: `Connected: ${signed}.`, checked: null };
    const secure = ctx.security === 'none' ? 'not encrypted (security is set to None)' : securityWords(ctx.security);
    const folders = c.folders === null ? '' : `, ${c.folders} ${c.folders === 1 ? 'folder' : 'folders'} listed`;
    return { ok: true, text: `Connected: reached the server, ${secure}, ${signed}${folders}.`, checked: null };
  }
  const step = failedStep(result.checks, ctx.security, result.errorCode);
  const known = serverTextIn(result.message);
  // The server's own reason first, when Mailkeep knows it; then one piece of advice for this form.
  const cause = known ? ` ${known.words}` : '';
  const advice = result.advice ?? FORM_HINTS[result.errorCode] ?? withoutEdit(errorHint(result.errorCode));
  return { ok: false, text: `${step}.${cause} ${advice}`, checked: result.checks ? checkedText(result.checks, ctx.security) : null };
}
