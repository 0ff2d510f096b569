import type { Command } from './install-record.ts';

export const WINDOWS_TASK_NAME = 'Mailkeep Relay';

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One argument for a Windows command line (CommandLineToArgvW rules): quoted, inner quotes and the backslashes before them doubled. */
export function windowsQuote(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  return `"${arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`;
}

/**
 * A per-user Task Scheduler task (Task Scheduler Schema, version 1.2, learn.microsoft.com): starts at
 * this user's logon, as this user without elevation (InteractiveToken, LeastPrivilege), runs with
 * no time limit and on battery, and is restarted after a failure. Registered with
 * `schtasks /Create /TN "Mailkeep Relay" /XML <file>`, which reads UTF-16 (see windowsTaskFile).
 */
export function windowsTaskXml(command: Command, user: string | undefined, workingDir: string): string {
  const userId = user ? `\n      <UserId>${xml(user)}</UserId>` : '';
  return `<?xml version="1.0" encoding="UTF-16"?>
<!-- Written by \`mailkeep install\`; \`mailkeep uninstall\` removes it. -->
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>Mailkeep relay: scheduled IMAP backups for the Mailkeep extension</Description>
    <URI>\\${xml(WINDOWS_TASK_NAME)}</URI>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>${userId}
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">${user ? `\n      <UserId>${xml(user)}</UserId>` : ''}
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>${xml(command[0]!)}</Command>
      <Arguments>${xml(command.slice(1).map(windowsQuote).join(' '))}</Arguments>
      <WorkingDirectory>${xml(workingDir)}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
`;
}

/** The file schtasks reads: UTF-16 little-endian with a byte-order mark, CRLF line ends. */
export function windowsTaskFile(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf16le')]);
}
