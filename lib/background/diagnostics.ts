import { EXTENSION_LIMITS } from '../limits.ts';
import { REPORT_PROBLEM_URL } from '../status/report-problem.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { getSetting } from '../storage/settings.ts';
import type { RelayDiagnostics } from './coordinator.ts';
import { technicalText } from '../status/server-text-words.ts';

export interface DiagnosticsMeta {
  extensionVersion: string;
  userAgent: string;
}

/**
 * The "Copy diagnostics" report: versions, job states, recent history and error codes. Redacted
 * by construction: it is built from an allow-list of fields, so display names, email addresses and
 * user names never enter it (accounts appear as "account-1", ...), and no secret exists in the store
 * anyway. The server's host and port do enter it, on purpose: a Connection Error cannot be diagnosed
 * without knowing which server did not answer, and a mail server's name is no secret.
 */
export async function buildDiagnostics(db: MailkeepDb, meta: DiagnosticsMeta, now = Date.now(), relay?: RelayDiagnostics): Promise<string> {
  const relayState = await getSetting(db, 'relayState');
  const [accounts, jobs, events] = await db.transaction('r', db.accounts, db.jobs, db.jobEvents, () =>
    Promise.all([db.accounts.toArray(), db.jobs.toArray(), db.jobEvents.orderBy('id').reverse().limit(EXTENSION_LIMITS.diagnosticsMaxEvents).toArray()]),
  );
  const ref = new Map(accounts.map((a, i) => [a.id, `account-${i + 1}`]));
  // The relay's message, with the server's raw reply in it (the page shows it only as technical
  // detail): kept for the report, its secrets hidden (technicalText) and every account's address,
  // user name and display name replaced by its ref, so the allow-list's promise holds.
  const names = accounts.flatMap((a) => [a.email, a.username, a.displayName].filter((n) => n.length >= 3).map((n) => [n, ref.get(a.id) ?? 'account'] as const));
  const scrub = (message: string | undefined): string | null => {
    if (!message) return null;
    let text = technicalText(message);
    for (const [name, r] of names) text = text.split(name).join(`<${r}>`);
    return text;
  };
  const report = {
    report: 'Mailkeep diagnostics',
    reportTo: REPORT_PROBLEM_URL,
    generatedAt: new Date(now).toISOString(),
    extensionVersion: meta.extensionVersion,
    userAgent: meta.userAgent,
    accounts: accounts.map((a) => ({ ref: ref.get(a.id), host: a.host, port: a.port, security: a.security, schedule: a.schedule })),
    jobs: jobs.map((j) => ({
      account: ref.get(j.accountId) ?? 'removed',
      kind: j.kind,
      status: j.status,
      attempt: j.attempt,
      lastErrorCode: j.lastErrorCode,
      message: scrub(j.outcome?.message),
      updatedAt: new Date(j.updatedAt).toISOString(),
      nextRetryAt: j.nextRetryAt === null ? null : new Date(j.nextRetryAt).toISOString(),
      following: j.relayJobId ?? null,
      progress: { messagesDone: j.progress.messagesDone, messagesTotal: j.progress.messagesTotal, bytes: j.progress.bytes },
    })),
    // The relay as the worker last saw it and as it answers now. The pairing token is kept in
    // browser.storage.local and never read here; relay job ids are random and name nobody.
    relay: {
      state: relayState.state,
      stateAt: relayState.at ? new Date(relayState.at).toISOString() : null,
      errorCode: relayState.errorCode,
      version: relay?.health?.version ?? relayState.relayVersion,
      protocolVersions: relay?.health?.protocolVersions ?? null,
      paired: relay?.health?.paired ?? null,
      healthError: relay?.healthError ?? null,
      jobs: (relay?.jobs ?? []).map((j) => ({
        id: j.id,
        account: ref.get(j.accountId) ?? 'unknown',
        kind: j.kind,
        status: j.status,
        phase: j.phase,
        errorCode: j.errorCode,
        createdAt: j.createdAt,
        updatedAt: j.updatedAt,
        progress: { messagesDone: j.progress.messagesDone, messagesTotal: j.progress.messagesTotal, bytes: j.progress.bytes },
      })),
    },
    recentEvents: events.map((e) => ({
      account: ref.get(e.accountId) ?? 'removed',
      kind: e.kind,
      from: e.from,
      to: e.to,
      at: new Date(e.at).toISOString(),
      errorCode: e.errorCode,
    })),
  };
  return JSON.stringify(report, null, 2);
}
