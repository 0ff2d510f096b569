import fs from 'node:fs';
import { systemClock, type Clock } from '../../lib/clock.ts';

/**
 * The documented test hook (docs/cli.md, "Test hook"), OFF unless the environment variable
 * MAILKEEP_TEST_CLOCK_FILE names a file. Then the relay's wall clock is the system's plus that
 * file's `offsetMs`, re-read whenever the file changes (the test "jumps" the clock forward as a
 * sleeping machine would see it, while Node's timers and the monotonic clock do not move), and its
 * optional `jitterMaxMs` replaces the missed-run jitter. Nothing else reads this variable.
 */
export const TEST_CLOCK_ENV = 'MAILKEEP_TEST_CLOCK_FILE';

interface HookState {
  offsetMs: number;
  jitterMaxMs?: number;
}

export interface TestClockHook {
  clock: Clock;
  jitterMaxMs: () => number | undefined;
  offsetMs: () => number;
  /** Calls `fn` after each change of the file; returns the stop function. */
  onChange(fn: () => void): () => void;
}

export function testClockFromEnv(env: NodeJS.ProcessEnv): TestClockHook | undefined {
  const file = env[TEST_CLOCK_ENV];
  if (!file) return undefined;
  let state: HookState = read(file);
  return {
    clock: { now: () => Date.now() + state.offsetMs, timeZone: systemClock.timeZone },
    jitterMaxMs: () => state.jitterMaxMs,
    offsetMs: () => state.offsetMs,
    onChange(fn) {
      const listener = (): void => {
        state = read(file);
        fn();
      };
      // Polling, not fs.watch: it sees an atomic rename as well as an in-place write, on every OS.
      fs.watchFile(file, { interval: 100, persistent: false }, listener);
      return () => fs.unwatchFile(file, listener);
    },
  };
}

function read(file: string): HookState {
  try {
    const o = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<HookState>;
    return { offsetMs: Number(o.offsetMs) || 0, ...(typeof o.jitterMaxMs === 'number' ? { jitterMaxMs: o.jitterMaxMs } : {}) };
  } catch {
    return { offsetMs: 0 };
  }
}
