// No zod here (nor anything that loads it): relay/cli/search-command.ts and the archive readers it
// uses import these, and `mailkeep search` must start in about the time Node itself takes. The codes
// themselves are listed in error-codes.ts; a type-only import costs nothing at run time.
import type { ErrorCode } from './error-codes.ts';

/** An Error with a stable code and optional structured, secret-free details. */
export class MailkeepError extends Error {
  override readonly name = 'MailkeepError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function mailkeepError(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): MailkeepError {
  return new MailkeepError(code, message, details, cause === undefined ? undefined : { cause });
}

export function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof MailkeepError ? err.code : 'UNKNOWN';
}
