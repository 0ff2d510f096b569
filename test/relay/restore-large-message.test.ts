import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { expectInboxHoldsFixture, expectStreamedTwice } from '../support/large-message-expect.ts';
import { cliPeakRssMb, largeMessageFixture, RSS_GROWTH_BUDGET_MB } from '../support/large-message.ts';

const pw = (u: string): string => `${u}-Restore-pw`;
const USERS = ['src-small', 'src-large', 'dst-small-1', 'dst-small-2', 'dst-large-1', 'dst-large-2'];
// 100 MB: the figure, and far enough above the 20 MB budget that holding it whole shows.
const BIG_MB = Number(process.env.MK_BIG_MB ?? 100);

describe.skipIf(!dovecotAvailable() || process.platform !== 'linux')('restoring a very large message', () => {
  let dc: Dovecot;
  let work: string;
  let fixture: Awaited<ReturnType<typeof largeMessageFixture>>;

  beforeAll(async () => {
    dc = await startDovecot({ users: USERS.map((name) => ({ name, password: pw(name) })) });
    fixture = await largeMessageFixture(dc, pw, BIG_MB);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-restore-large-'));
    for (const u of ['src-small', 'src-large']) {
      const r = await runBackup({ archiveDir: path.join(work, u), account: { host: '127.0.0.1', port: dc.port, security: 'none', user: u, password: pw(u) } });
      expect(r.status).toBe('completed');
    }
  }, 180_000);

  afterAll(async () => {
    await dc?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  it(`streams: restoring a ${BIG_MB} MB message raises peak RSS by less than ${RSS_GROWTH_BUDGET_MB} MB, byte-identical with its flags, keywords and INTERNALDATE, and found again without a Message-ID`, async () => {
    const run = (from: string, to: string) =>
      cliPeakRssMb(['restore', '--archive', path.join(work, from), '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', to, '--password-env', 'MK_PW', '--json', '--max-attempts', '1'], { MK_PW: pw(to) });
    // Each into its own empty account, twice (see peakGrowth).
    await expectStreamedTwice('restore', run, BIG_MB, { first: { statusId: 'completed', restored: 4 }, again: { restored: 0, alreadyPresent: 4 } });
    await expectInboxHoldsFixture(await dc.client('dst-large-1', pw('dst-large-1')), fixture);
  }, 300_000);
});
