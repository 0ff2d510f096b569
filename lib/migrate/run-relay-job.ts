import type { SnapshotOf } from '../protocol/common.ts';
import { jobStartBody, type JobParamsInputOf } from '../protocol/job-kinds.ts';
import { MailkeepError } from '../protocol/error-codes.ts';
import type { RelayConnection } from '../protocol/relay-client.ts';
import type { JobKind } from '../protocol/status-ids.ts';

/**
 * Starts one relay job and follows it to its end by polling job.get: the page that asked for it
 * (the Migrate form) shows progress and the outcome. Polling rather than events: a page may open
 * after the job started, and a missed event must not leave it waiting forever. Every wait has a
 * deadline; platform-free, so it is tested without a browser.
 */
export interface RunJobOptions<K extends JobKind> {
  kind: K;
  accountId: string;
  /** One per intended run: a retried click returns the same job, never a second one. */
  idempotencyKey: string;
  /** The kind's own parameters (lib/protocol/job-kinds.ts), checked before anything is sent. */
  params: JobParamsInputOf<K>;
  /** Called with every snapshot polled (progress, intermediate statuses). */
  onUpdate?: (job: SnapshotOf<K>) => void;
  pollMs?: number;
  deadlineMs: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export async function runRelayJob<K extends JobKind>(relay: Pick<RelayConnection, 'call'>, o: RunJobOptions<K>): Promise<SnapshotOf<K>> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = o.now ?? Date.now;
  const until = now() + o.deadlineMs;
  // The relay answers with a job of the kind asked for (same idempotency key, same kind).
  const own = (j: { kind: JobKind }) => j as SnapshotOf<K>;
  let job = own((await relay.call('job.start', jobStartBody({ kind: o.kind, accountId: o.accountId, idempotencyKey: o.idempotencyKey, params: o.params }))).job);
  o.onUpdate?.(job);
  while (job.phase !== 'finished') {
    if (job.phase === 'interrupted') throw new MailkeepError('CANCELLED', 'the relay stopped during the job; it resumes it when it starts again', { jobId: job.id });
    if (now() > until) throw new MailkeepError('CONNECTION_TIMEOUT', 'the job is still running; its result will appear in the dashboard', { jobId: job.id });
    await sleep(o.pollMs ?? 500);
    job = own((await relay.call('job.get', { jobId: job.id })).job);
    o.onUpdate?.(job);
  }
  return job;
}

/** A fresh idempotency key for a run the user asked for now. */
export function newJobKey(kind: JobKind, a: string, b: string, dryRun: boolean): string {
  const rand = Array.from(crypto.getRandomValues(new Uint8Array(6)), (x) => x.toString(16).padStart(2, '0')).join('');
  return `${kind}-${a}-${b}-${dryRun ? 'preview' : 'run'}-${Date.now().toString(36)}-${rand}`.slice(0, 128);
}
