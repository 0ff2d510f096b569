import fs from 'node:fs';
import path from 'node:path';
import { MailkeepError, mailkeepError } from '../../lib/protocol/error-codes.ts';
import { acquireInstanceLock, type HeldLock } from '../lock/lock-file.ts';
import { CREDENTIALS_FILE, CredentialStore } from '../secrets/credential-store.ts';
import { ensurePrivateDir } from '../fs/atomic-file.ts';
import { backupRunner } from '../jobs/backup/backup-runner.ts';
import type { JobRunners } from '../jobs/job-runner.ts';
import { RelayState } from '../state/relay-state.ts';
import { testClockFromEnv } from '../state/test-clock.ts';

/**
 * No relay runs on the data dir: the command takes the relay's own lock (relay.lock) for its
 * duration, so it is the one process writing the credential file and the state, and a relay
 * starting meanwhile waits for nothing (it refuses to start, as with a second relay). The
 * scheduler is not started: a command does what it was asked and exits.
 */
export async function withDirectState<T>(dataDir: string, fn: (state: RelayState) => Promise<T>, runners: JobRunners = { backup: backupRunner }): Promise<T> {
  ensurePrivateDir(dataDir);
  let lock: HeldLock;
  try {
    lock = acquireInstanceLock(dataDir);
  } catch (err) {
    // Taken since we looked (a relay starting, another command): busy, not a failure of the command.
    if (err instanceof MailkeepError && err.code === 'ARCHIVE_LOCKED') throw mailkeepError('RELAY_UNREACHABLE', `${dataDir} is in use by another Mailkeep process (${err.message}); try again when it is done`, { dataDirBusy: true }, err);
    throw err;
  }
  let state: RelayState | undefined;
  try {
    const credentials = CredentialStore.open(dataDir);
    // Backup by default; a command that runs another job on the data dir (restore --account) names its runner.
    // The relay's documented test hook applies here too, so the two processes agree on the time.
    const testClock = testClockFromEnv(process.env);
    state = new RelayState({ dataDir, credentials, runners, resumeInterrupted: false, ...(testClock ? { clock: testClock.clock } : {}) });
    return await fn(state);
  } finally {
    await state?.stop();
    lock.release();
  }
}

/** Whether a credential file exists (reading status must not create the key file). */
export function hasCredentials(dataDir: string): boolean {
  return fs.existsSync(path.join(dataDir, CREDENTIALS_FILE));
}
