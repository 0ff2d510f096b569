import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runningRelay } from '../../relay/lock/lock-file.ts';
import { RelayProcess, runCli, tempDataDir } from './relay-harness.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('mailkeep stop', () => {
  it('stops the running relay of a data dir cleanly (exit 0, lock released) and says it starts again at login; a second stop has nothing to stop', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const relay = await RelayProcess.start(dataDir);
    try {
      expect(runningRelay(dataDir)?.pid).toBe(relay.child.pid);
      const stop = await runCli(['stop', '--data-dir', dataDir], 40_000);
      expect(stop.stderr).toBe('');
      expect(stop.code).toBe(0);
      expect(stop.stdout).toContain(`stopping the relay (pid ${relay.child.pid})`);
      expect(stop.stdout).toContain('stopped. It starts again at your next login');
      expect(await relay.exit).toBe(0);
      expect(relay.stdout).toContain('shutting down');
      expect(runningRelay(dataDir)).toBeUndefined();
      const again = await runCli(['stop', '--data-dir', dataDir]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('no relay runs for');
    } finally {
      await relay.stop();
    }
  }, 60_000);
});
