import type { ImapFlow } from 'imapflow';
import { MailkeepError, type ErrorCode } from '../../lib/protocol/error-codes.ts';
import { classifyImapError } from './classify-error.ts';
import { lastSocketError } from './session.ts';
import { sessionLimit } from './provider-limits.ts';

export interface SessionErrorOptions {
  /**
   * Backup reads folders only through the session it is classifying: a folder it cannot read at
   * this level (not a per-item skip) means the session broke, so it retries as a lost connection.
   * Restore and Migrate keep FOLDER_UNREADABLE as a final, non-retried failure.
   */
  folderUnreadableIsLost?: boolean;
}

/** A mid-session failure: imapflow reports "NoConnection" after the socket error it saw first. */
export function sessionErrorCode(err: unknown, client: ImapFlow | null, opts: SessionErrorOptions = {}): ErrorCode {
  if (err instanceof MailkeepError) return err.code;
  // The server said stop on this session (any command, tagged, untagged or BYE): whatever error the
  // closed session then gave the caller, the cause is the limit.
  if (sessionLimit(client)) return 'PROVIDER_LIMIT_PAUSED';
  const first = client ? lastSocketError(client) : undefined;
  const code = classifyImapError(err);
  if (first && (code === 'CONNECTION_LOST' || code === 'UNKNOWN')) {
    const c = classifyImapError(first);
    if (c !== 'UNKNOWN') return c;
  }
  if (code === 'UNKNOWN' && client && !client.usable) return 'CONNECTION_LOST';
  if (opts.folderUnreadableIsLost && code === 'FOLDER_UNREADABLE') return 'CONNECTION_LOST';
  return code;
}
