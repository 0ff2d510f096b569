import { SERVICE_LIMITS } from '../../lib/limits.ts';
import type { Command } from './install-record.ts';

export const LAUNCHD_LABEL = 'org.mailkeep.relay';

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A per-user LaunchAgent (launchd.plist(5)): loaded at login (RunAtLoad), restarted when it exits
 * unsuccessfully (KeepAlive/SuccessfulExit false: a clean `launchctl bootout` or SIGTERM stays
 * stopped), no faster than ThrottleInterval. stderr goes to the relay's log for a crash trace.
 */
export function launchdPlist(command: Command, logFile: string, workingDir: string): string {
  const args = command.map((a) => `\t\t<string>${xml(a)}</string>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by \`mailkeep install\`; \`mailkeep uninstall\` removes it. -->
<plist version="1.0">
<dict>
\t<key>Label</key>
\t<string>${LAUNCHD_LABEL}</string>
\t<key>ProgramArguments</key>
\t<array>
${args}
\t</array>
\t<key>RunAtLoad</key>
\t<true/>
\t<key>KeepAlive</key>
\t<dict>
\t\t<key>SuccessfulExit</key>
\t\t<false/>
\t</dict>
\t<key>ThrottleInterval</key>
\t<integer>${SERVICE_LIMITS.restartDelaySeconds}</integer>
\t<key>ProcessType</key>
\t<string>Background</string>
\t<key>WorkingDirectory</key>
\t<string>${xml(workingDir)}</string>
\t<key>StandardErrorPath</key>
\t<string>${xml(logFile)}</string>
\t<key>Umask</key>
\t<integer>63</integer>
</dict>
</plist>
`;
}
