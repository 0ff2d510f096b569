import fs from 'node:fs';
import path from 'node:path';
import { DOOR_LIMITS } from '../../lib/limits.ts';
import { MailkeepError } from '../../lib/protocol/error-codes.ts';
import { CredentialStore } from '../secrets/credential-store.ts';
import { ensurePrivateDir } from './atomic-file.ts';
import { defaultDataDir, parseFlags, parsePort } from './cli-args.ts';
import { acquireInstanceLock } from './instance-lock.ts';
import { DownloadLinks } from './download-links.ts';
import { JobManager, type JobRunners } from './job-manager.ts';
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
 * lets running jobs checkpoint (they are recorded as interrupted) and exits 0. Exit 1 when the
 * data dir already has a running relay or the port is taken.
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
    const jobs = new JobManager({ dataDir, runners: deps.runners ?? defaultRunners({ downloads, accounts: credentials }), accounts: credentials });
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
      restorePrompts: async (accountId, runId) => {
        // Loaded on first use, like the engines: the door comes up without SQLite.
        const { restorePrompts } = await import('../jobs/restore-prompts.ts');
        const dir = archiveDirOf(dataDir, accountId);
        return fs.existsSync(path.join(dir, 'index.sqlite')) ? restorePrompts(dir, runId === undefined ? {} : { runId }) : [];
      },
    });
    lock.setPort(server.port);
    const code = createPairingCode(dataDir);
    out(`Mailkeep relay listening on http://127.0.0.1:${server.port} (data dir ${dataDir})`);
    out(
      `Pairing code: ${code}  (type it into the extension's options page; valid ${DOOR_LIMITS.pairingCodeTtlMs / 60_000} minutes; ` +
        `\`mailkeep pair --data-dir ${dataDir}\` prints a new one)`,
    );
    out(tokens.paired ? 'Already paired with an extension; pairing again replaces it.' : 'Not paired yet.');
    for (const job of jobs.resumeInterrupted()) log(`resuming interrupted ${job.kind} job ${job.id} of account ${job.accountId}`);

    await (deps.stopSignal ?? signalled());
    log('shutting down: closing sockets, letting jobs checkpoint');
    await server.close();
    await jobs.stop();
    downloads.stop();
    lock.release();
    log('stopped');
    return 0;
  } catch (err) {
    lock?.release();
    const message = err instanceof MailkeepError || (err as NodeJS.ErrnoException)?.code === 'EADDRINUSE' ? (err as Error).message : String(err);
    process.stderr.write(`mailkeep relay: ${message}\n`);
    return 1;
  }
}

function signalled(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
