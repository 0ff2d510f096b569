import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { JobSnapshot } from '../../lib/protocol/common.ts';

/**
 * The relay's own record of its jobs (state.sqlite in its data dir), newest first, read-only, for
 * tests that check the relay's side without a second client. Empty when the relay has none yet.
 */
export function relayJobRecords(dataDir: string): JobSnapshot[] {
  const file = path.join(dataDir, 'state.sqlite');
  if (!fs.existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT snapshot FROM jobs ORDER BY created_at DESC').all() as { snapshot: string }[]).map((r) => JSON.parse(r.snapshot) as JobSnapshot);
  } finally {
    db.close();
  }
}
