import { SCHEDULE_LIMITS } from '../../lib/limits.ts';
import { MailkeepError } from '../../lib/protocol/error-codes.ts';
import type { AccountEvent } from '../../lib/protocol/account-state.ts';
import type { JobEvent } from '../../lib/protocol/common.ts';
import type { JobRunners } from '../jobs/job-runner.ts';
import type { RelayState } from '../state/relay-state.ts';
import { withDirectState } from './direct-state.ts';
import { connectLocalRelay, type RelayLink } from './relay-link.ts';

/** Marks a refusal that means "the data dir is busy right now" (so waiting may help), never a command's own failure. */
export const DATA_DIR_BUSY = 'dataDirBusy';

export function isDataDirBusy(err: unknown): boolean {
  return err instanceof MailkeepError && err.details[DATA_DIR_BUSY] === true;
}

/**
 * Runs a command against the data dir: through the running relay when there is one, else directly
 * under relay.lock. While another command holds the dir, or a relay is starting, it waits (bounded
 * by SCHEDULE_LIMITS.cliDataDirWaitMs) and looks again; the command itself runs once, never again
 * after a failure of its own.
 */
export async function withDataDir<T>(
  dataDir: string,
  run: { viaRelay(link: RelayLink): Promise<T>; direct(state: RelayState): Promise<T>; directRunners?: JobRunners },
  handlers: { onEvent?: (e: JobEvent) => void; onAccountEvent?: (e: AccountEvent) => void } = {},
  waitMs: number = SCHEDULE_LIMITS.cliDataDirWaitMs,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const link = await connectLocalRelay(dataDir, handlers);
      if (link) {
        try {
          return await run.viaRelay(link);
        } finally {
          link.connection.close();
        }
      }
      return await withDirectState(dataDir, run.direct, run.directRunners);
    } catch (err) {
      if (!isDataDirBusy(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
