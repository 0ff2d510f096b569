import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { expectInboxHoldsFixture, expectStreamedTwice } from '../support/large-message-expect.ts';
import { cliPeakRssMb, largeMessageFixture, RSS_GROWTH_BUDGET_MB } from '../support/large-message.ts';
import fs from 'node:fs';

const pw = (u: string): string => `${u}-Migrate-pw`;
const USERS = ['src-small', 'src-large', 'dst-small-1', 'dst-small-2', 'dst-large-1', 'dst-large-2'];
// 100 MB: the figure, and far enough above the 20 MB budget that holding it whole shows.
const BIG_MB = Number(process.env.MK_BIG_MB ?? 100);

describe.skipIf(!dovecotAvailable() || process.platform !== 'linux')('migrating a very large message', () => {
  let dc: Dovecot;
  let fixture: Awaited<ReturnType<typeof largeMessageFixture>>;

  beforeAll(async () => {
    dc = await startDovecot({ users: USERS.map((name) => ({ name, password: pw(name) })) });
    fixture = await largeMessageFixture(dc, pw, BIG_MB);
  }, 180_000);

  afterAll(async () => {
    await dc?.stop();
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  it(`streams: migrating a ${BIG_MB} MB message raises peak RSS by less than ${RSS_GROWTH_BUDGET_MB} MB, byte-identical with its flags, keywords and INTERNALDATE, and found again without a Message-ID`, async () => {
    const run = (from: string, to: string) =>
      cliPeakRssMb(
        ['migrate', '--from-host', '127.0.0.1', '--from-port', String(dc.port), '--from-security', 'none', '--from-user', from, '--from-password-env', 'SRC_PW',
          '--to-host', '127.0.0.1', '--to-port', String(dc.port), '--to-security', 'none', '--to-user', to, '--to-password-env', 'DST_PW', '--json', '--max-attempts', '1'],
        { SRC_PW: pw(from), DST_PW: pw(to) },
      );
    // Each into its own empty account, twice (see peakGrowth).
    await expectStreamedTwice('migrate', run, BIG_MB, { first: { statusId: 'completed', migrated: 4 }, again: { migrated: 0, alreadyPresent: 4 } });
    await expectInboxHoldsFixture(await dc.client('dst-large-1', pw('dst-large-1')), fixture);
  }, 300_000);
});
