import type { ErrorCode } from '../protocol/error-codes.ts';
import { START_RELAY_COMMAND } from './hint-phrases.ts';

/**
 * The one table from a stable error code to what the user is told. A Record over every code, so a
 * new code without a hint fails to typecheck. Hints never contain secrets or server replies.
 */
export const ERROR_HINTS: Readonly<Record<ErrorCode, string>> = {
  AUTH_FAILED: 'The mail server rejected the user name or password. Click "Edit" and update the password.',
  CONNECTION_REFUSED: 'Nothing answered at this server address and port. Check the host and port in "Edit".',
  HOST_NOT_FOUND: 'The server name could not be found. Check the host name in "Edit" and your internet connection.',
  CONNECTION_TIMEOUT: 'The mail server took too long to answer. Mailkeep tries again by itself.',
  TLS_FAILED: 'A secure connection could not be set up. Check the security setting (TLS or STARTTLS) and the port in "Edit".',
  TLS_CERT_UNTRUSTED:
    'The server’s certificate is not signed by an authority this computer trusts. If it is your own server (self-hosted, a NAS), give Mailkeep its certificate: mailkeep account edit NAME --ca FILE. Otherwise do not trust it: ask the provider which server name to use.',
  TLS_CERT_NAME_MISMATCH: 'The server’s certificate is made out to another name than the host given. Use the host name on its certificate in "Edit" (e.g. mail.example.org, not its IP address).',
  TLS_CERT_EXPIRED: 'The server’s certificate has expired (or is not valid yet). Its administrator must renew it; also check this computer’s date and time.',
  TLS_WRONG_PORT:
    'This port does not speak the chosen security mode: the server answered in plain text where TLS was expected. Check in "Edit": TLS usually goes with port 993, STARTTLS with port 143.',
  CONNECTION_LOST: 'The mail server closed the connection during the job. Mailkeep tries again by itself.',
  SERVER_BUSY: 'The mail server is busy or limiting connections. Mailkeep tries again by itself later.',
  QUOTA_EXCEEDED: 'The mail server’s storage is full. Free space on it, then retry.',
  PROVIDER_LIMIT_PAUSED:
    'Nothing is wrong with the account: the mail provider limits how much may be transferred per day (or asked Mailkeep to slow down). The backup, restore or migration pauses and resumes by itself at the time shown, keeping everything copied so far (nothing is copied twice).',
  APPENDLIMIT_EXCEEDED: 'A message is larger than the destination server accepts; the other messages were copied.',
  MESSAGE_REFUSED: 'The destination server refused some messages (its reason is listed with each); the other messages were copied. Those messages stay in the source or the archive.',
  FOLDER_UNREADABLE: 'One folder could not be read; the other folders were saved.',
  FOLDER_NOT_CREATED: 'The destination server would not create one folder (or did not show it afterwards); its messages were not copied, the other folders were.',
  MESSAGE_UNREADABLE: 'Some messages could not be read; the other messages were saved.',
  MESSAGE_MISSING: 'The mail server left some messages out of its answer; the others were saved. The next backup asks for them again.',
  MESSAGE_SIZE_MISMATCH: 'The mail server sent some messages damaged (another size than it announced); they were not saved. The next backup asks for them again.',
  MESSAGE_TOO_SLOW: 'The mail server sent some messages far too slowly; they were skipped. The next backup asks for them again.',
  DESTINATION_LOSES_METADATA:
    'The destination server does not keep the flags (read, flagged, labels) and dates of the messages it is given, so Mailkeep stopped after the first one instead of copying everything without them. Nothing was lost: the mail is still in the source or the archive. Choose another destination server, or ask its administrator to fix it.',
  LABELS_NOT_APPLIED: 'Every message was copied to Gmail once, but some of their labels could not be added. Run the same restore again: it copies nothing twice and adds the missing labels.',
  UIDVALIDITY_UNSTABLE:
    'The source server changes UIDVALIDITY on every connection; incremental runs are not possible. Mailkeep compared every message by its content instead, so nothing was copied or stored twice; runs of this account take longer than with other servers.',
  OAUTH_NOT_CONFIGURED: 'Sign-in with this provider is not set up on this computer: it needs a client ID. See "Signing in with Google or Microsoft" (docs/oauth.md) to register one, then try again.',
  OAUTH_REVOKED: 'The provider no longer accepts Mailkeep’s sign-in (access was removed, it expired, or the password changed). Click "Sign in again".',
  OAUTH_TOKEN_REFUSED:
    'The mail server refuses Mailkeep’s sign-in even with fresh access: check that IMAP is turned on for this account (Gmail: Settings, Forwarding and POP/IMAP; Microsoft 365: IMAP allowed by the administrator), then click "Sign in again".',
  OAUTH_UNREACHABLE: 'The sign-in provider could not be reached to renew access. Mailkeep tries again by itself.',
  OAUTH_FLOW_FAILED: 'The sign-in did not complete (it was denied, or the answer did not belong to this sign-in). Start the sign-in again.',
  OAUTH_FLOW_EXPIRED: 'The sign-in was not finished in time. Start the sign-in again.',
  RUN_TIME_LIMIT: 'The backup ran too long and was stopped; what was saved is kept and the next backup continues from there.',
  DISK_FULL: 'The disk holding the archive is full. Free space on it, then retry.',
  ARCHIVE_CORRUPT:
    'Some archived messages are damaged: their stored bytes no longer match what was saved. A restore skips them and restores the others; an export stops without writing its file. Run "mailkeep verify --archive DIR" to list the damage. A later backup into this archive does not fetch them again (it counts them as stored); while the server still has them, a backup into a new, empty archive folder keeps good copies.',
  ARCHIVE_DAMAGED:
    'The archive is damaged. Run "mailkeep repair --archive DIR" (DIR: the archive folder) to rebuild its index from the stored mail, then "mailkeep verify --archive DIR" to check it.',
  ARCHIVE_LOCKED: 'Another Mailkeep process is using the archive. Wait for it to finish, then retry.',
  ARCHIVE_INDEX_MISSING: 'The archive’s index file is missing; the mail is still there. Run "mailkeep repair --archive DIR" to rebuild the index, then retry.',
  ARCHIVE_NOT_WRITABLE:
    'The archive folder cannot be written: it is on a read-only disk (or snapshot) or this user may not write to it, so nothing was backed up or repaired. Reading it still works: verify, archive-info, restore and export. To back up, make the disk writable or choose a writable archive folder.',
  ARCHIVE_PATH_INVALID:
    'The archive path is not an archive folder: it names a file, or the folder holds a folder called index.sqlite where the index file belongs. Nothing was changed. Give the archive folder itself, or move the stray item out of it.',
  NOT_FOUND: 'The account, job or file no longer exists.',
  OUTPUT_INSIDE_ARCHIVE: 'The export file would be inside the archive folder, where it could destroy archived mail. Nothing was written; choose a place outside the archive.',
  OUTPUT_EXISTS: 'A file with that name already exists and was left as it is. Choose another name, or add --force to replace it.',
  OUTPUT_IS_DIRECTORY: 'The export needs a file name, and this is a folder. Nothing was written; give a file name such as mail.zip.',
  JOBS_FILE_UNREADABLE:
    'The relay’s job list (jobs.json in its data folder) is damaged, so the relay did not start; nothing was changed. Move that file aside and start the relay again: the archives and their mail are not affected, only the list of past jobs is lost.',
  CREDENTIALS_UNREADABLE:
    'The relay’s saved passwords (the credentials file and its key file in its data folder) cannot be read, so the relay did not start; nothing was changed. Put back both files from a copy, or move them aside and enter the account passwords again.',
  STATE_UNREADABLE:
    'The relay’s state file (state.sqlite in its data folder: schedules and job history) is damaged or was written by a newer Mailkeep, so the relay did not start; nothing was changed. Update Mailkeep, or move state.sqlite aside and start the relay again: archives and passwords are not affected; schedules go back to daily and the job history starts empty.',
  CANCELLED: 'The job was cancelled.',
  JOB_INTERRUPTED: 'Mailkeep stopped twice while this job ran, so it was not started a third time by itself. Click "Retry now" to run it again (nothing already done is done twice); if Mailkeep stops again, send a problem report.',
  JOB_UNKNOWN_TO_RELAY: 'The relay has no record of this job (its data folder was replaced or moved), so its last known status is shown. Click "Start again" to run it again.',
  RETRY_LIMIT: 'Retries ran out. Click "Retry now" to try again.',
  ILLEGAL_TRANSITION: 'Mailkeep refused an impossible status change. Click "Copy diagnostics" and report the problem.',
  PASSWORD_NOT_STORED: 'Mailkeep has no password for this account on this computer (none was saved with the relay). Click "Edit" and give it. Then click "Retry now".',
  IDEMPOTENCY_KEY_REUSED: 'Mailkeep sent a request twice by mistake; nothing was started. It starts again by itself; if this stays, copy the diagnostics and report it.',
  JOB_KIND_UNSUPPORTED: 'The Mailkeep relay on this computer is older than the extension and cannot run this kind of job. Update Mailkeep (run its install command again), then start the job again.',
  INVALID_INPUT: 'Some values are not valid. Correct the highlighted fields.',
  SEARCH_QUERY_INVALID:
    'The search could not be read at the marked place. Close every quote and bracket, put text with a colon in "double quotes", and use the operators listed in the search help (from:, to:, subject:, folder:, has:attachment, filename:, before:, after:, larger:, is:deleted-on-server, OR, -).',
  RELAY_UNREACHABLE: `The Mailkeep relay on this computer is not running. Start it: ${START_RELAY_COMMAND}.`,
  RELAY_UNPAIRED: 'The extension is not paired with the relay yet. Pair it in the options page.',
  PAIRING_FAILED: 'Pairing with the relay failed. Check the code the relay shows and try again.',
  UNAUTHORIZED: 'The relay did not accept this extension. Pair again in the options page.',
  RATE_LIMITED: 'Too many attempts. Wait a minute, then try again.',
  PROTOCOL_MISMATCH: 'The relay and the extension are different versions. Update both to the same version.',
  EXPIRED: 'The link has expired. Generate the download again.',
  NATIVE_CALLER_REFUSED: 'The Mailkeep helper only answers the Mailkeep extension. Reinstall the extension from its official package, then run "mailkeep install" again.',
  RELAY_START_FAILED: 'The Mailkeep relay could not be started. Its log (relay.log in the Mailkeep data folder) says why; fix that, or pair with a code from "mailkeep pair" in the options page.',
  RELAY_STOP_FAILED: 'The Mailkeep relay did not stop in time; it may still be saving a large batch. Try "mailkeep stop" again in a minute.',
  UNKNOWN: 'An unexpected error happened. Mailkeep tries again by itself; if it persists, click "Copy diagnostics" and report the problem.',
};

/**
 * The same codes as told on the account form itself (Test connection, lib/status/test-connection-words.ts):
 * what to change "above", never 'Click "Edit"' (the user is in it). Codes not listed fall back to
 * their hint above without "Edit".
 */
export const FORM_HINTS: Readonly<Partial<Record<ErrorCode, string>>> = {
  AUTH_FAILED: 'Check the user name and password above, then test again.',
  CONNECTION_REFUSED: 'Nothing answered at this server and port: check both above.',
  HOST_NOT_FOUND: 'The server name could not be found: check it above, and this computer’s internet connection.',
  CONNECTION_TIMEOUT: 'The server did not answer in time: check the server and port above, or try again later.',
  TLS_FAILED: 'Check the security setting (TLS or STARTTLS) and the port above.',
  TLS_CERT_UNTRUSTED: 'The server’s certificate is not signed by an authority this computer trusts. If it is your own server, give Mailkeep its certificate: mailkeep account edit NAME --ca FILE.',
  TLS_CERT_NAME_MISMATCH: 'The server’s certificate is made out to another name: enter the host name on its certificate above.',
  TLS_CERT_EXPIRED: 'The server’s certificate has expired: its administrator must renew it (also check this computer’s clock).',
  TLS_WRONG_PORT: 'This port does not speak the chosen security: TLS usually goes with port 993, STARTTLS with 143. Check both above.',
  SERVER_BUSY: 'The server is busy or limiting connections: try again in a few minutes.',
  // A test is no backup: nothing pauses or resumes here, so not the hint's "resumes at the time shown".
  PROVIDER_LIMIT_PAUSED: 'The provider is limiting this account for now (too many connections, or its transfer limit): nothing is wrong with the settings above; test again later.',
  CONNECTION_LOST: 'The server closed the connection: try again; if it keeps happening, check the security setting and port above.',
  FOLDER_UNREADABLE: 'The server signed the account in but would not list its folders; a backup would fail the same way. Ask the provider whether IMAP folder access is allowed for this account.',
};

export function errorHint(code: ErrorCode | null | undefined): string | null {
  return code ? ERROR_HINTS[code] : null;
}
