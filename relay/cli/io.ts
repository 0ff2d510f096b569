/** Where a command writes and what it reads from its process; tests pass their own streams. */
export interface Io {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Standard input, for commands that read a list from it (`restore --ids -`); default process.stdin. */
  in?: NodeJS.ReadableStream;
}

/**
 * The errors of a write nobody will read: the reader has gone (`mailkeep search … | head -1`: EPIPE;
 * a socket: ECONNRESET), the terminal was closed (EIO), or the stream was destroyed after one of those.
 */
const CLOSED_OUTPUT = new Set(['EPIPE', 'EIO', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);
const guarded = new WeakSet<NodeJS.WriteStream>();

/**
 * A reader that stops reading early (`| head -1`, a pager quit) closes the pipe: Node then reports
 * EPIPE as an 'error' event on the stream, and with no listener that is a crash with a stack trace.
 * Every command's output goes through here (main.ts), so the whole class is closed in one place:
 * from then on the stream's output is dropped, quietly, and the command carries on and exits with
 * its own code. Carrying on, not exiting at once: `mailkeep restore … | head -1` must not stop a
 * restore halfway because nobody reads its progress, and a pipeline under `set -o pipefail` sees
 * the command's real outcome (0 for a listing, which is what `git log | head -1` amounts to for the
 * user) rather than a signal's 141. Other write errors stay what they were (thrown). `mailkeep relay`
 * and `pair` are not guarded here: relay/server owns their streams (a closed terminal stops the echo).
 */
export function dropOutputWhenReaderGoes(stream: NodeJS.WriteStream): void {
  if (guarded.has(stream) || typeof stream.on !== 'function') return;
  guarded.add(stream);
  let gone = false;
  const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (CLOSED_OUTPUT.has(err.code ?? '')) gone = true;
    else if (stream.listenerCount('error') === 1) throw err; // as before: nobody else handles it
  });
  // Once gone, a write succeeds at once: nothing waits for a 'drain' that will never come.
  stream.write = ((...args: unknown[]): boolean => {
    if (!gone) return write(...args);
    const done = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (done) process.nextTick(done);
    return true;
  }) as NodeJS.WriteStream['write'];
}
