import fs from 'node:fs';
import path from 'node:path';
import { DOOR_LIMITS, SCHEDULE_LIMITS } from '../../lib/limits.ts';
import { acquireInstanceLock } from '../lock/lock-file.ts';
import { CredentialStore } from '../secrets/credential-store.ts';
import { ensurePrivateDir } from './atomic-file.ts';
import { defaultDataDir, parseFlags, parsePort, reportCommandError } from './cli-args.ts';
import { DownloadLinks } from './download-links.ts';
import type { JobRunners } from './job-manager.ts';
import { RelayState } from '../state/relay-state.ts';
import { LocalToken, removeLocalToken } from '../state/local-token.ts';
import { testClockFromEnv } from '../state/test-clock.ts';
import { createPairingCode, TokenStore } from './pairing.ts';
import { startRelayServer } from './relay-server.ts';
import { archiveDirOf, defaultRunners } from './runners.ts';
import { testImapConnection, type TestConnection } from './test-connection.ts';

export interface RelayCommandDeps {
  runners?: JobRunners;
  testConnection?: TestConnection;
  out?: (line: string) => void;
  /** Resolves when the relay should stop; default: SIGTERM or SIGINT. */
  stopSignal?: Promise<unknown>;
}

/**
 * `mailkeep relay [--port N] [--data-dir DIR]`: runs until SIGTERM/SIGINT, then closes sockets,
 * lets running jobs checkpoint (they are recorded as interrupted) and exits 0. Exit 2 on bad usage,
 * 1 when the data dir already has a running relay or the port is taken (docs/cli.md).
 */
export async function runRelayCommand(argv: readonly string[], deps: RelayCommandDeps = {}): Promise<number> {
  const out = deps.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const log = (line: string): void => out(`[relay] ${line}`);
  let lock: ReturnType<typeof acquireInstanceLock> | undefined;
  try {
    const flags = parseFlags(argv, ['port', 'data-dir']);
    const port = parsePort(flags.get('port'));
    const dataDir = flags.get('data-dir') ?? defaultDataDir();
    ensurePrivateDir(dataDir);
    lock = acquireInstanceLock(dataDir);

    const credentials = CredentialStore.open(dataDir);
    const downloads = new DownloadLinks(dataDir);
    const testClock = testClockFromEnv(process.env);
    const state = new RelayState({
      dataDir,
      credentials,
      runners: deps.runners ?? defaultRunners({ downloads, accounts: credentials }),
      log,
      ...(testClock ? { clock: testClock.clock, jitterMaxMs: () => testClock.jitterMaxMs() ?? SCHEDULE_LIMITS.missedRunJitterMaxMs } : {}),
    });
    const jobs = state.jobs;
    if (testClock) log('test clock hook on (MAILKEEP_TEST_CLOCK_FILE): not for real use');
    // Expired links: the file is deleted and the job goes Completed / Link -> Expired; links that
    // expired while the relay was down are swept now.
    downloads.onExpire = (jobId) => jobs.expire(jobId);
    downloads.start();
    const tokens = new TokenStore(dataDir);
    const server = await startRelayServer({
      dataDir,
      port,
      tokens,
      jobs,
      credentials,
      testConnection: deps.testConnection ?? testImapConnection,
      downloads,
      log,
      state,
      localToken: LocalToken.create(dataDir),
      restorePrompts: async (accountId, runId) => {
        // Loaded on first use, like the engines: the door comes up without SQLite.
        const { restorePrompts } = await import('../jobs/restore-prompts.ts');
        const dir = archiveDirOf(dataDir, accountId);
        return fs.existsSync(path.join(dir, 'index.sqlite')) ? restorePrompts(dir, runId === undefined ? {} : { runId }) : [];
      },
    });
    lock.update({ port: server.port });
    const code = createPairingCode(dataDir);
    out(`Mailkeep relay listening on http://127.0.0.1:${server.port} (data dir ${dataDir})`);
    out(
      `Pairing code: ${code}  (type it into the extension's options page; valid ${DOOR_LIMITS.pairingCodeTtlMs / 60_000} minutes; ` +
        `\`mailkeep pair --data-dir ${dataDir}\` prints a new one)`,
    );
    out(tokens.paired ? 'Already paired with an extension; pairing again replaces it.' : 'Not paired yet.');
    for (const job of jobs.resumeInterrupted()) log(`resuming interrupted ${job.kind} job ${job.id} of account ${job.accountId}`);
    // After the resumes: a resumed backup counts as running, so the scheduler does not start a second.
    state.start();
    const stopWatching = testClock?.onChange(() => {
      state.scheduler.check('change');
      // After the check: a test that reads this line knows whatever the change started has started.
      log(`test clock: wall clock offset ${testClock.offsetMs()} ms, checked`);
    });

    await (deps.stopSignal ?? signalled());
    log('shutting down: closing sockets, letting jobs checkpoint');
    stopWatching?.();
    await server.close();
    await state.stop();
    removeLocalToken(dataDir);
    downloads.stop();
    lock.release();
    log('stopped');
    return 0;
  } catch (err) {
    lock?.release();
    return reportCommandError('relay', err);
  }
}

function signalled(): Promise<string> {
  return new Promise((resolve) => {
    let stopping = false;
    // The handlers stay installed: a second Ctrl-C (or npm forwarding the same signal) during the
    // shutdown must not kill the process before jobs checkpoint and the lock is released.
    const on = (sig: string): void => {
      if (stopping) {
        process.stderr.write(`mailkeep relay: ${sig} received again; already stopping, jobs are checkpointing\n`);
        return;
      }
      stopping = true;
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
