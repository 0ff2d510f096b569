import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchiveForReading } from '../../relay/archive/archive-reader.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startImapProxy } from '../support/imap-proxy.ts';
import { serverState } from '../support/mailbox-state.ts';
import { runCli, startCli } from '../support/run-cli.ts';

const pw = (user: string): string => `${user}-Secret-pw`;
const USERS = ['src', 'dst', 'plan', 'small', 'drop', 'stop', 'flaky'];

async function contentOf(dc: Dovecot, user: string): Promise<Map<string, string[]>> {
  const c = await dc.client(user, pw(user));
  try {
    const out = new Map<string, string[]>();
    for (const [folder, msgs] of await serverState(c)) if (msgs.length) out.set(folder, msgs.map((m) => `${m.hash} ${m.flags.join(',')} ${m.internalDate}`).sort());
    return out;
  } finally {
    await c.logout();
  }
}

/** A loopback proxy whose first connection (or `every` one) is cut after the client has sent `cutAfter` bytes (mid-APPEND). */
async function startCuttingProxy(port: number, cutAfter: number, every = false): Promise<{ port: number; connections: number; close(): void }> {
  const state = { connections: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const first = state.connections++ === 0 || every;
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    let sent = 0;
    client.on('data', (d: Buffer) => {
      sent += d.length;
      if (first && sent > cutAfter) {
        client.destroy();
        upstream.destroy();
        return;
      }
      upstream.write(d);
    });
    upstream.on('data', (d) => client.write(d));
    for (const s of [client, upstream]) s.on('error', () => undefined).on('close', () => (client.destroy(), upstream.destroy()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return state.connections;
    },
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe.skipIf(!dovecotAvailable())('mailkeep restore (the CLI) against a real Dovecot', () => {
  let dc: Dovecot;
  let archive: string;
  let original: Map<string, string[]>;
  const TOTAL = 900;
  const args = (user: string, ...extra: string[]): string[] => [
    'restore', '--archive', archive, '--source', `src@127.0.0.1:${dc.port}`, '--host', '127.0.0.1', '--port', String(dc.port),
    '--security', 'none', '--user', user, '--password-env', 'MK_PW', '--json', '--max-attempts', '1', ...extra,
  ];

  beforeAll(async () => {
    dc = await startDovecot({ users: [...USERS.map((name) => ({ name, password: pw(name) })), { name: 'tiny', password: pw('tiny'), quota: '40K' }] });
    archive = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-restore-cli-'));
    const msgs = generatedMessages(TOTAL, 5, { prefix: 'cli' });
    // Straight into the maildir: the fastest way to load a server (imap-lab.md §1.2).
    dc.writeMaildir('src', '', msgs.slice(0, 700).map((raw, i) => ({ raw, flags: i % 3 ? 'S' : 'FS', date: new Date(Date.UTC(2019, 5, 1) + i * 60_000) })));
    // On disk a maildir folder name is modified UTF-7: ".Ordner.&ANw-nter" is "Ordner/Ünter".
    dc.writeMaildir('src', '.Ordner.&ANw-nter', msgs.slice(700).map((raw) => ({ raw, date: new Date(Date.UTC(2008, 1, 29)) })));
    dc.settle('src');
    const r = await runBackup({ archiveDir: archive, account: { host: '127.0.0.1', port: dc.port, security: 'none', user: 'src', password: pw('src') } });
    expect(r.status).toBe('completed');
    original = await contentOf(dc, 'src');
    expect([...original.values()].flat()).toHaveLength(TOTAL);
  });
  afterAll(async () => {
    await dc?.stop();
    fs.rmSync(archive, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  it('killed with SIGKILL midway and run again, ends with each message exactly once', async () => {
    const { child, done } = startCli(args('dst'), { MK_PW: pw('dst') });
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n').slice(0, -1)) {
        const e = JSON.parse(line) as { event?: string; messages?: number };
        if (e.event === 'progress' && (e.messages ?? 0) >= 50 && child.exitCode === null && child.pid) child.kill('SIGKILL');
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    });
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const partial = [...(await contentOf(dc, 'dst')).values()].flat().length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(TOTAL);
    const rerun = await runCli(args('dst'), { MK_PW: pw('dst') });
    expect(rerun.code).toBe(0);
    // APPENDs are pipelined: the server may still store some it had read after the kill, so the
    // rerun can find more than was counted above; each message is either found or appended.
    expect(rerun.json).toMatchObject({ statusId: 'completed' });
    expect(rerun.json!.alreadyPresent).toBeGreaterThanOrEqual(partial);
    expect((rerun.json!.restored as number) + (rerun.json!.alreadyPresent as number)).toBe(TOTAL);
    expect(await contentOf(dc, 'dst')).toEqual(original);
    expect(rerun.stdout + rerun.stderr).not.toContain(pw('dst'));
  });

  it('--dry-run prints the plan and changes nothing; its counts are what the real run then does', async () => {
    const dry = await runCli([...args('plan', '--dry-run', '--folder', 'Ordner/Ünter')].filter((a) => a !== '--json'), { MK_PW: pw('plan') });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Plan (dry run, nothing changed): 200 to append');
    expect(dry.stdout).toContain('Folders to create: Ordner/Ünter');
    // This user has no storage limit: no "? used of no limit" line.
    expect(dry.stdout).not.toContain('Destination quota');
    expect(await contentOf(dc, 'plan')).toEqual(new Map());
    const real = await runCli(args('plan', '--folder', 'Ordner/Ünter', '--since', '2008-02-29', '--until', '2008-02-29'), { MK_PW: pw('plan') });
    expect(real.json).toMatchObject({ statusId: 'completed', restored: 200, foldersCreated: 1 });
    expect((await contentOf(dc, 'plan')).get('Ordner/Ünter')).toEqual(original.get('Ordner/Ünter'));
  });

  it('exits 3 Partially Complete when the destination is full, 4 on a wrong password, 2 on bad usage; plans over implicit TLS with --ca', async () => {
    const plan = await runCli([...args('tiny', '--dry-run', '--folder', 'Ordner/Ünter')].filter((a) => a !== '--json'), { MK_PW: pw('tiny') });
    expect(plan.stdout).toMatch(/Destination quota: \d+(\.\d KB| bytes) used of 40.0 KB\n/);
    const full = await runCli(args('tiny', '--folder', 'Ordner/Ünter'), { MK_PW: pw('tiny') });
    expect(full.code).toBe(3);
    expect(full.json).toMatchObject({ statusId: 'partially_complete', status: 'Partially Complete', errorCode: 'QUOTA_EXCEEDED' });
    expect((full.json!.restored as number) + (full.json!.notRestored as number)).toBe(200);
    const auth = await runCli(args('small'), { MK_PW: 'not-the-password' });
    expect(auth.code).toBe(4);
    expect(auth.json).toMatchObject({ statusId: 'authentication_error', errorCode: 'AUTH_FAILED' });
    expect(auth.stdout + auth.stderr).not.toContain('not-the-password');
    expect((await runCli(['restore', '--archive', archive, '--since', 'yesterday'], {})).code).toBe(2);
    const tls = await runCli(
      ['restore', '--archive', archive, '--source', `src@127.0.0.1:${dc.port}`, '--host', 'localhost', '--port', String(dc.tlsPort), '--security', 'tls',
        '--ca', dc.certFile, '--user', 'small', '--password-env', 'MK_PW', '--json', '--dry-run'],
      { MK_PW: pw('small') },
    );
    expect(tls.code, tls.stderr).toBe(0);
    expect(tls.json).toMatchObject({ statusId: 'completed', dryRun: true, plan: { toAppend: TOTAL } });
    const help = await runCli(['restore', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--dry-run');
  });

  it('one click: puts back just what disappeared from INBOX in the last run, looked up with SEARCH, not a FETCH of all 700', async () => {
    const c = await dc.client('src', pw('src'));
    await c.mailboxOpen('INBOX');
    await c.messageDelete('100:104');
    await c.logout();
    const account = { host: '127.0.0.1', port: dc.port, security: 'none' as const, user: 'src', password: pw('src') };
    expect((await runBackup({ archiveDir: archive, account })).disappeared).toBe(5);
    const db = openArchiveForReading(archive);
    const run = db.prepare<[], number>('SELECT MAX(id) FROM runs').pluck().get()!;
    db.close();
    const proxy = await startImapProxy({ host: '127.0.0.1', port: dc.port });
    try {
      const opts = { archiveDir: archive, target: { ...account, port: proxy.port }, scope: { disappearedInRun: run, folder: 'INBOX' } };
      expect(await runRestore(opts)).toMatchObject({ status: 'completed', restored: 5, alreadyPresent: 0 });
      expect(proxy.verbs()).toContain('UID SEARCH');
      expect(proxy.lines.some((l) => / FETCH 1:\*/i.test(l))).toBe(false);
      expect(await runRestore(opts)).toMatchObject({ status: 'completed', restored: 0, alreadyPresent: 5 });
    } finally {
      await proxy.close();
    }
    expect(await contentOf(dc, 'src')).toEqual(original);
  });

  it('a connection lost mid-APPEND is retried (Retrying, then Running) and ends with each message exactly once', async () => {
    const proxy = await startCuttingProxy(dc.port, 300_000);
    const statuses: string[] = [];
    try {
      const r = await runRestore(
        { archiveDir: archive, target: { host: '127.0.0.1', port: proxy.port, security: 'none', user: 'drop', password: pw('drop') }, retry: { maxAttempts: 3, baseDelayMs: 50 } },
        { onStatus: (st) => statuses.push(st) },
      );
      expect(r).toMatchObject({ status: 'completed', attempts: 2, notRestored: 0, alreadyPresent: 0 });
      expect(proxy.connections).toBe(2);
      expect(r.restored).toBe(TOTAL); // over both attempts; the second found the first one's work
    } finally {
      proxy.close();
    }
    expect(statuses).toEqual(['running', 'retrying', 'running', 'completed']);
    expect(await contentOf(dc, 'drop')).toEqual(original);
  });

  it('cancelled by its signal ends Cancelled; what was appended stays and a rerun adds only the rest', async () => {
    const controller = new AbortController();
    const target = { host: '127.0.0.1', port: dc.port, security: 'none' as const, user: 'stop', password: pw('stop') };
    const r = await runRestore({ archiveDir: archive, target }, { signal: controller.signal, onProgress: (p) => p.messages >= 20 && controller.abort() });
    expect(r).toMatchObject({ status: 'cancelled', errorCode: 'CANCELLED' });
    expect(r.restored).toBeGreaterThan(0);
    expect(r.notRestored).toBe(TOTAL - r.restored);
    const rest = await runRestore({ archiveDir: archive, target });
    expect(rest).toMatchObject({ status: 'completed', restored: TOTAL - r.restored, alreadyPresent: r.restored });
    expect(await contentOf(dc, 'stop')).toEqual(original);
  });

  it('sessions that open but keep breaking end Cancelled (retry limit) after Retrying; a later run completes with each message once', async () => {
    const proxy = await startCuttingProxy(dc.port, 100_000, true);
    const statuses: string[] = [];
    const target = { host: '127.0.0.1', port: proxy.port, security: 'none' as const, user: 'flaky', password: pw('flaky') };
    try {
      const r = await runRestore({ archiveDir: archive, target, retry: { maxAttempts: 2, baseDelayMs: 50 } }, { onStatus: (st) => statuses.push(st) });
      expect(r).toMatchObject({ status: 'cancelled', errorCode: 'RETRY_LIMIT', attempts: 2 });
      expect(r.restored).toBeGreaterThan(0);
      expect(r.notRestored).toBe(TOTAL - r.restored);
    } finally {
      proxy.close();
    }
    expect(statuses).toEqual(['running', 'retrying', 'running', 'retrying', 'cancelled']);
    expect(await runRestore({ archiveDir: archive, target: { ...target, port: dc.port } })).toMatchObject({ status: 'completed' });
    expect(await contentOf(dc, 'flaky')).toEqual(original);
  });
});
