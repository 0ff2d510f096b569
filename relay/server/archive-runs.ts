import { ARCHIVE_BROWSE_LIMITS } from '../../lib/limits.ts';
import type { ArchiveRun } from '../../lib/protocol/archive-browse.ts';
import { openArchiveForReading } from '../archive/archive-reader.ts';
import { resolveSourceAccount } from '../jobs/restore-select.ts';

/**
 * The backup runs of a relay account's archive, newest first: the point-in-time switch offers each
 * (restore and search take its id as `atRun`). A relay account's archive holds that one account.
 */
export function listRuns(archiveDir: string): ArchiveRun[] {
  const db = openArchiveForReading(archiveDir);
  try {
    return db
      .prepare<[number], { id: number; started_at: string; finished_at: string | null; status: string | null; new_messages: number }>(
        'SELECT id, started_at, finished_at, status, new_messages FROM runs ORDER BY id DESC LIMIT ?',
      )
      .all(ARCHIVE_BROWSE_LIMITS.runsMax)
      .map((r) => ({ id: r.id, startedAt: r.started_at, finishedAt: r.finished_at, status: r.status, newMessages: r.new_messages }));
  } finally {
    db.close();
  }
}

/** The archived account a relay account's archive holds, as the search module names it: USER@HOST:PORT. */
export function archivedAccountOf(archiveDir: string): string {
  const db = openArchiveForReading(archiveDir);
  try {
    const id = resolveSourceAccount(db, undefined);
    const a = db.prepare<[number], { user: string; host: string; port: number }>('SELECT user, host, port FROM accounts WHERE id = ?').get(id)!;
    return `${a.user}@${a.host}:${a.port}`;
  } finally {
    db.close();
  }
}
