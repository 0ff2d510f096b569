import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorCodeOf } from '../../lib/protocol/error-codes.ts';
import { parsePort } from '../server/cli-args.ts';
import { applyInstall } from '../service/install.ts';
import { planInstall, systemdUserManagerRuns } from '../service/install-plan.ts';
import { currentServiceEnv, dataDirOf } from '../service/platform.ts';
import { currentCli, runServiceCommand } from '../service/relay-launch.ts';
import { stopRunningRelay, uninstall } from '../service/uninstall.ts';
import { readInstallRecord } from '../service/install-record.ts';
import { runningRelay } from '../lock/lock-file.ts';
import { SERVICE_LIMITS } from '../../lib/limits.ts';
import { parseOptions } from './args.ts';
import type { Io } from './commands.ts';
import { errorLine } from './error-line.ts';
import { EXIT } from '../server/exit-codes.ts';

export const INSTALL_HELP = `Usage: mailkeep install [--data-dir DIR] [--port N] [--no-start]

Registers the relay to start at login and keep running, and the native-messaging host that lets
the extension start and pair with the relay without a code, then starts the relay.
  Linux: a systemd --user unit (where a user manager runs), else an XDG autostart entry
  macOS: a LaunchAgent; Windows: a Task Scheduler task at logon
  Native-messaging host: for every Chromium-family browser and Firefox with a profile here
Everything written is recorded in DIR/install.json; "mailkeep uninstall" removes exactly that.
Running it again updates the files (e.g. after moving Mailkeep or upgrading Node).
DIR defaults to $MAILKEEP_DATA_DIR, else ~/.mailkeep; N to 7412.`;

export const UNINSTALL_HELP = `Usage: mailkeep uninstall [--data-dir DIR] [--purge [--yes]]

Stops the relay and removes what "mailkeep install" wrote, nothing else. Archives, saved
passwords and logs in DIR stay; --purge --yes deletes DIR too (--purge alone shows what it would delete).`;

export const STOP_HELP = `Usage: mailkeep stop [--data-dir DIR]

Stops the relay serving DIR: running jobs checkpoint first, and a backup stopped this way resumes
where it was at the relay's next start. An installed relay starts again at your next login, or
when the browser extension needs it ("mailkeep uninstall" removes it for good); one started by hand
with "mailkeep relay" stays stopped.`;

/** docs/install.md of this checkout, named in the systemd unit. */
const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/install.md');

export async function installCommand(argv: string[], io: Io): Promise<number> {
  const opts = parseOptions(argv, { 'data-dir': 'string', port: 'string', 'no-start': 'boolean' });
  const out = (line: string): void => void io.out.write(`${line}\n`);
  try {
    const se = currentServiceEnv(io.env);
    const dataDir = path.resolve((opts['data-dir'] as string | undefined) ?? dataDirOf(se));
    const cli = currentCli();
    const plan = planInstall({
      se,
      cli,
      dataDir,
      port: parsePort(opts.port as string | undefined),
      systemdUser: systemdUserManagerRuns(se, runServiceCommand),
      docsPath: DOCS,
    });
    applyInstall({ se, plan, cli, start: !opts['no-start'], run: runServiceCommand, out });
    out(`installed; "mailkeep uninstall${opts['data-dir'] ? ` --data-dir ${dataDir}` : ''}" removes it`);
    return EXIT.ok;
  } catch (err) {
    io.err.write(errorLine(errorCodeOf(err), err instanceof Error ? err.message : String(err)));
    return errorCodeOf(err) === 'INVALID_INPUT' ? EXIT.usage : EXIT.error;
  }
}

export async function uninstallCommand(argv: string[], io: Io): Promise<number> {
  const opts = parseOptions(argv, { 'data-dir': 'string', purge: 'boolean', yes: 'boolean' });
  const out = (line: string): void => void io.out.write(`${line}\n`);
  try {
    const se = currentServiceEnv(io.env);
    const dataDir = path.resolve((opts['data-dir'] as string | undefined) ?? dataDirOf(se));
    return await uninstall({ dataDir, purge: opts.purge === true, confirmed: opts.yes === true, run: runServiceCommand, out });
  } catch (err) {
    io.err.write(errorLine(errorCodeOf(err), err instanceof Error ? err.message : String(err)));
    return errorCodeOf(err) === 'INVALID_INPUT' ? EXIT.usage : EXIT.error;
  }
}

export async function stopCommand(argv: string[], io: Io): Promise<number> {
  const opts = parseOptions(argv, { 'data-dir': 'string' });
  const out = (line: string): void => void io.out.write(`${line}\n`);
  try {
    const dataDir = path.resolve((opts['data-dir'] as string | undefined) ?? dataDirOf(currentServiceEnv(io.env)));
    const running = runningRelay(dataDir);
    if (!running) {
      out(`no relay runs for ${dataDir}; nothing to stop`);
      return EXIT.ok;
    }
    out(`stopping the relay (pid ${running.pid}); running jobs checkpoint first...`);
    if (!(await stopRunningRelay(dataDir))) {
      io.err.write(errorLine('RELAY_STOP_FAILED', `the relay (pid ${running.pid}) did not stop within ${SERVICE_LIMITS.relayStopDeadlineMs / 1000} s; it may still be committing a large batch: try again, or end process ${running.pid}`));
      return EXIT.error;
    }
    out(stoppedLine(dataDir));
    return EXIT.ok;
  } catch (err) {
    io.err.write(errorLine(errorCodeOf(err), err instanceof Error ? err.message : String(err)));
    return errorCodeOf(err) === 'INVALID_INPUT' ? EXIT.usage : EXIT.error;
  }
}

/**
 * What happens next, as it is: only an installed relay (an install record in the data dir) starts
 * again at login or for the extension; one run by hand (`mailkeep relay`) stays stopped.
 */
function stoppedLine(dataDir: string): string {
  let installed: boolean;
  try {
    installed = readInstallRecord(dataDir) !== undefined;
  } catch {
    installed = true; // a damaged record: the service entries it listed may still be there
  }
  return installed
    ? 'stopped. It starts again at your next login, or when the browser extension needs it ("mailkeep uninstall" removes it for good).'
    : 'stopped. It is not installed as a service, so nothing starts it again: run "mailkeep relay" (or "mailkeep install" to start it at login).';
}
