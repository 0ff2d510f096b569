import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { cliPeakRssMb, largeMessageFixture, peakGrowth, RSS_GROWTH_BUDGET_MB } from '../support/large-message.ts';
import { serverState, sha256 } from '../support/mailbox-state.ts';
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
    const first = await peakGrowth((i) => run('src-small', `dst-small-${i}`), (i) => run('src-large', `dst-large-${i}`));
    console.log(`migrate peak RSS: small messages ${first.small.toFixed(1)} MB, with the ${BIG_MB} MB message ${first.large.toFixed(1)} MB (+${first.growth.toFixed(1)} MB)`);
    expect(first.last.json).toMatchObject({ statusId: 'completed', migrated: 4 });
    expect(first.growth, `small ${first.small.toFixed(1)} MB, large ${first.large.toFixed(1)} MB`).toBeLessThan(RSS_GROWTH_BUDGET_MB);
    // Again: everything is there; the large message has no Message-ID, so it is found by hashing
    // its content on the server, in partial FETCHes, not whole.
    const again = await peakGrowth((i) => run('src-small', `dst-small-${i}`), (i) => run('src-large', `dst-large-${i}`));
    expect(again.last.json).toMatchObject({ migrated: 0, alreadyPresent: 4 });
    console.log(`second migrate (all present) peak RSS: small ${again.small.toFixed(1)} MB, large ${again.large.toFixed(1)} MB (+${again.growth.toFixed(1)} MB)`);
    expect(again.growth, `small ${again.small.toFixed(1)} MB, large ${again.large.toFixed(1)} MB`).toBeLessThan(RSS_GROWTH_BUDGET_MB);
    const c = await dc.client('dst-large-1', pw('dst-large-1'));
    try {
      const inbox = (await serverState(c)).get('INBOX')!;
      expect(inbox.map(({ hash, flags, internalDate }) => ({ hash, flags, internalDate })).sort((a, b) => a.internalDate.localeCompare(b.internalDate))).toEqual(fixture.expected);
      expect(inbox.map((m) => m.hash)).toContain(sha256(fixture.big));
    } finally {
      await c.logout();
    }
  }, 300_000);
});
