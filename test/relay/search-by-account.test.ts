import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { RelayProcess, tempDataDir } from './relay-harness.ts';

// A person who backs up through the relay finds and shows a message by naming the account (or by
// nothing, when there is one archive), never by the archive's folder; the real CLI, Dovecot and a
// relay data dir with no relay running.

const ok = dovecotAvailable();
let dc: Dovecot;
const D = tempDataDir();

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const p = RelayProcess.spawn(args, { env: { ...process.env, MAILKEEP_DATA_DIR: '', ...env } });
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 60_000);
  const code = await p.exit;
  clearTimeout(timer);
  return { code, out: p.stdout, err: p.stderr };
}

const mail = (subject: string, body: string) => Buffer.from(`From: Tanaka Hiro <hiro@example.jp>\r\nTo: ann@example.org\r\nSubject: ${subject}\r\nDate: Mon, 10 Nov 2025 09:00:00 +0000\r\nMessage-ID: <${subject.length}-${body.length}@example.jp>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`);

beforeAll(async () => {
  if (!ok) return;
  dc = await startDovecot({ users: [{ name: 'ann', password: 'ann-pw-77' }, { name: 'bob', password: 'bob-pw-78' }] });
  const ann = await dc.client('ann', 'ann-pw-77');
  await ann.append('INBOX', mail('会議の議事録 Lisbon trip', 'the voucher LX-4471 is attached'), []);
  await ann.append('INBOX', mail('Invoice March', 'please pay'), []);
  await ann.logout();
  const add = await cli(['account', 'add', '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', 'ann', '--email', 'ann@example.org', '--name', 'Home', '--data-dir', D], { MAILKEEP_PASSWORD: 'ann-pw-77' });
  expect(add.code, add.err).toBe(0);
  const b = await cli(['backup', '--account', 'ann@example.org', '--data-dir', D]);
  expect(b.code, b.err).toBe(0);
}, 120_000);

afterAll(async () => {
  await dc?.stop();
  fs.rmSync(D, { recursive: true, force: true });
});

describe.runIf(ok)('mailkeep search and show by account', () => {
  it('with one archived account needs neither --archive nor --account; --account finds it by address or login; show takes the id it printed', async () => {
    const only = await cli(['search', '--data-dir', D, 'LX-4471']);
    expect(only.code, only.err).toBe(0);
    expect(only.out.trim().split('\n')).toHaveLength(1);
    const id = only.out.trim().split(/\s+/).at(-1)!;
    expect(id).toMatch(/^[0-9a-f]{16}-\d+$/);
    // By address, login, or the name the pages show (account add --name), any case.
    for (const ref of ['ann@example.org', 'ann', 'Home', 'home']) {
      const r = await cli(['search', '--account', ref, '--data-dir', D, 'LX-4471']);
      expect(r.out, ref).toBe(only.out);
    }
    // The relay's default data dir when none is given: $MAILKEEP_DATA_DIR.
    expect((await cli(['search', 'LX-4471'], { MAILKEEP_DATA_DIR: D })).out).toBe(only.out);
    // The next page's command names the archive as this one did: here, by nothing but the data dir.
    const paged = await cli(['search', '--data-dir', D, '--limit', '1', 'from:hiro']);
    const more = /^more: mailkeep (.*)$/m.exec(paged.err)?.[1] ?? '';
    expect(more).toMatch(new RegExp(`^search --data-dir ${D.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --limit 1 --cursor \\S+ "from:hiro"$`));
    expect(more).not.toContain('--archive');
    const shown = await cli(['show', '--account', 'ann@example.org', '--data-dir', D, id]);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toContain('the voucher LX-4471 is attached');
  }, 60_000);

  it('lines stay in their columns with Japanese subjects (two columns a character), and a caret lands under the mistake after wide text', async () => {
    const r = await cli(['search', '--data-dir', D, 'from:hiro']);
    const lines = r.out.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    // The folder column starts at the same terminal column on every line.
    const col = (line: string) => {
      let w = 0;
      for (const ch of line.slice(0, line.indexOf('  INBOX'))) w += /[\u3000-\u9fff]/.test(ch) ? 2 : 1;
      return w;
    };
    expect(col(lines[0]!)).toBe(col(lines[1]!));
    const bad = await cli(['search', '--data-dir', D, '会議 "unclosed']);
    expect(bad.code).toBe(2);
    const [, q, caret] = bad.err.trimEnd().split('\n');
    expect(q).toBe('  会議 "unclosed');
    expect(caret).toBe(`  ${' '.repeat(5)}^`); // 会議 is four columns, then the space
  }, 60_000);

  it('says so when nothing matches (on standard error, exit 0), and names the choices or the problem when the archive cannot be told', async () => {
    const none = await cli(['search', '--data-dir', D, 'lisbn']);
    expect(none.code).toBe(0);
    expect(none.out).toBe('');
    expect(none.err).toContain('no messages match "lisbn" (check the spelling, or try fewer words)');
    const unknown = await cli(['search', '--account', 'nobody@example.org', '--data-dir', D, 'x']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('error NOT_FOUND: no account nobody@example.org');
    const both = await cli(['search', '--account', 'ann', '--archive', D, 'x']);
    expect(both.code).toBe(2);
    expect(both.err).toContain('--archive DIR or --account NAME, not both');
    for (const cmd of ['search', 'show']) {
      const archiveAndDataDir = await cli([cmd, '--archive', `${D}/archives/x`, '--data-dir', D, 'x']);
      expect([archiveAndDataDir.code, archiveAndDataDir.err], cmd).toEqual([2, expect.stringContaining('--data-dir names the relay\'s data dir for --account')]);
    }
    const empty = tempDataDir();
    const nothing = await cli(['search', '--data-dir', empty, 'x']);
    expect(nothing.code).toBe(2);
    expect(nothing.err).toContain(`no stored accounts in ${empty}`);
    fs.rmSync(empty, { recursive: true, force: true });

    // A second account with an archive: which one must be said.
    expect((await cli(['account', 'add', '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', 'bob', '--data-dir', D], { MAILKEEP_PASSWORD: 'bob-pw-78' })).code).toBe(0);
    expect((await cli(['backup', '--account', 'bob', '--data-dir', D])).code).toBe(0);
    const two = await cli(['search', '--data-dir', D, 'x']);
    expect(two.code).toBe(2);
    expect(two.err).toContain('2 accounts have archives: name one with --account (ann@example.org, bob)');
    expect((await cli(['search', '--account', 'ann', '--data-dir', D, 'LX-4471'])).out.trim().split('\n')).toHaveLength(1);
  }, 120_000);
});
