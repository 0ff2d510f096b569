import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redactSecrets, RotatingLog } from '../../relay/service/log-file.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-log-'));
  dirs.push(d);
  return d;
}
const fixed = () => new Date('2030-01-02T03:04:05.000Z');

describe('the relay log file', () => {
  it('lines carry a UTC timestamp, are private (0600) and one line each', () => {
    const file = path.join(tmp(), 'relay.log');
    const log = new RotatingLog(file, { now: fixed });
    log.write('first\nsecond');
    log.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('2030-01-02T03:04:05.000Z first second\n');
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
  });

  it('rotates at the size limit and keeps only the configured number of old files', () => {
    const dir = tmp();
    const file = path.join(dir, 'relay.log');
    const log = new RotatingLog(file, { maxBytes: 200, keep: 2, now: fixed });
    const line = (i: number) => `line ${String(i).padStart(3, '0')} ${'x'.repeat(40)}`; // 25 + 50 bytes with the stamp
    for (let i = 0; i < 20; i++) log.write(line(i));
    log.close();
    const names = fs.readdirSync(dir).sort();
    expect(names).toEqual(['relay.log', 'relay.log.1', 'relay.log.2']);
    for (const n of names) expect(fs.statSync(path.join(dir, n)).size).toBeLessThanOrEqual(200);
    // Newest lines in relay.log, the ones before in .1, then .2; older ones are gone.
    const all = ['relay.log.2', 'relay.log.1', 'relay.log'].flatMap((n) => fs.readFileSync(path.join(dir, n), 'utf8').trim().split('\n'));
    expect(all.at(-1)).toContain(line(19));
    const numbers = all.map((l) => Number(/line (\d+)/.exec(l)![1]));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(numbers[0]).toBeGreaterThan(0); // the oldest file was deleted
  });

  it('reopen() after the file was moved away writes to a fresh file under the name (SIGHUP convention)', () => {
    const dir = tmp();
    const file = path.join(dir, 'relay.log');
    const log = new RotatingLog(file, { now: fixed });
    log.write('before');
    fs.renameSync(file, `${file}.moved`);
    log.write('still to the moved file');
    log.reopen();
    log.write('after');
    log.close();
    expect(fs.readFileSync(`${file}.moved`, 'utf8')).toContain('still to the moved file');
    expect(fs.readFileSync(file, 'utf8')).toBe('2030-01-02T03:04:05.000Z after\n');
  });

  it('tokens and pairing codes never reach the file, whatever the caller passes', () => {
    expect(redactSecrets('token mk1_AbC-12_xyz issued')).toBe('token mk1_[redacted] issued');
    expect(redactSecrets('Pairing code: K7QM-2XWD (valid)')).toBe('Pairing code: [redacted] (valid)');
    expect(redactSecrets('code K7QM2XWD')).toBe('code [redacted]');
    const file = path.join(tmp(), 'relay.log');
    const log = new RotatingLog(file, { now: fixed });
    log.write('Pairing code: K7QM-2XWD, token mk1_secretsecret');
    log.close();
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain('K7QM');
    expect(text).not.toContain('secretsecret');
  });

  it('a log that cannot be written does not throw (a backup must not stop for its log)', () => {
    const dir = tmp();
    const blocker = path.join(dir, 'file');
    fs.writeFileSync(blocker, '');
    const log = new RotatingLog(path.join(blocker, 'relay.log')); // a file where a folder should be
    expect(() => log.write('x')).not.toThrow();
    log.close();
  });
});
