import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { cliPeakRssMb, largeMessageFixture, RSS_GROWTH_BUDGET_MB } from '../support/large-message.ts';
import { serverState, sha256 } from '../support/mailbox-state.ts';
import fs from 'node:fs';

const pw = (u: string): string => `${u}-Migrate-pw`;
const USERS = ['src-small', 'src-large', 'dst-small', 'dst-large'];
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
    const s = await run('src-small', 'dst-small');
    const l = await run('src-large', 'dst-large');
    expect(s.code, s.stderr).toBe(0);
    expect(l.code, l.stderr).toBe(0);
    const growth = l.peak - s.peak;
    console.log(`migrate peak RSS: small messages ${s.peak.toFixed(1)} MB, with the ${BIG_MB} MB message ${l.peak.toFixed(1)} MB (+${growth.toFixed(1)} MB)`);
    expect(growth, `small ${s.peak.toFixed(1)} MB, large ${l.peak.toFixed(1)} MB`).toBeLessThan(RSS_GROWTH_BUDGET_MB);
    // Again: everything is there; the large message has no Message-ID, so it is found by hashing
    // its content on the server, in partial FETCHes, not whole.
    const s2 = await run('src-small', 'dst-small');
    const l2 = await run('src-large', 'dst-large');
    expect(l2.code, l2.stderr).toBe(0);
    expect(l2.json).toMatchObject({ migrated: 0, alreadyPresent: 4 });
    console.log(`second migrate (all present) peak RSS: small ${s2.peak.toFixed(1)} MB, large ${l2.peak.toFixed(1)} MB (+${(l2.peak - s2.peak).toFixed(1)} MB)`);
    expect(l2.peak - s2.peak, `small ${s2.peak.toFixed(1)} MB, large ${l2.peak.toFixed(1)} MB`).toBeLessThan(RSS_GROWTH_BUDGET_MB);
    const c = await dc.client('dst-large', pw('dst-large'));
    try {
      const inbox = (await serverState(c)).get('INBOX')!;
      expect(inbox.map(({ hash, flags, internalDate }) => ({ hash, flags, internalDate })).sort((a, b) => a.internalDate.localeCompare(b.internalDate))).toEqual(fixture.expected);
      expect(inbox.map((m) => m.hash)).toContain(sha256(fixture.big));
    } finally {
      await c.logout();
    }
  }, 180_000);
});
