import fs from 'node:fs';
import { expect } from 'vitest';
import type { EventFrame, RelayFrame } from '../../lib/protocol/relay-frames.ts';
import type { Dovecot } from '../support/dovecot.ts';
import type { RelayProcess, WsClient } from './relay-harness.ts';

// Vitest-only helpers for jobs over the relay socket (relay-harness.ts is also loaded by Playwright).

/** The status event that ends job `jobId` (phase finished). */
export const jobFinished = (jobId: string) => (f: RelayFrame): f is EventFrame =>
  f.type === 'event' && f.data.event === 'status' && f.data.jobId === jobId && f.data.phase === 'finished';

/**
 * Starts a job over the socket (job.start with `params`, request id `callId`), checks the reply
 * against `expectStarted` (by default: a result), then waits up to `timeoutMs` for the status event
 * that ends it.
 */
export async function startJobAndWait(
  c: WsClient,
  callId: string,
  params: Record<string, unknown>,
  opts: { timeoutMs: number; expectStarted?: Record<string, unknown> },
): Promise<{ started: RelayFrame; jobId: string; final: EventFrame }> {
  const started = await c.call(callId, 'job.start', params);
  expect(started, JSON.stringify(started)).toMatchObject(opts.expectStarted ?? { type: 'result' });
  const jobId = (started as { result: { job: { id: string } } }).result.job.id;
  return { started, jobId, final: await c.waitFor(jobFinished(jobId), opts.timeoutMs) };
}

/**
 * The teardown of a suite that runs a relay against a Dovecot: closes the client, stops the relay
 * and Dovecot, removes their directories. Any of them may be missing (a beforeAll that failed early).
 */
export async function stopRelayWorld(w: { c?: WsClient; relay?: RelayProcess; dc?: Dovecot; dataDir?: string }): Promise<void> {
  w.c?.close();
  await w.relay?.stop();
  await w.dc?.stop();
  if (w.dc) fs.rmSync(w.dc.dir, { recursive: true, force: true });
  if (w.dataDir) fs.rmSync(w.dataDir, { recursive: true, force: true });
}
