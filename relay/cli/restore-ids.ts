import { ARCHIVE_BROWSE_LIMITS, SCHEDULE_LIMITS } from '../../lib/limits.ts';
import { parseRef } from '../search/message-ref.ts';
import { UsageError } from './args.ts';

/**
 * The ids of `--ids ID[,ID...]`, or of `--ids -`: stdin, one message per line. A line's last word is
 * its id, so `mailkeep search … | mailkeep restore --ids -` works on search's own lines (the id is
 * their last column) as well as on bare ids (`jq -r '.hits[].id'`); commas also separate. Every id
 * is checked before anything runs: a malformed one is INVALID_INPUT naming it, and nothing is restored.
 */
export function idsOf(words: readonly string[]): string[] {
  const ids = [...new Set(words.flatMap((w) => w.split(',')).map((w) => w.trim()).filter(Boolean))];
  if (ids.length === 0) throw new UsageError('--ids names no message (give the ids mailkeep search prints)');
  const max = ARCHIVE_BROWSE_LIMITS.selectionMax;
  if (ids.length > max) throw new UsageError(`--ids names ${ids.length} messages; at most ${max} at once (a larger set is a folder or a date range: --folder, --since, --until)`);
  const bad = ids.filter((id) => {
    try {
      parseRef(id);
      return false;
    } catch {
      return true;
    }
  });
  if (bad.length)
    throw new UsageError(`not a message id: ${bad.slice(0, 5).map((b) => JSON.stringify(b.slice(0, 80))).join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''} (an id is 16 hex digits, "-", a folder number, as mailkeep search prints it)`);
  return ids;
}

/** The last word of every non-empty line. */
export function idWordsOfLines(text: string): string[] {
  return text.split(/\r?\n/).flatMap((l) => {
    const w = l.trim().split(/\s+/).at(-1);
    return w ? [w] : [];
  });
}

/** All of stdin, bounded in size and in time (lib/limits.ts says why), as id words. */
export async function readIdsFromStdin(input: NodeJS.ReadableStream, signal?: AbortSignal): Promise<string[]> {
  const maxBytes = SCHEDULE_LIMITS.cliIdsStdinMaxBytes;
  const chunks: Buffer[] = [];
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    const stop = (err?: Error): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      input.off('data', onData).off('end', onEnd).off('error', stop);
      if (err) reject(err);
      else resolve();
    };
    const onData = (d: Buffer | string): void => {
      const b = typeof d === 'string' ? Buffer.from(d) : d;
      bytes += b.length;
      if (bytes > maxBytes) return stop(new UsageError(`--ids -: stdin holds more than ${maxBytes} bytes; that is not a list of message ids`));
      chunks.push(b);
    };
    const onEnd = (): void => stop();
    const onAbort = (): void => stop(new UsageError('--ids -: interrupted while reading stdin'));
    const timer = setTimeout(() => stop(new UsageError(`--ids -: stdin did not end within ${SCHEDULE_LIMITS.cliIdsStdinDeadlineMs / 60_000} minutes`)), SCHEDULE_LIMITS.cliIdsStdinDeadlineMs);
    timer.unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    input.on('data', onData).on('end', onEnd).on('error', stop);
    input.resume();
  });
  return idWordsOfLines(Buffer.concat(chunks).toString('utf8'));
}

/**
 * `--ids` as given: a comma list, or `-` for stdin. Stdin a terminal (no pipe): the command would
 * seem to hang, so it says what it waits for (`err`), and the person may paste ids and end with Ctrl-D.
 */
export async function idsOption(value: string, input: NodeJS.ReadableStream, signal?: AbortSignal, err?: NodeJS.WritableStream): Promise<string[]> {
  if (value !== '-') return idsOf([value]);
  if ((input as { isTTY?: boolean }).isTTY) err?.write('--ids -: reading message ids from the terminal, one per line; Ctrl-D ends the list (or pipe mailkeep search into this command)\n');
  return idsOf(await readIdsFromStdin(input, signal));
}
