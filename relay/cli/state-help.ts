/**
 * Help of the account, schedule, status and `backup --account` commands, apart from their code so
 * that \`mailkeep --help\` and \`mailkeep status --help\` load nothing else.
 */
import { PASSWORD_ENV } from './password-prompt.ts';

export const ACCOUNT_HELP = `Usage: mailkeep account add --host H [--port P] [--security tls|starttls|none] --user U
                           [--id ID] [--name NAME] [--email ADDR] [--ca FILE]
                           [--schedule "every 6h"|"daily 02:00"|off] [--data-dir DIR]
       mailkeep account add --email E --oauth google|microsoft|FILE [--no-browser] [--json]
                           [--id ID] [--schedule S] [--data-dir DIR]
       mailkeep account edit ACCOUNT [--host H] [--port P] [--security S] [--user U] [--password]
                           [--name NAME] [--email ADDR] [--ca FILE|--no-ca] [--data-dir DIR]
       mailkeep account pacing ACCOUNT [--daily-download SIZE|off|default] [--daily-upload SIZE|off|default]
                               [--max-connections N|off|default] [--json] [--data-dir DIR]
       mailkeep account remove ACCOUNT [--data-dir DIR]
       mailkeep account list [--json] [--data-dir DIR]

The accounts the relay backs up by itself (the same ones the extension shows). The password is
read from $${PASSWORD_ENV}, or asked for without echo when run in a terminal; it is stored
encrypted in the data dir and never printed. ACCOUNT is the account's id or its user name.
pacing sets the account's transfer budget per rolling 24 h (default: the provider's, e.g. Gmail
2400MB down, 450MB up, 2 connections; none for other servers); a backup that spends it pauses
(Retrying) and resumes by itself when it refills. Without options it prints the budget and its use.
--ca FILE trusts the certificate(s) in FILE (PEM) for this server, besides the system's: for a
self-hosted server (Dovecot, a NAS) with a self-signed certificate or a private CA. The certificate
text is stored with the account, so the file may be moved or deleted afterwards; --no-ca forgets it.
--name and --email are how the extension and \`account list\` show the account (default: its login).
A new account backs up every 24 hours unless --schedule says otherwise (see mailkeep schedule);
its first backup starts about a minute after it is added.
When the relay runs on DIR the change goes through it (the extension sees it at once); otherwise
it is made on DIR directly. DIR defaults to $MAILKEEP_DATA_DIR, else ~/.mailkeep.
"edit --password" asks for a new password; "remove" keeps the account's archive on disk.
"add --oauth" signs in with Google, Microsoft or a provider file (docs/oauth.md) instead of a
password: it prints the sign-in address (--json: as a JSON line first), opens a browser unless
--no-browser, and waits for the sign-in; the login is the address. Run it again to sign in again.

Exit codes: 0 done, 1 failed (no such account, relay not answering...), 2 bad usage`;

export const SCHEDULE_HELP = `Usage: mailkeep schedule ACCOUNT every Nh|daily HH:MM|off [--data-dir DIR]

When the relay backs up ACCOUNT (its id or user name) by itself, with or without the browser:
  every 6h      6 hours after the previous scheduled run started (N from 1 to 168)
  daily 02:00   every day at that local time (the relay's time zone)
  off           never by itself (Deactivated); "mailkeep backup --account" still runs it
A run missed while the computer slept or the relay was stopped runs once soon after, not once per
missed slot. After Connection Error or Partially Completed the relay retries by itself within a
few hours. Prints the next run.

Exit codes: 0 done, 1 failed (no such account, relay not answering...), 2 bad usage`;

export const STATUS_HELP = `Usage: mailkeep status [ACCOUNT] [--json] [--data-dir DIR]

Every account the relay backs up: its status (the specification's name: Completed, Connection
Error, Authentication Error, Partially Completed, Deactivated...), when its last successful
backup finished, its next scheduled run (and the automatic retry, when one is owed), and the
messages and bytes in its archive. Times are the relay's local time. Works whether or not the
relay runs. --json prints one object: {kind, relayRunning, timeZone, accounts: [...]}.
With ACCOUNT (its id, login, address or name): that account only, with what its archive holds
(messages, folders, size) and its last 10 backup runs: when, how long, status, new messages and
bytes, messages that disappeared on the server (--json: folders, totalRuns, runs).

Exit codes: 0 every account is Completed, 1 any other state (or no account), 2 bad usage;
so cron or a monitor can alert on anything but 0.`;

export const ACCOUNT_BACKUP_HELP = `Usage: mailkeep backup --account ACCOUNT [--json] [--data-dir DIR]

Backs up a stored account (mailkeep account add) now, into the data dir's archive of that account,
as its schedule would. Through the running relay when one runs on DIR (a backup of the account
already running is waited for, not doubled), else directly on DIR. The exit codes are backup's.
(\`mailkeep backup --archive DIR --host ...\` backs up any account into any archive, without the relay.)`;
