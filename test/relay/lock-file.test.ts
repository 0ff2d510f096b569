import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock, isZombie, lockArchive, ownerAlive, pidAlive, processStartTime, removeStaleLock } from '../../relay/lock/lock-file.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-lock-'));
  dirs.push(d);
  return d;
}

async function deadPid(): Promise<number> {
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => dead.on('exit', r));
  return dead.pid!;
}

const linux = fs.existsSync('/proc/self/stat');

describe('the lock file (archive.lock, relay.lock)', () => {
  it('records pid and start time, refuses a second taker while the owner lives, and is gone after release', () => {
    const dir = tmp();
    const lock = lockArchive(dir);
    const rec = JSON.parse(fs.readFileSync(path.join(dir, 'archive.lock'), 'utf8'));
    expect(rec).toEqual({ pid: process.pid, start: processStartTime(process.pid) });
    if (linux) expect(rec.start).toMatch(/^\d+$/);
    expect(() => lockArchive(dir)).toThrow(expect.objectContaining({ code: 'ARCHIVE_LOCKED', message: expect.stringContaining(String(process.pid)) }));
    lock.release();
    expect(fs.existsSync(path.join(dir, 'archive.lock'))).toBe(false);
  });

  it('takes over a stale lock whose pid is dead', async () => {
    const dir = tmp();
    const pid = await deadPid();
    fs.writeFileSync(path.join(dir, 'archive.lock'), `${JSON.stringify({ pid, start: '12345' })}\n`);
    const lock = lockArchive(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'archive.lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(fs.readdirSync(dir)).toEqual([]); // no temp file or takeover guard left behind
  });

  it.skipIf(!linux)('takes over a lock whose pid is alive but belongs to a newer process (reused pid)', async () => {
    const dir = tmp();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      const start = processStartTime(other.pid!);
      expect(start).toMatch(/^\d+$/);
      // Same pid, a start time that is not this process's: the recorded owner died and its pid was reused.
      fs.writeFileSync(path.join(dir, 'archive.lock'), `${JSON.stringify({ pid: other.pid, start: String(Number(start) - 1) })}\n`);
      const lock = lockArchive(dir);
      lock.release();
      // The real start time is a live owner: refused.
      fs.writeFileSync(path.join(dir, 'archive.lock'), `${JSON.stringify({ pid: other.pid, start })}\n`);
      expect(() => lockArchive(dir)).toThrow(expect.objectContaining({ code: 'ARCHIVE_LOCKED' }));
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('two concurrent takers of one stale lock: exactly one wins', async () => {
    const dir = tmp();
    const file = path.join(dir, 'archive.lock');
    fs.writeFileSync(file, `${JSON.stringify({ pid: await deadPid(), start: '1' })}\n`);
    const lockModule = path.resolve(import.meta.dirname, '../../relay/lock/lock-file.ts');
    const at = Date.now() + 1500; // every taker is loaded and spinning by then: they really race
    const script = `
      const { lockArchive } = await import(${JSON.stringify(lockModule)});
      while (Date.now() < ${at}) {}
      try { lockArchive(${JSON.stringify(dir)}); console.log('won'); setTimeout(() => {}, 1500); }
      catch (e) { console.log(e.code ?? String(e)); }`;
    const takers = Array.from({ length: 6 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      return new Promise<string>((resolve) => child.on('close', () => resolve(out.trim())));
    });
    const results = await Promise.all(takers);
    expect(results.filter((r) => r === 'won')).toHaveLength(1);
    expect(results.filter((r) => r === 'ARCHIVE_LOCKED')).toHaveLength(takers.length - 1);
  }, 30_000);

  it('a taker that judged a lock stale never removes the lock another taker took meanwhile, even on the same inode number', async () => {
    const dir = tmp();
    const file = path.join(dir, 'archive.lock');
    fs.writeFileSync(file, `${JSON.stringify({ pid: await deadPid(), start: '1' })}\n`);
    const judged = fs.lstatSync(file).ino;
    const winner = lockArchive(dir); // the other taker removed the stale lock and linked its own
    // The late taker acts on what it judged; the inode number may even have been reused.
    expect(removeStaleLock(file, judged)).toBe(true);
    expect(removeStaleLock(file, fs.lstatSync(file).ino)).toBe(true);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).toBe(process.pid);
    expect(() => lockArchive(dir)).toThrow(expect.objectContaining({ code: 'ARCHIVE_LOCKED' }));
    winner.release();
  });

  it('builds the busy error the caller chose', () => {
    const file = path.join(tmp(), 'x.lock');
    const lock = acquireLock(file, () => mailkeepError('ARCHIVE_LOCKED', 'first'));
    expect(() => acquireLock(file, (o) => mailkeepError('ARCHIVE_LOCKED', `busy ${o.pid}`))).toThrow(`busy ${process.pid}`);
    lock.release();
  });

  it('a killed owner not yet reaped by its parent (a zombie) holds no lock: it is taken over', async () => {
    // sh starts a short sleep in the background, then becomes a long sleep that never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))));
      const start = processStartTime(pid);
      const dir = tmp();
      const file = path.join(dir, 'relay.lock');
      fs.writeFileSync(file, JSON.stringify({ pid, start }));
      const deadline = Date.now() + 10_000;
      while (!isZombie(pid)) {
        if (Date.now() > deadline) throw new Error('the child never became a zombie');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(pidAlive(pid)).toBe(true); // kill(pid, 0) still answers for a zombie
      expect(ownerAlive({ pid, start })).toBe(false);
      const lock = acquireLock(file, () => mailkeepError('ARCHIVE_LOCKED', 'zombie held it'));
      expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).toBe(process.pid);
      lock.release();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
