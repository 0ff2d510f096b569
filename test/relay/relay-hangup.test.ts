import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pidAlive } from '../../relay/lock/lock-file.ts';
import { relayAnswers } from '../../relay/service/relay-launch.ts';
import { RelayProcess, tempDataDir } from './relay-harness.ts';

// A relay started in a terminal (`mailkeep relay`, `npm start`) whose terminal is closed: the
// terminal's end of stdout goes away and the kernel sends SIGHUP. It used to die without a word and
// leave relay.lock; now it says so in its log file and keeps serving.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('a relay whose terminal closes', () => {
  it('keeps running, logs a line about it, and still stops cleanly on SIGTERM', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const relay = await RelayProcess.start(dataDir);
    const log = path.join(dataDir, 'relay.log');
    // The terminal's side of the pipe goes away, then the hangup.
    relay.child.stdout!.destroy();
    relay.child.kill('SIGHUP');
    const deadline = Date.now() + 10_000;
    while (!fs.readFileSync(log, 'utf8').includes('SIGHUP')) {
      if (Date.now() > deadline) throw new Error(`no SIGHUP line in ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(fs.readFileSync(log, 'utf8')).toContain('still running');
    expect(pidAlive(relay.child.pid!)).toBe(true);
    expect(await relayAnswers(relay.port)).toBe(true);
    expect(await relay.stop()).toBe(0);
    const text = fs.readFileSync(log, 'utf8');
    expect(text).toMatch(/shutting down \(SIGTERM\)/);
    expect(text).toMatch(/\[relay\] stopped\n$/);
    expect(fs.existsSync(path.join(dataDir, 'relay.lock'))).toBe(false);
    // The code it printed to the terminal never reached the file.
    expect(text).not.toContain(relay.pairingCode);
  });
});
