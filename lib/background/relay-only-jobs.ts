import { EXTENSION_LIMITS } from '../limits.ts';
import { errorCodeOf } from '../protocol/error-codes.ts';
import type { JobEvent, JobSnapshot } from '../protocol/common.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { getSetting, setSetting, type RelayOnlyJob } from '../storage/settings.ts';
import type { RelayCaller } from './relay-runs.ts';

/**
 * Kinds a page starts on the relay directly (the Migrate page, the Download tab) that the popup
 * shows while they run. Restore plans (the dry runs behind a confirmation) and backups are always
 * followed by rows or are over in a moment, so they are not tracked here.
 */
const TRACKED = new Set(['migrate', 'download']);

const entryOf = (s: JobSnapshot, at: number): RelayOnlyJob => ({ id: s.id, kind: s.kind, accountId: s.accountId, status: s.status, progress: s.progress, updatedAt: at });

async function save(db: MailkeepDb, jobs: RelayOnlyJob[]): Promise<void> {
  await setSetting(db, 'relayOnlyJobs', jobs.slice(0, EXTENSION_LIMITS.relayOnlyJobsMax));
}

/**
 * An event of a relay job no row follows: the first one is looked up with job.get (events carry no
 * account), later ones update its status and progress, the end removes it. Runs on the
 * coordinator's serial chain, so two events never race on the setting.
 */
export async function noteRelayOnlyEvent(db: MailkeepDb, relay: RelayCaller, event: JobEvent, at = Date.now()): Promise<void> {
  const jobs = await getSetting(db, 'relayOnlyJobs');
  const known = jobs.find((j) => j.id === event.jobId);
  if (event.event === 'status' && (event.phase === 'finished' || event.phase === 'interrupted')) {
    if (known) await save(db, jobs.filter((j) => j.id !== event.jobId));
    return;
  }
  if (known) {
    const next = event.event === 'progress' ? { ...known, progress: event.progress, updatedAt: at } : { ...known, status: event.status, updatedAt: at };
    await save(db, jobs.map((j) => (j.id === event.jobId ? next : j)));
    return;
  }
  if (event.event === 'status' && !TRACKED.has(event.kind)) return;
  const snap = (await relay.call('job.get', { jobId: event.jobId })).job;
  if (!TRACKED.has(snap.kind) || snap.phase === 'finished' || snap.phase === 'interrupted') return;
  if (!(await db.accounts.get(snap.accountId))) return; // an account this browser does not show
  await save(db, [entryOf(snap, at), ...jobs.filter((j) => j.id !== snap.id)]);
}

/**
 * On every pass: what the relay says now about each tracked job, so one whose end was missed (the
 * worker slept through it) does not stay "running" in the popup.
 */
export async function refreshRelayOnlyJobs(db: MailkeepDb, relay: RelayCaller, at = Date.now()): Promise<void> {
  const jobs = await getSetting(db, 'relayOnlyJobs');
  if (jobs.length === 0) return;
  const next: RelayOnlyJob[] = [];
  for (const job of jobs) {
    try {
      const snap = (await relay.call('job.get', { jobId: job.id })).job;
      if (snap.phase !== 'finished' && snap.phase !== 'interrupted') next.push(entryOf(snap, at));
    } catch (err) {
      if (errorCodeOf(err) !== 'NOT_FOUND') next.push(job); // relay busy: keep it, ask next pass
    }
  }
  await save(db, next);
}
