import crypto from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { appendDeadlineMs, type AppendDeadline } from './append-stream.ts';
import { reclaimStreamChunks } from './append-reclaim.ts';

/**
 * SHA-256 of one message of the selected folder, read in partial FETCHes (imapflow's download(),
 * as backup does for large messages), for the presence check of a message without a Message-ID:
 * a 100 MB message is hashed without being held whole. Null when the message is gone. The read
 * has the same minimum-rate deadline as an APPEND of that size; past it the session is closed.
 */
export async function hashByDownload(client: ImapFlow, uid: number, size: number, deadline?: Partial<AppendDeadline>): Promise<string | null> {
  const ms = appendDeadlineMs(size, deadline);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      client.close();
      reject(mailkeepError('CONNECTION_TIMEOUT', `the server sent a ${size}-byte message too slowly to compare it (deadline ${Math.round(ms / 1000)} s): connection closed`));
    }, ms);
  });
  const read = async (): Promise<string | null> => {
    const dl = await client.download(String(uid), undefined, { uid: true, chunkSize: RELAY_LIMITS.appendStreamChunkBytes });
    if (!dl?.content) return null;
    const h = crypto.createHash('sha256');
    let since = 0;
    for await (const chunk of dl.content as AsyncIterable<Buffer>) {
      h.update(chunk);
      since += chunk.length;
      if (since >= RELAY_LIMITS.appendReclaimEveryBytes) {
        since = 0;
        reclaimStreamChunks();
      }
    }
    return h.digest('hex');
  };
  try {
    return await Promise.race([read(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
