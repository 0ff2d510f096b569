import { ARCHIVE_BROWSE_LIMITS } from '../limits.ts';
import type { ArchiveCall, ArchiveMethod, ArchiveResultOf } from '../protocol/archive-browse.ts';
import type { ErrorCode } from '../protocol/error-codes.ts';
import { sendMessage } from './send-message.ts';

export type ArchiveReply<M extends ArchiveMethod> = { ok: true; value: ArchiveResultOf<M> } | { ok: false; code: ErrorCode; message: string; position?: number };

/**
 * One archive.* request through the service worker (which holds the relay link, like every page's
 * requests). A worker that never answers (stopped mid-request) is a CONNECTION_TIMEOUT after the
 * page's deadline, never a spinner forever.
 */
export async function archiveCall<M extends ArchiveMethod>(method: M, params: Extract<ArchiveCall, { method: M }>['params']): Promise<ArchiveReply<M>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<ArchiveReply<M>>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, code: 'CONNECTION_TIMEOUT', message: 'the relay did not answer in time' }), ARCHIVE_BROWSE_LIMITS.pageDeadlineMs);
  });
  try {
    return await Promise.race([sendMessage<ArchiveResultOf<M>>({ type: 'archive', call: { method, params } as ArchiveCall }), late]);
  } finally {
    clearTimeout(timer);
  }
}
