import { ARCHIVE_BROWSE_LIMITS } from '../limits.ts';

/**
 * Results as you type: each change waits for a pause in typing (debounce), and only the answer to
 * the latest query is delivered. An answer to an older one that arrives late (a slower query sent
 * earlier) is dropped, so the list never jumps back to what was typed a moment ago. A request
 * already sent cannot be called back from the relay (one SQLite query, milliseconds), so "cancel"
 * here means: not sent if superseded while waiting, not shown if superseded while running.
 */
export interface LatestOnly<Q, R> {
  /** A new query; `run` is called after the pause unless another query came first. */
  push(query: Q): void;
  /** Forget any pending or running query (the page changes account). */
  cancel(): void;
}

export function latestOnly<Q, R>(
  run: (query: Q) => Promise<R>,
  deliver: (result: R, query: Q) => void,
  opts: { delayMs?: number; setTimer?: (fn: () => void, ms: number) => unknown; clearTimer?: (t: unknown) => void } = {},
): LatestOnly<Q, R> {
  const delay = opts.delayMs ?? ARCHIVE_BROWSE_LIMITS.searchDebounceMs;
  const setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = opts.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
  let generation = 0;
  let timer: unknown = null;
  return {
    push(query) {
      const mine = ++generation;
      if (timer !== null) clearTimer(timer);
      timer = setTimer(() => {
        timer = null;
        void run(query).then((result) => {
          if (mine === generation) deliver(result, query);
        });
      }, delay);
    },
    cancel() {
      generation++;
      if (timer !== null) clearTimer(timer);
      timer = null;
    },
  };
}
