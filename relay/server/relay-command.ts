import fs from 'node:fs';
import path from 'node:path';
import { DOOR_LIMITS, SCHEDULE_LIMITS, SERVICE_LIMITS, RELAY_LIMITS } from '../../lib/limits.ts';
import { acquireInstanceLock } from '../lock/lock-file.ts';
import { CredentialStore } from '../secrets/credential-store.ts';
import { ensurePrivateDir } from '../fs/atomic-file.ts';
import { defaultDataDir, parseFlags, parsePort, reportCommandError } from './cli-args.ts';
import { DownloadLinks } from './download-links.ts';
import type { JobRunners } from '../jobs/job-runner.ts';
import { RelayState } from '../state/relay-state.ts';
import { LocalToken, removeLocalToken } from '../state/local-token.ts';
import { testClockFromEnv } from '../state/test-clock.ts';
import { createPairingCode, TokenStore } from './pairing.ts';
import { startRelayServer } from './relay-server.ts';
import { archiveDirOf } from '../jobs/data-dirs.ts';
import { createArchiveCommands, loadArchiveBackend } from './archive-commands.ts';
import { defaultRunners } from './runners.ts';
import { searchIndexer } from '../search/background-indexer.ts';
import { testImapConnection, type TestConnection } from './test-connection.ts';
import { errorCodeOf } from '../../lib/protocol/error-codes.ts';
import { RELAY_LOG_FILE, RotatingLog } from '../service/log-file.ts';
import { BACKGROUND_FLAG } from '../service/background-flag.ts';

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
  // --background: started by the service manager or the native host, with no terminal. Then the
  // log file is the only output and no pairing code is minted at start (nobody would read it, and
  // a code must never reach a file); `mailkeep pair` or the native host mint one on demand.
  const background = argv.includes(BACKGROUND_FLAG);
  const terminal = deps.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  let echo = !background;
  let logFile: RotatingLog | undefined;
  // A closed terminal makes stdout writes fail (EIO, EPIPE): stop echoing, keep logging to the file.
  const onStdoutError = (): void => {
    echo = false;
  };
  const ignore = (): void => {};
  if (!deps.out) {
    process.stdout.on('error', onStdoutError);
    process.stderr.on('error', ignore); // same for a warning written after the terminal went away
  }
  const say = (line: string, opts: { secret?: boolean } = {}): void => {
    if (!opts.secret) logFile?.write(line);
    if (echo) {
      try {
        terminal(line);
      } catch {
        echo = false;
      }
    }
  };
  const log = (line: string): void => say(`[relay] ${line}`);
  let lock: ReturnType<typeof acquireInstanceLock> | undefined;
  const removeSignalHandlers: Array<() => void> = [];
  try {
    const flags = parseFlags(argv.filter((a) => a !== BACKGROUND_FLAG), ['port', 'data-dir']);
    const port = parsePort(flags.get('port'));
    const dataDir = flags.get('data-dir') ?? defaultDataDir();
    ensurePrivateDir(dataDir);
    logFile = new RotatingLog(path.join(dataDir, RELAY_LOG_FILE));
    log(`starting (pid ${process.pid}${background ? ', in the background' : ''})`);
    removeSignalHandlers.push(keepRunningOnHangup(logFile, log));
    lock = acquireInstanceLock(dataDir);

    const credentials = CredentialStore.open(dataDir);
    const downloads = new DownloadLinks(dataDir);
    const testClock = testClockFromEnv(process.env);
    // The runners look accounts up through the state (passwords and OAuth logins alike); the state
    // is made with the runners, so the lookup is bound once it exists.
    let lookup: RelayState['accountLookup'] | undefined;
    const state = new RelayState({
      dataDir,
      credentials,
      runners: deps.runners ?? defaultRunners({ downloads, accounts: { get: (id) => lookup?.get(id) } }),
      log,
      ...(testClock ? { clock: testClock.clock, jitterMaxMs: () => testClock.jitterMaxMs() ?? SCHEDULE_LIMITS.missedRunJitterMaxMs } : {}),
    });
    lookup = state.accountLookup;
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
        const { restorePrompts } = await import('../jobs/restore/restore-prompts.ts');
        const dir = archiveDirOf(dataDir, accountId);
        return fs.existsSync(path.join(dir, 'index.sqlite')) ? restorePrompts(dir, runId === undefined ? {} : { runId }) : [];
      },
      archive: createArchiveCommands(dataDir, loadArchiveBackend),
    });
    // The start-up code is written before the lock names the port: whoever waits for the port
    // (the native host) and then mints its own code must not see it replaced by this one.
    const code = background ? undefined : createPairingCode(dataDir);
    lock.update({ port: server.port });
    state.oauthCallbackBase = `http://127.0.0.1:${server.port}`;
    // A finished sign-in starts the account's backup at once, as saving a password does in the options page.
    state.oauth.subscribe((e) => {
      if (e.event !== 'oauth.completed') return;
      try {
        jobs.start({ kind: 'backup', accountId: e.accountId, idempotencyKey: `signin-${e.flowId}`, params: {} });
      } catch (err) {
        log(`backup after sign-in of ${e.accountId} not started: ${(err as Error).message.slice(0, RELAY_LIMITS.logDetailMaxChars)}`);
      }
    });
    say(`Mailkeep relay listening on http://127.0.0.1:${server.port} (data dir ${dataDir})`);
    // Search indexes catch up with every archive (and finish what a stopped relay left), in the background.
    searchIndexer((dir, err) => log(`search index of ${path.basename(dir)} not updated: ${(err as Error).message.slice(0, RELAY_LIMITS.logDetailMaxChars)}`)).startup(path.join(dataDir, 'archives'));
    // A browser installed or first started since `mailkeep install` gets the native host (browser-watch.ts).
    const watchBrowsers = async (): Promise<void> => {
      try {
        const [{ registerNewBrowsers }, { currentServiceEnv }, { runServiceCommand }] = await Promise.all([
          import('../service/browser-watch.ts'),
          import('../service/platform.ts'),
          import('../service/relay-launch.ts'),
        ]);
        registerNewBrowsers({ se: currentServiceEnv(process.env), dataDir, run: runServiceCommand, log });
      } catch (err) {
        log(`native-messaging host not registered for new browsers: ${(err as Error).message.slice(0, RELAY_LIMITS.logDetailMaxChars)}`);
      }
    };
    void watchBrowsers();
    const browserScan = setInterval(() => void watchBrowsers(), SERVICE_LIMITS.browserScanMs);
    browserScan.unref();
    if (code) {
      say(
        `Pairing code: ${code}  (type it into the extension's options page; valid ${DOOR_LIMITS.pairingCodeTtlMs / 60_000} minutes; ` +
          `\`mailkeep pair --data-dir ${dataDir}\` prints a new one)`,
        { secret: true },
      );
      say(`Log: ${logFile.file}`, { secret: true });
    }
    say(tokens.paired ? 'Already paired with an extension; pairing again replaces it.' : 'Not paired yet.');
    for (const job of jobs.resumeInterrupted(log)) log(`resuming interrupted ${job.kind} job ${job.id} of account ${job.accountId}`);
    // After the resumes: a resumed backup counts as running, so the scheduler does not start a second.
    state.start();
    const stopWatching = testClock?.onChange(() => {
      state.scheduler.check('change');
      state.retries.check();
      // After the check: a test that reads this line knows whatever the change started has started.
      log(`test clock: wall clock offset ${testClock.offsetMs()} ms, checked`);
    });

    const reason = await (deps.stopSignal ?? signalled(removeSignalHandlers));
    log(`shutting down (${String(reason)}): closing sockets, letting jobs checkpoint`);
    stopWatching?.();
    clearInterval(browserScan);
    await server.close();
    await state.stop();
    removeLocalToken(dataDir);
    downloads.stop();
    lock.release();
    log('stopped');
    return 0;
  } catch (err) {
    lock?.release();
    const message = err instanceof Error ? err.message : String(err);
    logFile?.write(`[relay] could not start or run: error ${errorCodeOf(err)}: ${message}`);
    if (!background) return reportCommandError('relay', err);
    // Another relay already serves this data dir: nothing is wrong, and a service manager must
    // not restart this one in a loop (Restart=on-failure, KeepAlive SuccessfulExit=false).
    if (errorCodeOf(err) === 'ARCHIVE_LOCKED' && lock === undefined) return 0;
    return errorCodeOf(err) === 'INVALID_INPUT' ? 2 : 1;
  } finally {
    for (const remove of removeSignalHandlers) remove();
    process.stdout.off('error', onStdoutError);
    process.stderr.off('error', ignore);
    logFile?.close();
  }
}

/**
 * SIGHUP never stops the relay. It is what a closing terminal sends (the relay keeps running and
 * says so in its log, where the rest of its output goes from then on) and what log rotators send
 * (the log file is reopened by name).
 */
function keepRunningOnHangup(logFile: RotatingLog, log: (line: string) => void): () => void {
  const onHup = (): void => {
    logFile.reopen();
    log(`SIGHUP: log reopened (${logFile.file}); still running. A closed terminal gets no more output; stop with SIGTERM.`);
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}

function signalled(cleanup: Array<() => void>): Promise<string> {
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
    cleanup.push(() => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
    });
  });
}
