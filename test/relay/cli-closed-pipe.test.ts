import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRun } from '../support/search-archive.ts';
import { BIN, runCli } from '../support/run-cli.ts';

// `mailkeep search … | head -1` crashed with a 25-line EPIPE stack trace: a reader that stops
// reading early closes the pipe under the command. Every command's output goes through one guard
// (relay/cli/io.ts, installed by main.ts): the output ends quietly and the command finishes its
// work and exits with its own code. Real processes, real pipes; the reader closes before the
// command has written anything, so the command's every write meets the closed pipe.

const MESSAGES = 500; // a search page's most: its --json is larger than a pipe's buffer (64 KiB)
let dir: string;
let archive: string;

/** Runs `mailkeep ARGS` with its stdout a pipe whose only reader is closed at once. */
function withReaderGone(args: string[], opts: { stderrToo?: boolean } = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.destroy();
  if (opts.stderrToo) child.stderr!.destroy();
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`mailkeep ${args[0]} hung with its reader gone: ${stderr}`))), 60_000);
    child.on('close', (code, signal) => (clearTimeout(timer), resolve({ code, signal, stderr })));
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-pipe-'));
  archive = path.join(dir, 'archive');
  const messages = Array.from({ length: MESSAGES }, (_, i) => ({
    raw: Buffer.from(`From: a${i}@example.org\r\nSubject: Hotel booking ${i}\r\nMessage-ID: <m${i}@example.org>\r\n\r\nbody ${i}\r\n`),
    internalDate: new Date(Date.UTC(2024, 4, 14) + i * 60_000),
  }));
  await writeRun(archive, [{ folder: 'INBOX', messages }]);
  // Index once, so the searches below have nothing to say on stderr but a crash.
  const first = await runCli(['search', '--archive', archive, 'hotel'], { TZ: 'UTC' });
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout.trim().split('\n')).toHaveLength(50);
  // The premise of the pipeline test: more output than the pipe holds, so it cannot all be written before the reader goes.
  const whole = await runCli(['search', '--archive', archive, 'hotel', '--json', '--limit', String(MESSAGES)], { TZ: 'UTC' });
  expect(whole.stdout.length).toBeGreaterThan(2 * 65_536);
}, 60_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a command whose reader closes the pipe early ends quietly, with its own exit code', () => {
  it('mailkeep search: exit 0, nothing on stderr', async () => {
    expect(await withReaderGone(['search', '--archive', archive, 'hotel', '--limit', String(MESSAGES)])).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('mailkeep search --json: exit 0, nothing on stderr', async () => {
    expect(await withReaderGone(['search', '--archive', archive, 'hotel', '--json'])).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('mailkeep archive-info: exit 0, nothing on stderr', async () => {
    expect(await withReaderGone(['archive-info', '--archive', archive])).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('mailkeep export with its listing unread still writes the whole zip and exits 0', async () => {
    for (const json of [[], ['--json']]) {
      const out = path.join(dir, `export${json.length}.zip`);
      const r = await withReaderGone(['export', '--archive', archive, '--format', 'eml-zip', '--out', out, ...json]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
      const names = spawnSync('python3', ['-c', 'import sys,zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))', out], { encoding: 'utf8' });
      expect(names.stdout.trim()).toBe(String(MESSAGES));
    }
  });

  it('a failing command keeps its failure exit code when nobody reads its output', async () => {
    const r = await withReaderGone(['archive-info', '--archive', path.join(dir, 'no-such-archive'), '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error [A-Z_]+: /);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });

  it('a refusal whose error line meets a closed stderr too still exits with its own code (2 for a bad query)', async () => {
    const r = await withReaderGone(['search', '--archive', archive, '(hotel'], { stderrToo: true });
    expect([r.code, r.signal]).toEqual([2, null]);
  });

  it('in a shell pipeline under pipefail (search --json | head -c 100), the pipeline succeeds and prints only what head kept', () => {
    const sh = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" search --archive "$A" hotel --json --limit ${MESSAGES} | head -c 100`], {
      env: { ...process.env, A: archive, TZ: 'UTC' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect([sh.status, sh.stderr]).toEqual([0, '']);
    expect(sh.stdout).toHaveLength(100);
    expect(sh.stdout).toMatch(/^\{"kind":"search"/);
  });
});
