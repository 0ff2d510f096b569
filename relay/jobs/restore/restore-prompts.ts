import { openArchiveForReading } from '../../archive/archive-reader.ts';
import type { RestoreOptions } from './restore-types.ts';
import { resolveSourceAccount, selectCandidates } from '../restore-select.ts';

/**
 * One-click restore prompts: after a backup run, per folder, the messages that disappeared from
 * the server since the previous run (deleted: a message moved to another folder is not offered) ("37 messages were removed from INBOX since Tuesday 14:02.
 * Restore them?"). Each prompt is exactly the restore scope `{ disappearedInRun: runId, folder }`
 * (RestoreParams over the relay protocol), so one click restores that set to where it was, and
 * clicking twice appends nothing more. Asked again about an older run, it leaves out what a later
 * backup found on the server again, so the extension can take back a prompt once the mail was
 * restored from anywhere (lib/background/restore-prompts.ts). Whether to show it (any deletion, bulk only, never) is the
 * extension's setting, not decided here.
 */
export interface RestorePrompt {
  runId: number;
  folder: string;
  messages: number;
  bytes: number;
  /** When the previous run started (the messages were there then), or null for none. */
  since: string | null;
  /** When this run started (they were gone then). */
  at: string;
}

export function restorePrompts(archiveDir: string, opts: { source?: RestoreOptions['source']; runId?: number } = {}): RestorePrompt[] {
  const db = openArchiveForReading(archiveDir);
  try {
    const accountId = resolveSourceAccount(db, opts.source);
    const runId = opts.runId ?? db.prepare<[number], number | null>('SELECT MAX(id) FROM runs WHERE account_id = ?').pluck().get(accountId) ?? null;
    if (runId === null) return [];
    // The very selection the one-click restore will make, so the prompt's count is what comes back.
    // ...less what is back on the server since, as the latest backup saw it (restored from the
    // CLI, the dashboard or another mail client): a prompt about mail that is there again is false.
    const backNow = db.prepare<[number, string], number>(
      'SELECT 1 FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.account_id = ? AND m.blob_hash = ? AND m.gone_run IS NULL LIMIT 1',
    );
    const messages = selectCandidates(db, accountId, { disappearedInRun: runId }).filter((m) => backNow.get(accountId, m.hash) === undefined);
    if (!messages.length) return [];
    const at = db.prepare<[number], string>('SELECT started_at FROM runs WHERE id = ?').pluck().get(runId) ?? '';
    const since = db.prepare<[number, number], string>('SELECT started_at FROM runs WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT 1').pluck().get(accountId, runId) ?? null;
    const byFolder = new Map<string, RestorePrompt>();
    for (const m of messages) {
      const p = byFolder.get(m.folder) ?? { runId, folder: m.folder, messages: 0, bytes: 0, since, at };
      p.messages++;
      p.bytes += m.size;
      byFolder.set(m.folder, p);
    }
    return [...byFolder.values()];
  } finally {
    db.close();
  }
}
