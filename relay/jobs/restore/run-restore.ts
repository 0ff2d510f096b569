import { setTimeout as sleep } from 'node:timers/promises';
import type { ImapFlow } from 'imapflow';
import { PROVIDER_LIMITS, RELAY_LIMITS } from '../../../lib/limits.ts';
import { MailkeepError, mailkeepError, type ErrorCode } from '../../../lib/protocol/error-codes.ts';
import { openArchiveForReading } from '../../archive/archive-reader.ts';
import type { Db } from '../../archive/schema.ts';
import { classifyImapError, describeImapError, isAuthCode, isConnectionCode } from '../../imap/classify-error.ts';
import { closeSession, openSession } from '../../imap/session.ts';
import { sessionErrorCode } from '../../imap/session-error-code.ts';
import { AppendRecords, blobSource } from '../append-records.ts';
import { paceAppend, QuotaStop, retryOrStop, statusReporter } from '../append-job.ts';
import { budgetSpent, pauseOf } from '../backup/pause.ts';
import type { JobPacing, PauseInfo } from '../pacing.ts';
import { AppendWindow } from '../append-window.ts';
import { throttledProgress } from '../progress.ts';
import { BlobReader } from '../restore-blob.ts';
import { destinationLost } from '../destination-keeps.ts';
import { planRestore, type FolderWork } from './restore-plan.ts';
import { addGmailLabels, gmailLabelOf, groupByMessage, type MessageGroup } from '../gmail-labels.ts';
import { pathKey } from '../folder-map.ts';
import { resolveSourceAccount, selectCandidates, selectFolders, type ArchivedFolders, type RestoreCandidate } from '../restore-select.ts';
import { createFolders } from '../../imap/create-folders.ts';
import type { RestoreFinalStatus, RestoreHooks, RestoreOptions, RestorePlan, RestoreResult, RestoreSkipped } from './restore-types.ts';

interface Tally {
  restored: number;
  /** Gmail labels added with STORE +X-GM-LABELS (a Gmail destination). */
  labelsAdded: number;
  bytes: number;
  foldersCreated: number;
  skipped: RestoreSkipped[];
  /** One appended message was read back (destination-keeps.ts): once per job. */
  keptChecked?: boolean;
}

/** The restore job: see restore-types.ts for the contract. */
export async function runRestore(opts: RestoreOptions, hooks: RestoreHooks = {}): Promise<RestoreResult> {
  const started = Date.now();
  const { signal } = hooks;
  const status = statusReporter(hooks.onStatus);
  const progress = throttledProgress(hooks.onProgress);
  const tally: Tally = { restored: 0, labelsAdded: 0, bytes: 0, foldersCreated: 0, skipped: [] };
  const maxAttempts = opts.retry?.maxAttempts ?? RELAY_LIMITS.restoreMaxAttempts;
  const baseDelay = opts.retry?.baseDelayMs ?? RELAY_LIMITS.restoreRetryBaseDelayMs;
  const dryRun = opts.dryRun ?? false;
  let attempt = 0;
  let plan: RestorePlan | null = null;
  let presentBefore = 0;
  /** Selected, not on the server, and not appended (yet), as of the current attempt's plan. */
  let remaining = (): number => 0;
  let db: Db | null = null;
  let blobs: BlobReader | null = null;
  /** APPENDs sent and never answered (a session lost): the next attempt's plan says which the server kept. */
  let inDoubt: RestoreCandidate[] = [];
  const appending = { active: false };
  let records = AppendRecords.none();
  const pacing = opts.pacing;
  let pause: PauseInfo | undefined;
  let pausesInRun = 0;

  const finish = (s: RestoreFinalStatus, code: ErrorCode | null, message: string | null, notRestored = 0): RestoreResult => {
    pacing?.flush();
    blobs?.close();
    db?.close();
    stopSessions.dispose();
    records.close();
    const r: RestoreResult = {
      kind: 'restore',
      status: s,
      errorCode: code,
      message,
      dryRun,
      restored: tally.restored,
      labelsAdded: tally.labelsAdded,
      bytes: tally.bytes,
      alreadyPresent: Math.max(0, (plan?.alreadyPresent ?? 0) - presentBefore),
      notRestored,
      foldersCreated: tally.foldersCreated,
      skipped: tally.skipped,
      plan,
      attempts: attempt,
      durationMs: Date.now() - started,
      ...(pause ? { pause } : {}),
    };
    status(s, { attempt, ...(code ? { errorCode: code } : {}), ...(message ? { message } : {}) });
    return r;
  };

  // Cancel stops the session at once, except while APPENDs are in flight: those are answered first
  // (the window stops sending), so the counts stay exact.
  const stopSessions = sessionStop(signal, appending);
  status('running', { attempt: 0 });
  let candidates: RestoreCandidate[];
  let archived: ArchivedFolders;
  try {
    db = openArchiveForReading(opts.archiveDir);
    const accountId = resolveSourceAccount(db, opts.source);
    candidates = selectCandidates(db, accountId, opts.scope);
    archived = selectFolders(db, accountId, opts.scope);
    blobs = new BlobReader(db, opts.archiveDir);
    // What earlier runs appended where (append-records.ts); a dry run only reads it.
    records = AppendRecords.open(opts.appendRecordsDir, opts.target, { readOnly: dryRun });
  } catch (err) {
    return finish('failed', err instanceof MailkeepError ? err.code : 'UNKNOWN', err instanceof Error ? err.message : String(err));
  }

  for (attempt = 1; ; attempt++) {
    let client: ImapFlow | null = null;
    let opened = false;
    try {
      // The day's upload budget already spent (an earlier run, another job into the account): no login at all.
      if (!dryRun && pacing?.spent()) throw budgetSpent(pacing);
      // No UTF8=ACCEPT: folders are created in modified UTF-7, listable by every client (create-folders.ts).
      client = await openSession(opts.target, { signal: stopSessions.signal, timeouts: opts.timeouts, utf8Names: false });
      opened = true;
      pacing?.sawCapabilities?.(client.capabilities);
      status('running', { attempt });
      // Each attempt re-reads the destination: what an earlier attempt (or a killed run) appended
      // is found there and not appended again.
      tally.skipped = [];
      // Gmail labels (gmail-labels.ts): into Gmail each message once plus STORE +X-GM-LABELS; into
      // another server one folder per label (as always) or the first label's only.
      const gmailDest = client.capabilities.has('X-GM-EXT-1');
      const specialOf = specialUses(archived);
      const mode = gmailDest ? 'gmail' : (opts.labels ?? 'folder-per-label');
      const groups = groupByMessage(candidates, specialOf, { preferAllMail: gmailDest });
      const chosen = mode === 'folder-per-label' ? candidates : groups.map((g) => g.primary);
      // Gmail's system folders exist in every account (and may carry localized names): only labels are recreated.
      const archivedFor = gmailDest ? { ...archived, recreate: archived.recreate.filter((name) => specialOf(name) === null && name.toUpperCase() !== 'INBOX') } : archived;
      const work = await planRestore(client, chosen, blobs, { into: opts.into, dryRun, signal, archived: archivedFor, records, gmail: gmailDest });
      plan = work.plan;
      const labelsFor = (g: (typeof groups)[number]): string[] =>
        g.others.flatMap((c) => {
          const dest = work.destinationOf.get(c.folder);
          const label = dest === undefined ? null : gmailLabelOf(dest, work.listed.get(pathKey(dest, work.delimiter)), specialOf(c.folder));
          return label === null ? [] : [label];
        });
      plan.labels = { mode, messages: groups.length, memberships: candidates.length, labelsToAdd: gmailDest ? groups.reduce((n, g) => n + labelsFor(g).length, 0) : 0 };
      // Messages sent by the last attempt but never answered are restored if the server kept them.
      const planned = new Set(work.folders.flatMap((f) => f.toAppend));
      const refused = new Set(work.skipped.map((s) => `${s.uid}\0${s.hash}`));
      for (const c of inDoubt)
        if (!planned.has(c) && !refused.has(`${c.uid}\0${c.hash}`)) {
          tally.restored++;
          tally.bytes += c.size;
        }
      inDoubt = [];
      // Earlier attempts' appends are now "already present": counted once, as restored.
      const restoredBefore = tally.restored;
      presentBefore = restoredBefore;
      try {
        hooks.onPlan?.(plan);
      } catch {
        /* a listener's bug must not break the restore */
      }
      if (dryRun) {
        await closeSession(client);
        return finish('completed', null, null, work.skipped.length);
      }
      tally.skipped.push(...work.skipped);
      const toAppend = plan.toAppend;
      remaining = () => work.skipped.length + toAppend - (tally.restored - restoredBefore);
      // Every folder first (parents before children, empty ones too), each checked by LIST.
      const made = await createFolders(client, plan.foldersToCreate, work.delimiter);
      /** Where each primary of a Gmail restore now is: found present, or appended in this attempt. */
      const at = new Map<RestoreCandidate, { folder: string; uid: number }>();
      tally.foldersCreated += made.created.length;
      for (const f of [...work.folders, ...plan.folders]) f.destination = made.renamed.get(f.destination) ?? f.destination;
      const notCreated = new Map(made.failed.map((f) => [f.path, f.reason]));
      for (const f of made.failed)
        if (!work.folders.some((w) => w.destination === f.path && w.toAppend.length)) tally.skipped.push({ folder: f.path, uid: null, hash: null, code: 'FOLDER_NOT_CREATED', reason: f.reason });
      try {
        for (const [i, f] of work.folders.entries()) {
          signal?.throwIfAborted();
          const why = notCreated.get(f.destination);
          if (why !== undefined) {
            for (const c of f.toAppend) tally.skipped.push({ folder: f.destination, uid: c.uid, hash: c.hash, code: 'FOLDER_NOT_CREATED', reason: why });
            continue;
          }
          for (const [c, uid] of f.present) at.set(c, { folder: f.destination, uid });
          await restoreFolder(
            client, f, blobs, records, tally, opts, signal, appending, inDoubt, pacing,
            (done) => progress({ folder: f.destination, folderIndex: i + 1, folderCount: work.folders.length, done, total: f.toAppend.length, messages: tally.restored, bytes: tally.bytes }, done === f.toAppend.length),
            (c, uid) => at.set(c, { folder: f.destination, uid }),
          );
        }
        if (gmailDest) await restoreLabels(client, groups, labelsFor, at, tally);
      } catch (err) {
        if (!(err instanceof QuotaStop)) throw err;
        await closeSession(client);
        const n = remaining();
        return finish('partially_complete', 'QUOTA_EXCEEDED', `${tally.restored} restored, ${n} not restored: the mail server's storage is full (${err.message})`, n);
      }
      await closeSession(client);
      const n = remaining();
      if (n || tally.skipped.length) return finish('partially_complete', tally.skipped[0]?.code ?? 'UNKNOWN', `${tally.restored} restored, ${n} not restored (${tally.skipped[0]?.reason ?? 'unknown'})`, n);
      return finish('completed', null, null);
    } catch (err) {
      client?.close();
      if (signal?.aborted) return finish('cancelled', 'CANCELLED', 'restore cancelled', remaining());
      // The server may still be storing APPENDs it had read when the session went: the next plan
      // (this job's retry, or a rerun once this one returns) must see them, or it appends them again.
      if (inDoubt.length) await sleep(RELAY_LIMITS.appendInDoubtSettleMs, undefined, { signal }).catch(() => undefined);
      const code = sessionErrorCode(err, client);
      const message = err instanceof MailkeepError ? err.message : describeImapError(err);
      if (code === 'PROVIDER_LIMIT_PAUSED') {
        const p = limitPause(err, client, pacing);
        // A short wait (a session the server ended) happens in this run; a long one ends it as
        // Retrying and the job manager runs it again at the resume time.
        if (p.waitMs <= PROVIDER_LIMITS.pauseInRunMaxMs && ++pausesInRun <= PROVIDER_LIMITS.pausesInRunMax) {
          status('retrying', { attempt, errorCode: code, message, retryInMs: p.waitMs });
          try {
            await sleep(p.waitMs, undefined, { signal });
          } catch {
            return finish('cancelled', 'CANCELLED', 'restore cancelled', remaining());
          }
          attempt--; // a pause is not a failed attempt
          continue;
        }
        pause = { reason: p.reason, provider: p.provider, resumeAt: p.resumeAt, ...(p.direction ? { direction: p.direction } : {}) };
        return finish('retrying', code, `${message}; resumes at ${p.resumeAt}`, remaining());
      }
      if (isAuthCode(code)) return finish('authentication_error', code, message);
      if (!isConnectionCode(code)) return finish('failed', code, message, remaining());
      const stop = await retryOrStop({
        attempt, maxAttempts, baseDelayMs: baseDelay, opened, code, message, signal, cancelledMessage: 'restore cancelled',
        announce: (retryInMs) => status('retrying', { attempt, errorCode: code, message, ...(retryInMs !== undefined ? { retryInMs } : {}) }),
      });
      if (stop) return finish(stop.status, stop.code, stop.message, remaining());
    }
  }
}

/** Appends one folder's missing messages (the folder exists: created before, create-folders.ts). */
async function restoreFolder(
  client: ImapFlow,
  f: FolderWork,
  blobs: BlobReader,
  records: AppendRecords,
  tally: Tally,
  opts: RestoreOptions,
  signal: AbortSignal | undefined,
  appending: { active: boolean },
  inDoubt: RestoreCandidate[],
  pacing: JobPacing | undefined,
  report: (done: number) => void,
  /** The UID the server gave an appended message (APPENDUID), when it gave one for this folder's UIDVALIDITY. */
  appendedAs?: (c: RestoreCandidate, uid: number) => void,
): Promise<void> {
  if (!f.toAppend.length) return;
  let uidValidity: number | null = null;
  try {
    // Selected read-write: imapflow then leaves out flags the folder's PERMANENTFLAGS refuse.
    const box = await client.mailboxOpen(f.destination);
    if (!box) throw mailkeepError('CONNECTION_LOST', 'the session closed before SELECT');
    uidValidity = Number(box.uidValidity);
  } catch (err) {
    if (!client.usable || isConnectionCode(classifyImapError(err))) throw err;
    const reason = `cannot select ${f.destination}: ${describeImapError(err)}`;
    for (const c of f.toAppend) tally.skipped.push({ folder: f.destination, uid: c.uid, hash: c.hash, code: 'FOLDER_UNREADABLE', reason });
    return;
  }
  let done = 0;
  report(0);
  const last: { ok: RestoreCandidate | null } = { ok: null };
  // APPENDs overlap (relay/jobs/append-window.ts); each message is reported once, in order.
  const window = new AppendWindow<RestoreCandidate>(client, {
    deadline: opts.appendDeadline,
    signal,
    // In order, as each answer arrives: the APPENDUID is recorded (append-records.ts) before the
    // message counts as restored; up to a window of APPENDs is in flight, not yet recorded.
    onReport: ({ message: c, size, outcome, ack }) => {
      if (outcome === 'ok') {
        last.ok = c;
        if (ack) records.note(f.destination, ack, blobSource(c.hash), c.internalDate, size);
        if (ack && ack.uidValidity === uidValidity) appendedAs?.(c, ack.uid);
        tally.restored++;
        tally.bytes += size;
      } else tally.skipped.push({ folder: f.destination, uid: c.uid, hash: c.hash, code: outcome.code, reason: outcome.reason });
      report(++done);
    },
  });
  appending.active = true;
  try {
    for (const c of f.toAppend) {
      // Cancelled: nothing more is sent; settled() waits for the answers in flight, then throws.
      if (signal?.aborted) break;
      let size: number;
      let body: Buffer | (() => AsyncIterable<Buffer>);
      try {
        size = blobs.size(c.hash);
        // Small: read whole and checked, one write. Large: checked in chunks first (a damaged blob is
        // skipped without touching the server), then streamed in chunks, checked again as it goes.
        if (size < RELAY_LIMITS.appendStreamThresholdBytes) body = blobs.read(c.hash);
        else if (!blobs.check(c.hash)) throw mailkeepError('ARCHIVE_CORRUPT', `blob ${c.hash.slice(0, 16)}… does not match its SHA-256 (run mailkeep verify)`, { hash: c.hash });
        else body = () => blobs.stream(c.hash);
      } catch (err) {
        window.skip(c, 0, { code: 'ARCHIVE_CORRUPT', reason: err instanceof Error ? err.message : String(err) });
        continue;
      }
      const system = c.flags.filter((x) => x !== '\\Recent');
      // Counted as sent: a spent budget stops here, the APPENDs in flight are answered first.
      if (pacing?.spent()) {
        await window.settled();
        paceAppend(pacing, size);
      }
      pacing?.took(size);
      await window.add(c, { path: f.destination, flags: [...system, ...c.keywords], systemFlags: system, internalDate: c.internalDate, size, body });
      // The job's first message with a Message-ID is answered and read back before more are sent: a
      // server that drops flags and dates (relay/jobs/destination-keeps.ts) stops the job there.
      if (!tally.keptChecked && c.messageId) {
        await window.settled();
        if (last.ok === c) {
          tally.keptChecked = true;
          const lost = await destinationLost(client, { messageId: c.messageId, flags: [...c.flags, ...c.keywords], internalDate: c.internalDate });
          if (lost) throw mailkeepError('DESTINATION_LOSES_METADATA', lost);
        }
      }
    }
    await window.settled();
  } finally {
    appending.active = false;
    window.close();
    inDoubt.push(...window.inDoubt);
  }
}

/** The pause a limit asks for; a limit without its details (never expected) waits the throttle's default. */
export function limitPause(err: unknown, client: ImapFlow | null, pacing: JobPacing | undefined): PauseInfo & { waitMs: number } {
  const now = pacing?.now() ?? Date.now();
  return (
    pauseOf(err, client, pacing, now) ?? {
      reason: 'throttled',
      provider: pacing?.provider ?? 'other',
      resumeAt: new Date(now + PROVIDER_LIMITS.throttledPauseMs).toISOString(),
      waitMs: PROVIDER_LIMITS.throttledPauseMs,
      ...(pacing?.direction ? { direction: pacing.direction } : {}),
    }
  );
}

/** Special use of each archived folder (name -> use), as the backup recorded it. */
function specialUses(archived: ArchivedFolders): (folder: string) => string | null {
  const m = new Map(archived.all.map((f) => [f.name, f.specialUse]));
  return (folder) => m.get(folder) ?? null;
}

/**
 * A Gmail destination: every message appended (or found) once now gets its other labels, folder by
 * folder of where it is (All Mail, or its first label), with only the labels it lacks. A message
 * whose UID is unknown (appended without APPENDUID) keeps only the label it was appended under.
 */
async function restoreLabels(
  client: ImapFlow,
  groups: MessageGroup<RestoreCandidate>[],
  labelsFor: (g: MessageGroup<RestoreCandidate>) => string[],
  at: Map<RestoreCandidate, { folder: string; uid: number }>,
  tally: Tally,
): Promise<void> {
  const byFolder = new Map<string, { uid: number; labels: string[] }[]>();
  for (const g of groups) {
    const labels = labelsFor(g);
    if (!labels.length) continue;
    const where = at.get(g.primary);
    if (!where) {
      // Not restored (refused, corrupt, over a limit: already reported) or appended without a UID.
      if (!tally.skipped.some((s) => s.hash === g.primary.hash))
        tally.skipped.push({ folder: g.primary.folder, uid: g.primary.uid, hash: g.primary.hash, code: 'LABELS_NOT_APPLIED', reason: `the server gave no UID for the appended message, so its labels (${labels.join(', ')}) could not be added` });
      continue;
    }
    const list = byFolder.get(where.folder) ?? [];
    list.push({ uid: where.uid, labels });
    byFolder.set(where.folder, list);
  }
  for (const [folder, items] of byFolder) {
    const r = await addGmailLabels(client, folder, items, RELAY_LIMITS.fetchBatchUids);
    tally.labelsAdded += r.added;
    for (const x of r.failed) tally.skipped.push({ folder, uid: x.uid, hash: null, code: 'LABELS_NOT_APPLIED', reason: x.reason });
  }
}

/**
 * The signal that closes the restore's session: the job's, at once while no APPEND is in flight;
 * during APPENDs the window stops sending and the answers in flight are awaited, at most
 * RELAY_LIMITS.appendCancelGraceMs (a server that does not answer is then cut).
 */
function sessionStop(signal: AbortSignal | undefined, appending: { active: boolean }): { signal: AbortSignal; dispose(): void } {
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    if (!appending.active) return stop.abort(signal?.reason);
    timer = setTimeout(() => stop.abort(signal?.reason), RELAY_LIMITS.appendCancelGraceMs);
  };
  if (signal?.aborted) stop.abort(signal.reason);
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: stop.signal,
    dispose() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      stop.abort();
    },
  };
}
