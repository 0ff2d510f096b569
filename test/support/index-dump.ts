/** Every row of every table of an archive index, sorted: two indexes hold the same facts when their dumps are equal. */
import Database from 'better-sqlite3';

export function dumpIndex(file: string): Record<string, string[]> {
  const db = new Database(file, { readonly: true });
  try {
    const out: Record<string, string[]> = {};
    for (const t of db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all())
      out[t] = db.prepare(`SELECT * FROM "${t}"`).all().map((r) => JSON.stringify(r)).sort();
    return out;
  } finally {
    db.close();
  }
}
