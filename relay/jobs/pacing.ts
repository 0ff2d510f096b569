/**
 * What a job sees of its account's daily transfer budget (relay/state/transfer-budget.ts builds
 * it): count bytes as they arrive, ask whether the budget is spent and when it refills. The job
 * pauses (PROVIDER_LIMIT_PAUSED) instead of running into the provider's own lock.
 */
export interface JobPacing {
  provider: 'gmail' | 'outlook' | 'other';
  /** Bytes this job counts: downloaded (backup, a migrate's source) or uploaded (restore, a migrate's destination). */
  direction?: 'down' | 'up';
  /**
   * The capabilities of the job's first session: a server advertising X-GM-EXT-1 is Gmail for
   * pacing too (its defaults, recorded on the account), whatever its host name.
   */
  sawCapabilities?(caps: ReadonlySet<string> | Map<string, unknown>): void;
  /** "Gmail's daily download limit": for the pause condition and the forecast. */
  limitName: string;
  /** Bytes per rolling 24 h, or null (no budget: never spent). */
  dailyBytes: number | null;
  /** Sessions of the account open at once, at most (relay/imap/connection-cap.ts), or null. */
  maxConnections: number | null;
  /** The relay's clock (the test hook moves it). */
  now(): number;
  took(bytes: number): void;
  spent(): boolean;
  /** Bytes left in the rolling window (Infinity without a budget): a batch is cut to it. */
  left?(): number;
  /** When `need` more bytes fit again (now when they already do). */
  refillAt(need?: number): number;
  /** Writes the tally kept in memory. */
  flush(): void;
}

/** Why and until when a job paused: kept in the job's outcome and shown as its condition. */
export type { PauseInfo } from '../../lib/protocol/job-outcome.ts';
