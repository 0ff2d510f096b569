import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openStateDb } from '../../relay/state/state-db.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

it('keeps state.sqlite and its WAL readable by the user only, like the credential file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailkeep-state-mode-'));
  dirs.push(dir);
  const db = openStateDb(dir);
  db.exec('CREATE TABLE IF NOT EXISTS probe (x INTEGER); INSERT INTO probe VALUES (1);');
  for (const name of fs.readdirSync(dir).filter((n) => n.startsWith('state.sqlite'))) {
    expect({ name, mode: fs.statSync(path.join(dir, name)).mode & 0o777 }).toEqual({ name, mode: 0o600 });
  }
  db.close();
});
