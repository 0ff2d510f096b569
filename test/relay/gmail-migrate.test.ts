import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrate } from '../../relay/jobs/migrate/run-migrate.ts';
import type { MigrateOptions } from '../../relay/jobs/migrate/migrate-types.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startFakeGmail, type FakeGmail } from '../support/fake-gmail.ts';
import { gmailMailbox } from '../support/gmail-mailbox.ts';
import { serverState, sha256 } from '../support/mailbox-state.ts';

const servers: FakeGmail[] = [];
const dirs: string[] = [];
let source: FakeGmail;
const box = gmailMailbox({ inAllMail: 120, memberships: 300, spam: 2, trash: 2, seed: 21 });
const account = (g: FakeGmail) => ({ host: '127.0.0.1', port: g.port, security: 'none' as const, user: 'me@gmail.com', password: 'pw' });
beforeAll(async () => {
  source = await startFakeGmail({ messages: box.seeds, password: 'pw' });
  servers.push(source);
});
afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const migrate = (destination: MigrateOptions['destination'], extra: Partial<MigrateOptions> = {}) =>
  runMigrate({ source: account(source), destination, retry: { maxAttempts: 1, baseDelayMs: 10 }, ...extra });

function byContent(g: FakeGmail): Map<string, string> {
  return new Map(g.messages.map((m) => [sha256(m.raw), `${m.spam ? 'spam' : m.trash ? 'trash' : 'mail'} ${g.labelsOf(m).join(',')} ${[...m.flags].sort().join(',')}`]));
}

describe('migrate from Gmail', () => {
  it('into Gmail copies each message once and adds its other labels; a rerun copies nothing and sends no STORE', async () => {
    const dest = await startFakeGmail({ password: 'pw' });
    servers.push(dest);
    const records = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-gmail-migrate-'));
    dirs.push(records);
    const dry = await migrate(account(dest), { dryRun: true, appendRecordsDir: records });
    expect(dry.plan?.labels).toMatchObject({ mode: 'gmail', messages: box.seeds.length });
    expect(dry.plan?.toCopy).toBe(box.seeds.length);

    const r = await migrate(account(dest), { appendRecordsDir: records });
    expect(r.skipped).toEqual([]);
    expect(r).toMatchObject({ status: 'completed', migrated: box.seeds.length });
    expect(dest.counters.appends).toBe(box.seeds.length);
    expect(byContent(dest)).toEqual(byContent(source));

    dest.resetCounters();
    const again = await migrate(account(dest), { appendRecordsDir: records });
    expect(again).toMatchObject({ status: 'completed', migrated: 0, labelsAdded: 0 });
    expect(dest.counters.appends).toBe(0);
    expect(dest.counters.labelStores).toBe(0);
  }, 120_000);

  describe.skipIf(!dovecotAvailable())('into a real Dovecot', () => {
    let dc: Dovecot;
    beforeAll(async () => {
      dc = await startDovecot({ users: [{ name: 'first', password: 'first-Secret-pw' }] });
    });
    afterAll(async () => dc?.stop());

    it('with "first label only" copies each message once, into its first label, and says so in the dry run', async () => {
      const dest = { host: '127.0.0.1', port: dc.port, security: 'none' as const, user: 'first', password: 'first-Secret-pw' };
      // The default (one folder per label, as before) is said too: fewer messages than memberships.
      const asBefore = await migrate(dest, { dryRun: true });
      expect(asBefore.plan?.labels).toMatchObject({ mode: 'folder-per-label', messages: box.seeds.length, memberships: asBefore.plan!.messages });
      expect(asBefore.plan!.messages).toBeGreaterThan(box.seeds.length);
      const dry = await migrate(dest, { dryRun: true, labels: 'first-label' });
      expect(dry.plan?.labels).toMatchObject({ mode: 'first-label', messages: box.seeds.length });
      const r = await migrate(dest, { labels: 'first-label' });
      expect(r).toMatchObject({ status: 'completed', migrated: box.seeds.length });
      const c = await dc.client('first', 'first-Secret-pw');
      const where = new Map<string, string[]>();
      try {
        for (const [folder, msgs] of await serverState(c)) for (const m of msgs) where.set(m.hash, [...(where.get(m.hash) ?? []), folder]);
      } finally {
        await c.logout();
      }
      expect(where.size).toBe(box.seeds.length);
      for (const m of source.messages) {
        const folders = where.get(sha256(m.raw))!;
        expect(folders).toHaveLength(1);
        if (m.labels.has('\\Inbox')) expect(folders[0]).toBe('INBOX');
      }
      expect((await migrate(dest, { labels: 'first-label' })).migrated).toBe(0);
    }, 120_000);
  });
});
