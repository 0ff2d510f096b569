import os from 'node:os';
import type { Readable } from 'node:stream';
import { SERVICE_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';

/**
 * The browsers' native-messaging framing: each message is a 32-bit unsigned length in native byte
 * order, then that many bytes of UTF-8 JSON (developer.chrome.com "Native messaging protocol";
 * MDN "Native messaging", App side).
 */
const LITTLE = os.endianness() === 'LE';

export function encodeNativeMessage(value: unknown, maxBytes: number = SERVICE_LIMITS.nativeMaxReplyBytes): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  if (body.length > maxBytes) throw mailkeepError('INVALID_INPUT', `native message of ${body.length} bytes exceeds ${maxBytes}`);
  const head = Buffer.alloc(4);
  if (LITTLE) head.writeUInt32LE(body.length);
  else head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

export type NativeRead = { kind: 'message'; value: unknown } | { kind: 'unreadable'; reason: string };

/**
 * Yields each message read from `input` until it ends. A body that is not JSON yields
 * `unreadable` and reading goes on (the frame boundary is known). A length over `maxBytes`, or a
 * body that does not complete within `deadlineMs`, ends the stream with an error: the boundary is
 * lost, or the writer is not the browser, so nothing after it can be trusted.
 * Chunks are collected until a message is complete (no concat per chunk: O(n), not O(n^2)).
 */
export async function* readNativeMessages(
  input: Readable,
  opts: { maxBytes?: number; deadlineMs?: number } = {},
): AsyncGenerator<NativeRead> {
  const maxBytes = opts.maxBytes ?? SERVICE_LIMITS.nativeMaxRequestBytes;
  const deadlineMs = opts.deadlineMs ?? SERVICE_LIMITS.nativeMessageDeadlineMs;
  let chunks: Buffer[] = [];
  let have = 0;
  let need: number | undefined; // body length once the 4-byte head is complete
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const take = (n: number): Buffer => {
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    chunks = rest.length ? [rest] : [];
    have = rest.length;
    return out;
  };
  const armDeadline = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      input.destroy(mailkeepError('INVALID_INPUT', `a native message did not complete within ${deadlineMs} ms`));
    }, deadlineMs);
    timer.unref();
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (have === 0 && need === undefined) armDeadline(); // a message has begun
      chunks.push(chunk);
      have += chunk.length;
      for (;;) {
        if (need === undefined) {
          if (have < 4) break;
          const head = take(4);
          need = LITTLE ? head.readUInt32LE(0) : head.readUInt32BE(0);
          if (need > maxBytes) throw mailkeepError('INVALID_INPUT', `native message of ${need} bytes exceeds ${maxBytes}`, { bytes: need });
        }
        if (have < need) break;
        const body = take(need).toString('utf8');
        need = undefined;
        if (have === 0) clearTimeout(timer);
        else armDeadline();
        let value: unknown;
        try {
          value = JSON.parse(body);
        } catch {
          yield { kind: 'unreadable', reason: 'not JSON' };
          continue;
        }
        yield { kind: 'message', value };
      }
    }
    if (have > 0 || need !== undefined) throw mailkeepError('INVALID_INPUT', 'input ended inside a native message');
  } catch (err) {
    if (timedOut) throw mailkeepError('INVALID_INPUT', `a native message did not complete within ${deadlineMs} ms`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
