import { SERVICE_LIMITS } from '../../lib/limits.ts';
import type { Command } from './install-record.ts';

export const SYSTEMD_UNIT_NAME = 'mailkeep-relay.service';

/**
 * One ExecStart argument, quoted per systemd.service(5) "Command lines": double quotes with C-style
 * backslash escapes; `%` is a specifier and `$` a variable, so both are doubled to stay literal.
 */
export function systemdQuote(arg: string): string {
  return `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

/**
 * A `systemd --user` unit (systemd.unit(5), systemd.service(5)): started at login by
 * default.target, restarted when it fails (not when stopped cleanly), stopped with SIGTERM so jobs
 * checkpoint. The relay writes its own rotating log in the data dir; the journal only gets a crash.
 */
export function systemdUnit(command: Command, docsPath: string): string {
  return [
    '# Written by `mailkeep install`; `mailkeep uninstall` removes it.',
    '[Unit]',
    'Description=Mailkeep relay (scheduled IMAP backups for the Mailkeep extension)',
    `Documentation=file://${docsPath.replace(/%/g, '%%')}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${command.map(systemdQuote).join(' ')}`,
    'Restart=on-failure',
    `RestartSec=${SERVICE_LIMITS.restartDelaySeconds}`,
    'KillSignal=SIGTERM',
    // The relay's own shutdown deadline is 10 s; a last batch commit may add a few.
    `TimeoutStopSec=${Math.ceil(SERVICE_LIMITS.relayStopDeadlineMs / 1000)}`,
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}
