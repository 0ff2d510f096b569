import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pidAlive, processStartTime, runningRelay } from '../../relay/lock/lock-file.ts';
import { ensureRelay } from '../../relay/service/relay-launch.ts';
import { ROOT } from './relay-harness.ts';

// ensureRelay, the native host's "make sure a relay listens" step, with real processes: a service
// manager stood in by a shell command that starts the relay detached, as `systemctl --user start`
// would; a failing one; a relay that dies at once; a lock holder that never listens.

const BIN = path.join(ROOT, 'bin/mailkeep.js');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) {
    const r = runningRelay(d);
    if (r) process.kill(r.pid, 'SIGTERM');
  }
  await new Promise((r) => setTimeout(r, 500));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-launch-'));
  dirs.push(d);
  return d;
}
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('ensureRelay', () => {
  it('a registered service manager is asked first, and the relay it starts is the one reported', async () => {
    const d = tmp();
    const start = ['sh', '-c', `setsid ${q(process.execPath)} ${q(BIN)} relay --background --data-dir ${q(d)} --port 0 >/dev/null 2>&1 &`];
    const r = await ensureRelay({ dataDir: d, port: 0, serviceStart: [start] });
    expect(r.startedBy).toBe('service-manager');
    expect(runningRelay(d)?.port).toBe(r.port);
  });

  it('a service manager that fails to start it falls back to a detached spawn', async () => {
    const d = tmp();
    // The command a spawn runs is this CLI's (bin/mailkeep.js in production; here vitest runs us).
    const relayCommand = [process.execPath, BIN, 'relay', '--background', '--data-dir', d, '--port', '0'];
    const r = await ensureRelay({ dataDir: d, port: 0, serviceStart: [['false']], relayCommand });
    expect(r.startedBy).toBe('spawned');
    expect(runningRelay(d)?.port).toBe(r.port);
  });

  it('a relay that exits before listening ends the wait at once with RELAY_START_FAILED and its exit code', async () => {
    const d = tmp();
    await expect(ensureRelay({ dataDir: d, port: 0, relayCommand: [process.execPath, '-e', 'process.exit(3)'] })).rejects.toMatchObject({
      code: 'RELAY_START_FAILED',
      details: { exitCode: 3 },
      message: expect.stringContaining(path.join(d, 'relay.log')),
    });
  });

  it('a lock holder that never listens is waited for until the deadline, then RELAY_START_FAILED', async () => {
    const d = tmp();
    // This test process "holds" the lock with a port where nothing listens.
    fs.writeFileSync(path.join(d, 'relay.lock'), JSON.stringify({ pid: process.pid, start: processStartTime(process.pid), port: 1 }));
    let spawned = false;
    await expect(
      ensureRelay({
        dataDir: d,
        port: 0,
        deadlineMs: 300,
        pollMs: 20,
        spawnRelay: () => {
          spawned = true;
          return { pid: undefined, exited: new Promise(() => undefined) };
        },
      }),
    ).rejects.toMatchObject({ code: 'RELAY_START_FAILED', message: expect.stringContaining('did not listen within') });
    expect(spawned).toBe(false); // a live holder is never doubled
    expect(pidAlive(process.pid)).toBe(true);
    fs.rmSync(path.join(d, 'relay.lock'));
  });
});
