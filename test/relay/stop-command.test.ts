import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isZombie, pidAlive, runningRelay } from '../../relay/lock/lock-file.ts';
import { relayAnswers } from '../../relay/service/relay-launch.ts';
import { homeEnv, RelayProcess, runCli, tempDataDir, waitFor } from './relay-harness.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) {
    const r = runningRelay(path.join(d, '.mailkeep'));
    if (r) process.kill(r.pid, 'SIGTERM');
    fs.rmSync(d, { recursive: true, force: true });
  }
});

describe('mailkeep stop', () => {
  it('stops a relay started by hand cleanly (exit 0, lock released) and says nothing starts it again, since it is not installed; a second stop has nothing to stop', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const relay = await RelayProcess.start(dataDir);
    try {
      expect(runningRelay(dataDir)?.pid).toBe(relay.child.pid);
      const stop = await runCli(['stop', '--data-dir', dataDir], 40_000);
      expect(stop.stderr).toBe('');
      expect(stop.code).toBe(0);
      expect(stop.stdout).toContain(`stopping the relay (pid ${relay.child.pid})`);
      expect(stop.stdout).toContain('not installed as a service, so nothing starts it again');
      expect(stop.stdout).not.toContain('next login');
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

  it('stops the installed relay and says it starts again at the next login or when the extension needs it', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-home-'));
    dirs.push(home);
    const dataDir = path.join(home, '.mailkeep');
    const inst = await runCli(['install', '--port', '0'], 60_000, homeEnv(home));
    expect(inst.code, inst.stderr).toBe(0);
    const relay = await waitFor('the installed relay to listen', async () => {
      const r = runningRelay(dataDir);
      return r?.port && (await relayAnswers(r.port)) ? r : undefined;
    });
    const stop = await runCli(['stop'], 40_000, homeEnv(home));
    expect(stop.stderr).toBe('');
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain(`stopping the relay (pid ${relay.pid})`);
    expect(stop.stdout).toContain('It starts again at your next login, or when the browser extension needs it');
    expect(runningRelay(dataDir)).toBeUndefined();
    await waitFor('the relay to exit', () => (pidAlive(relay.pid) && !isZombie(relay.pid) ? undefined : true));
    expect((await runCli(['uninstall'], 60_000, homeEnv(home))).code).toBe(0);
  }, 90_000);
});
