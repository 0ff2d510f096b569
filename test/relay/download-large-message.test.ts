import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { sha256 } from '../support/mailbox-state.ts';
import { bigMessage, cliPeakRssMb, peakGrowth, RSS_GROWTH_BUDGET_MB } from '../support/large-message.ts';

const USERS = [
  { name: 'small', password: 'small-Export-pw' },
  { name: 'large', password: 'large-Export-pw' },
];
// The export reads blobs in 1 MiB chunks through a 1 MiB write buffer: peak RSS should not move
// with the message's size. 100 MB: the figure, far enough above the 20 MB budget that
// holding it whole shows.
const BIG_MB = Number(process.env.MK_BIG_MB ?? 100);

describe.skipIf(!dovecotAvailable() || process.platform !== 'linux')('exporting a very large message', () => {
  let dc: Dovecot;
  let work: string;
  let big: Buffer;
  let small: Buffer;

  beforeAll(async () => {
    dc = await startDovecot({ users: USERS });
    small = Buffer.from('From: a@b\r\nSubject: small\r\nMessage-ID: <s@b>\r\n\r\nsmall\r\n');
    big = bigMessage(
      'From: big@example.org\r\nSubject: large\r\nMessage-ID: <big-export@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n',
      BIG_MB,
    );
    dc.writeMaildir('small', '', [{ raw: small, flags: 'S' }]);
    dc.writeMaildir('large', '', [{ raw: small, flags: 'S' }, { raw: big, flags: 'S' }]);
    dc.settle('small');
    dc.settle('large');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-export-large-'));
    for (const u of USERS) {
      const r = await runBackup({ archiveDir: path.join(work, u.name), account: { host: '127.0.0.1', port: dc.port, security: 'none', user: u.name, password: u.password } });
      expect(r.status).toBe('completed');
    }
  }, 120_000);

  afterAll(async () => {
    await dc?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  it(`streams: exporting a ${BIG_MB} MB message raises peak RSS by less than ${RSS_GROWTH_BUDGET_MB} MB, and every message comes out byte-identical`, async () => {
    const run = (user: string, i: number) => cliPeakRssMb(['export', '--archive', path.join(work, user), '--format', 'eml-zip', '--out', path.join(work, `${user}-${i}.zip`), '--json']);
    // Interleaved, twice, each side the lower of its runs (see peakGrowth).
    const g = await peakGrowth((i) => run('small', i), (i) => run('large', i));
    console.log(`export peak RSS: small archive ${g.small.toFixed(1)} MB, with the ${BIG_MB} MB message ${g.large.toFixed(1)} MB (+${g.growth.toFixed(1)} MB)`);
    expect(g.growth, `small ${g.small.toFixed(1)} MB, large ${g.large.toFixed(1)} MB`).toBeLessThan(RSS_GROWTH_BUDGET_MB);
    const py = spawnSync('python3', ['-c', 'import sys,zipfile,hashlib; z=zipfile.ZipFile(sys.argv[1]); print(" ".join(sorted(hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist() if not i.is_dir())))', path.join(work, 'large-2.zip')], { encoding: 'utf8', maxBuffer: 1 << 20 });
    expect(py.status, py.stderr).toBe(0);
    expect(py.stdout.trim().split(' ')).toEqual([sha256(small), sha256(big)].sort());
  }, 300_000);
});
