import fs from 'node:fs';
import path from 'node:path';
import type { ArchiveTotals } from '../../lib/protocol/account-state.ts';

/**
 * Messages and bytes in an account's archive: one COUNT/SUM over the blobs table (milliseconds for
 * tens of thousands of messages). Null when there is no archive yet or it cannot be read now (a
 * damaged index is verify's and repair's business, not the status line's).
 */
export async function readArchiveTotals(archiveDir: string): Promise<ArchiveTotals | null> {
  if (!fs.existsSync(path.join(archiveDir, 'index.sqlite'))) return null;
  try {
    // Loaded on first use, like the engines: the door comes up without the archive code.
    const { openArchiveForReading } = await import('../archive/archive-reader.ts');
    const db = openArchiveForReading(archiveDir, { onWarning: () => undefined });
    try {
      const t = db.prepare('SELECT COUNT(*) AS n, SUM(length) AS b FROM blobs').get() as { n: number; b: number | null };
      return { messages: t.n, bytes: t.b ?? 0 };
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}
