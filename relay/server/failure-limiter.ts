import { DOOR_LIMITS } from '../../lib/limits.ts';

/**
 * Counts failed authentications (bad tokens, bad pairing codes) in a sliding window. Every client
 * is 127.0.0.1, so the count is global. A web page never gets this far (the Origin check comes
 * first), so only a local program forging the extension's Origin can fill the window: it then locks
 * the door for a minute for everyone, which is the safe failure (the extension retries; the
 * guesser gets 5 tries a minute at a 40-bit code or a 256-bit token).
 */
export class FailureLimiter {
  private failures: number[] = [];

  constructor(
    private readonly max: number = DOOR_LIMITS.authFailuresPerWindow,
    private readonly windowMs: number = DOOR_LIMITS.authFailureWindowMs,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while the window is full: even a right token is refused, so guessing gains nothing. */
  blocked(): boolean {
    this.prune();
    return this.failures.length >= this.max;
  }

  recordFailure(): void {
    this.prune();
    this.failures.push(this.now());
  }

  /** Seconds until the oldest failure leaves the window (for Retry-After). */
  retryAfterSeconds(): number {
    this.prune();
    const oldest = this.failures[0];
    return oldest === undefined ? 0 : Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  private prune(): void {
    const cutoff = this.now() - this.windowMs;
    while (this.failures.length > 0 && this.failures[0]! <= cutoff) this.failures.shift();
  }
}
