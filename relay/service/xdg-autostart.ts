import type { Command } from './install-record.ts';

export const AUTOSTART_FILE_NAME = 'mailkeep-relay.desktop';

/**
 * One Exec argument per the Desktop Entry Specification ("The Exec key"): quoted, with `"`, `` ` ``,
 * `$` and `\` escaped by a backslash inside the quotes, `%` doubled (field codes); then the value
 * itself is a string, whose backslashes are escaped once more.
 */
export function desktopExecQuote(arg: string): string {
  const quoted = `"${arg.replace(/(["`$\\])/g, '\\$1').replace(/%/g, '%%')}"`;
  return quoted.replace(/\\/g, '\\\\');
}

/**
 * An XDG autostart entry (freedesktop.org Desktop Application Autostart Specification): the desktop
 * session starts the relay at login. Nothing restarts it if it dies; the native host starts it
 * again on the extension's next use.
 */
export function autostartEntry(command: Command): string {
  return [
    '# Written by `mailkeep install`; `mailkeep uninstall` removes it.',
    '[Desktop Entry]',
    'Type=Application',
    'Name=Mailkeep relay',
    'Comment=Runs the Mailkeep extension\'s scheduled IMAP backups in the background',
    `Exec=${command.map(desktopExecQuote).join(' ')}`,
    'Terminal=false',
    'NoDisplay=true',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}
