import { setTimeout as sleep } from 'node:timers/promises';
import type { ImapFlow } from 'imapflow';
import { PROVIDER_LIMITS, RELAY_LIMITS } from '../../../lib/limits.ts';
import { MailkeepError, mailkeepError, type ErrorCode } from '../../../lib/protocol/error-codes.ts';
import { classifyImapError, describeImapError, isAuthCode, isConnectionCode } from '../../imap/classify-error.ts';
import { closeSession, openSession, type ImapAccount } from '../../imap/session.ts';
import { sessionErrorCode } from '../../imap/session-error-code.ts';
import { appendDeadlineMs, type AppendUid } from '../../imap/append-stream.ts';
import { AppendRecords, imapSource } from '../append-records.ts';
import { QuotaStop, retryOrStop, statusReporter } from '../append-job.ts';
import { AppendWindow } from '../append-window.ts';
import { planMigrate, type MigrateFolderWork, type SourceMessage } from './migrate-plan.ts';
import { onSide, sideOf } from './migrate-side.ts';
import type { MigrateFinalStatus, MigrateHooks, MigrateOptions, MigratePlan, MigrateResult, MigrateSkipped, Side } from './migrate-types.ts';
import { pathKey } from '../folder-map.ts';
import { createFolders } from '../../imap/create-folders.ts';
import { throttledProgress } from '../progress.ts';
import { uidSet } from '../uid-set.ts';
import { rekeyByContent, UIDS_UNSTABLE_MESSAGE } from '../source-rekey.ts';
import { destinationLost } from '../destination-keeps.ts';
import { addGmailLabels, type GmailCopies } from '../gmail-labels.ts';
import { budgetSpent } from '../backup/pause.ts';
import { sessionLimit } from '../../imap/provider-limits.ts';
import { limitPause } from '../restore/run-restore.ts';
import type { JobPacing, PauseInfo } from '../pacing.ts';

interface Tally {
  migrated: number;
  labelsAdded: number;
  bytes: number;
  foldersCreated: number;
  skipped: MigrateSkipped[];
  /** The source gave planned messages other UIDs (source-rekey.ts): said once, in the result. */
  uidsUnstable: boolean;
  /** One appended message was read back (destination-keeps.ts): once per job. */
  keptChecked: boolean;
}

/** The migrate job: see migrate-types.ts for the contract. */
export async function runMigrate(opts: MigrateOptions, hooks: MigrateHooks = {}): Promise<MigrateResult> {
  const started = Date.now();
  const { signal } = hooks;
  const status = statusReporter(hooks.onStatus);
  const progress = throttledProgress(hooks.onProgress);
  const tally: Tally = { migrated: 0, labelsAdded: 0, bytes: 0, foldersCreated: 0, skipped: [], uidsUnstable: false, keptChecked: false };
  const maxAttempts = opts.retry?.maxAttempts ?? RELAY_LIMITS.migrateMaxAttempts;
  const baseDelay = opts.retry?.baseDelayMs ?? RELAY_LIMITS.migrateRetryBaseDelayMs;
  const dryRun = opts.dryRun ?? false;
  let attempt = 0;
  let plan: MigratePlan | null = null;
  /** APPENDs sent and never answered in this attempt (a session lost). */
  const inDoubt = { count: 0 };
  // What earlier runs appended where (append-records.ts); a dry run only reads it.
  const records = AppendRecords.open(opts.appendRecordsDir, opts.destination, { readOnly: dryRun });
  /** Gmail source: where each message's one copy landed (its labels are added there afterwards). */
  let copies: GmailCopies | null = null;
  const note = (f: MigrateFolderWork, m: SourceMessage, size: number) => (uid: AppendUid | null) => {
    if (!uid) return;
    records.note(f.destination, uid, imapSource(opts.source, f.source, f.uidValidity, m.uid), m.internalDate, size);
    if (m.gmMsgId) copies?.at.set(m.gmMsgId, { folder: f.destination, uid: uid.uid });
  };

  let pause: PauseInfo | undefined;
  let pausesInRun = 0;
  const finish = (s: MigrateFinalStatus, code: ErrorCode | null, message: string | null, side: Side | null, notMigrated = 0): MigrateResult => {
    opts.sourcePacing?.flush();
    opts.destinationPacing?.flush();
    records.close();
    status(s, { attempt, ...(code ? { errorCode: code } : {}), ...(message ? { message } : {}), ...(side ? { side } : {}) });
    return {
      kind: 'migrate',
      status: s,
      errorCode: code,
      message,
      side,
      dryRun,
      migrated: tally.migrated,
      labelsAdded: tally.labelsAdded,
      bytes: tally.bytes,
      alreadyPresent: plan?.alreadyPresent ?? 0,
      notMigrated,
      foldersCreated: tally.foldersCreated,
      skipped: tally.skipped,
      plan,
      attempts: attempt,
      durationMs: Date.now() - started,
      ...(pause ? { pause } : {}),
    };
  };

  for (attempt = 1; ; attempt++) {
    let src: ImapFlow | null = null;
    let dst: ImapFlow | null = null;
    let opened = false;
    try {
      // A day's budget already spent (an earlier run, another job of the account): no login at all.
      if (!dryRun) throwIfSpent(opts);
      src = await open('source', opts.source, opts, signal);
      dst = await open('destination', opts.destination, opts, signal);
      opened = true;
      // X-GM-EXT-1 under another host name: Gmail's defaults for either side.
      opts.sourcePacing?.sawCapabilities?.(src.capabilities);
      opts.destinationPacing?.sawCapabilities?.(dst.capabilities);
      status('running', { attempt });
      // Each attempt re-reads the destination: what an earlier attempt (or a killed run) appended
      // is found there and not appended again.
      tally.skipped = [];
      const work = await planMigrate(src, dst, { signal, records, sourceIdentity: opts.source, ...(opts.labels ? { labels: opts.labels } : {}) });
      plan = work.plan;
      copies = work.gmail;
      tally.skipped.push(...work.skipped);
      try {
        hooks.onPlan?.(work.plan);
      } catch {
        /* a listener's bug must not break the migration */
      }
      if (dryRun) {
        await Promise.all([closeSession(src), closeSession(dst)]);
        return finish('completed', null, null, null, work.plan.overAppendLimit);
      }
      let copiedThisAttempt = 0;
      // Planned but not in the destination (yet): exact, whatever stops the run.
      const notMigrated = (): number => plan!.toCopy - copiedThisAttempt + work.skipped.length;
      // Every folder first (parents before children, empty ones too), each checked by LIST.
      const made = await onSide('destination', createFolders(dst, plan.foldersToCreate, plan.destinationDelimiter));
      tally.foldersCreated += made.created.length;
      for (const f of [...work.folders, ...plan.folders]) f.destination = made.renamed.get(f.destination) ?? f.destination;
      const notCreated = new Map(made.failed.map((f) => [f.path, f.reason]));
      for (const f of made.failed)
        if (!work.folders.some((w) => w.destination === f.path && w.toCopy.length)) tally.skipped.push({ folder: f.path, uid: null, code: 'FOLDER_NOT_CREATED', reason: f.reason });
      try {
        await copyInLanes(src, dst, work.folders, plan.destinationDelimiter, opts, signal, async (s, d, f, i, laneSignal) =>
          copyFolder(s, d, f, notCreated, tally, opts, laneSignal, note, inDoubt, (n, bytes) => {
            copiedThisAttempt += n;
            tally.migrated += n;
            tally.bytes += bytes;
          }, (done) =>
            progress({ folder: f.source, folderIndex: i + 1, folderCount: work.folders.length, done, total: f.toCopy.length, messages: tally.migrated, bytes: tally.bytes }, done === f.toCopy.length),
          ),
        );
        // Into Gmail: each message was copied once; now its other labels, only those it lacks.
        if (copies && dst.capabilities.has('X-GM-EXT-1')) await onSide('destination', migrateLabels(dst, copies, tally));
      } catch (err) {
        if (!(err instanceof QuotaStop)) throw err;
        await Promise.all([closeSession(src), closeSession(dst)]);
        const n = notMigrated();
        return finish('partially_complete', 'QUOTA_EXCEEDED', `${tally.migrated} migrated, ${n} not migrated: the destination server's storage is full (${err.message})`, 'destination', n);
      }
      await Promise.all([closeSession(src), closeSession(dst)]);
      const n = notMigrated();
      if (tally.skipped.length || n) {
        const first = tally.skipped[0];
        return finish('partially_complete', first?.code ?? 'UNKNOWN', `${tally.migrated} migrated, ${n} not migrated (${first?.reason ?? 'unknown'})`, first?.code === 'APPENDLIMIT_EXCEEDED' ? 'destination' : null, n);
      }
      // Completed, and why every run compares the whole source by content (ERROR_HINTS says what it means).
      if (tally.uidsUnstable) return finish('completed', 'UIDVALIDITY_UNSTABLE', `${UIDS_UNSTABLE_MESSAGE}; every message was compared by content instead: ${tally.migrated} migrated`, 'source');
      return finish('completed', null, null, null);
    } catch (err) {
      src?.close();
      dst?.close();
      if (signal?.aborted) return finish('cancelled', 'CANCELLED', 'migration cancelled', null);
      // The destination may still be storing APPENDs it had read when the session went: the next
      // plan (the retry, or a rerun once this returns) must see them, or it copies them again.
      if (inDoubt.count) await sleep(RELAY_LIMITS.appendInDoubtSettleMs, undefined, { signal }).catch(() => undefined);
      inDoubt.count = 0;
      const side = sideOf(err) ?? (src && !src.usable ? 'source' : dst && !dst.usable ? 'destination' : null);
      const client = side === 'source' ? src : side === 'destination' ? dst : null;
      const code = sessionErrorCode(err, client);
      const base = err instanceof MailkeepError ? err.message : describeImapError(err);
      const message = side && !base.startsWith(side) ? `${side}: ${base}` : base;
      if (code === 'PROVIDER_LIMIT_PAUSED') {
        // Whose limit: the side's budget (its pacing), or the side whose server said stop.
        const p = limitPause(err, client, side === 'source' ? opts.sourcePacing : opts.destinationPacing);
        if (p.waitMs <= PROVIDER_LIMITS.pauseInRunMaxMs && ++pausesInRun <= PROVIDER_LIMITS.pausesInRunMax) {
          status('retrying', { attempt, errorCode: code, message, ...(side ? { side } : {}), retryInMs: p.waitMs });
          try {
            await sleep(p.waitMs, undefined, { signal });
          } catch {
            return finish('cancelled', 'CANCELLED', 'migration cancelled', null);
          }
          attempt--; // a pause is not a failed attempt
          continue;
        }
        pause = { reason: p.reason, provider: p.provider, resumeAt: p.resumeAt, direction: side === 'source' ? 'down' : 'up' };
        return finish('retrying', code, `${message}; resumes at ${p.resumeAt}`, side);
      }
      if (isAuthCode(code)) return finish('authentication_error', code, message, side);
      if (!isConnectionCode(code)) return finish('failed', code, message, side);
      const stop = await retryOrStop({
        attempt, maxAttempts, baseDelayMs: baseDelay, opened, code, message, signal, cancelledMessage: 'migration cancelled',
        announce: (retryInMs) => status('retrying', { attempt, errorCode: code, message, ...(side ? { side } : {}), ...(retryInMs !== undefined ? { retryInMs } : {}) }),
      });
      // A cancelled wait is nobody's side; the retry limit and Connection Error keep the failing side.
      if (stop) return finish(stop.status, stop.code, stop.message, stop.code === 'CANCELLED' ? null : side);
    }
  }
}

/** Bytes read from the source and APPENDed to the destination, each against its side's budget. */
function took(opts: MigrateOptions, bytes: number): void {
  opts.sourcePacing?.took(bytes);
  opts.destinationPacing?.took(bytes);
}

/** PROVIDER_LIMIT_PAUSED (budget) with the side whose daily budget is spent, or nothing. */
function throwIfSpent(opts: MigrateOptions): void {
  for (const [side, pacing] of [['source', opts.sourcePacing], ['destination', opts.destinationPacing]] as const) {
    if (!pacing?.spent()) continue;
    const e = budgetSpent(pacing);
    throw mailkeepError('PROVIDER_LIMIT_PAUSED', `${side}: ${e.message}`, { ...e.details, side });
  }
}

/** Adds each copied (or found) message's other labels where its one copy is, by destination folder. */
async function migrateLabels(dst: ImapFlow, copies: GmailCopies, tally: Tally): Promise<void> {
  const byFolder = new Map<string, { uid: number; labels: string[] }[]>();
  for (const [gm, set] of copies.labels) {
    const labels = [...set];
    if (!labels.length) continue;
    const where = copies.at.get(gm);
    if (!where) {
      tally.skipped.push({ folder: labels[0]!, uid: null, code: 'LABELS_NOT_APPLIED', reason: `no UID is known for the copy of message ${gm}, so its labels (${labels.join(', ')}) could not be added` });
      continue;
    }
    const list = byFolder.get(where.folder) ?? [];
    list.push({ uid: where.uid, labels });
    byFolder.set(where.folder, list);
  }
  for (const [folder, items] of byFolder) {
    const r = await addGmailLabels(dst, folder, items, RELAY_LIMITS.fetchBatchUids);
    tally.labelsAdded += r.added;
    for (const x of r.failed) tally.skipped.push({ folder, uid: x.uid, code: 'LABELS_NOT_APPLIED', reason: x.reason });
  }
}

/**
 * Copies folders over up to RELAY_LIMITS.migrateParallelFolders pairs of sessions at once (the
 * first pair is the caller's). imapflow keeps one command in flight per connection, so APPENDs
 * wait a round trip each; a second connection overlaps the server's work. Parallel by folder, never
 * inside one: each folder keeps its source order. Folders that land in one destination folder share
 * a lane (one creator, one order). The first failure stops every lane; all lanes settle before it
 * is rethrown, so nothing keeps appending behind the caller's back.
 */
async function copyInLanes(
  src: ImapFlow,
  dst: ImapFlow,
  folders: MigrateFolderWork[],
  delimiter: string,
  opts: MigrateOptions,
  signal: AbortSignal | undefined,
  copy: (s: ImapFlow, d: ImapFlow, f: MigrateFolderWork, index: number, laneSignal: AbortSignal) => Promise<void>,
): Promise<void> {
  const groups = new Map<string, { items: { f: MigrateFolderWork; i: number }[]; bytes: number }>();
  for (const [i, f] of folders.entries()) {
    if (!f.toCopy.length) continue;
    const key = pathKey(f.destination, delimiter);
    const g = groups.get(key) ?? { items: [], bytes: 0 };
    g.items.push({ f, i });
    g.bytes += f.toCopy.reduce((n, m) => n + m.size, 0) + f.toCopy.length * RELAY_LIMITS.migrateLaneCostPerMessageBytes;
    groups.set(key, g);
  }
  const stop = new AbortController();
  const laneSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  const extra: ImapFlow[] = [];
  try {
    const sessions: [ImapFlow, ImapFlow][] = [[src, dst]];
    const wanted = Math.max(1, Math.min(RELAY_LIMITS.migrateParallelFolders, groups.size));
    // Extra lanes are a speed-up, not a need: a server that refuses another connection (a per-user
    // connection limit) leaves the work to the lanes that are open.
    for (let l = 1; l < wanted; l++) {
      let s: ImapFlow | null = null;
      try {
        s = await open('source', opts.source, opts, signal);
        const d = await open('destination', opts.destination, opts, signal);
        extra.push(s, d);
        sessions.push([s, d]);
      } catch {
        if (s) await closeSession(s).catch(() => undefined);
        signal?.throwIfAborted();
        break;
      }
    }
    const lanes = sessions.map(() => ({ items: [] as { f: MigrateFolderWork; i: number }[], bytes: 0 }));
    for (const g of [...groups.values()].sort((a, b) => b.bytes - a.bytes)) {
      const lane = lanes.reduce((min, l) => (l.bytes < min.bytes ? l : min));
      lane.items.push(...g.items);
      lane.bytes += g.bytes;
    }
    const results = await Promise.allSettled(
      lanes.map(async (lane, l) => {
        try {
          for (const { f, i } of lane.items.sort((a, b) => a.i - b.i)) {
            laneSignal.throwIfAborted();
            await copy(sessions[l]![0], sessions[l]![1], f, i, laneSignal);
          }
        } catch (err) {
          stop.abort();
          throw err;
        }
      }),
    );
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    // The lanes stopped because another failed report that as an abort: the cause is the other's.
    const cause = errors.find((e) => e instanceof QuotaStop) ?? errors.find((e) => !(stop.signal.aborted && (e as Error)?.name === 'AbortError'));
    if (cause !== undefined) throw cause;
    if (errors.length) throw errors[0];
  } finally {
    await Promise.all(extra.map((c) => closeSession(c).catch(() => undefined)));
  }
}

/** openSession with the side in the error's message and details (which password to fix). */
async function open(side: Side, account: ImapAccount, opts: MigrateOptions, signal: AbortSignal | undefined): Promise<ImapFlow> {
  try {
    // The destination without UTF8=ACCEPT: folders are created in modified UTF-7, listable by every
    // client (create-folders.ts). The source keeps it: it lists what is there, however named.
    return await openSession(account, { signal, timeouts: opts.timeouts, utf8Names: side === 'source' });
  } catch (err) {
    const e = err instanceof MailkeepError ? err : mailkeepError(classifyImapError(err), describeImapError(err));
    const what = e.code === 'AUTH_FAILED' ? `the ${side} server refused the user name or password` : e.message;
    const tagged = mailkeepError(e.code, `${side}: ${what}${e.code === 'AUTH_FAILED' ? ` (${account.host}:${account.port})` : ''}`, { ...e.details, side }, err);
    await onSide(side, Promise.reject(tagged)).catch(() => undefined);
    throw tagged;
  }
}

/** Copies one folder's planned messages: source bytes fetched in bounded batches, each APPENDed with its flags and INTERNALDATE. */
async function copyFolder(
  src: ImapFlow,
  dst: ImapFlow,
  f: MigrateFolderWork,
  notCreated: Map<string, string>,
  tally: Tally,
  opts: MigrateOptions,
  signal: AbortSignal | undefined,
  note: (f: MigrateFolderWork, m: SourceMessage, size: number) => (uid: AppendUid | null) => void,
  inDoubt: { count: number },
  copied: (n: number, bytes: number) => void,
  report: (done: number) => void,
): Promise<void> {
  if (!f.toCopy.length) return;
  const why = notCreated.get(f.destination);
  if (why !== undefined) {
    for (const m of f.toCopy) tally.skipped.push({ folder: f.source, uid: m.uid, code: 'FOLDER_NOT_CREATED', reason: why });
    report(f.toCopy.length);
    return;
  }
  try {
    // Selected read-write: imapflow then leaves out flags the folder's PERMANENTFLAGS refuse.
    if (!(await onSide('destination', dst.mailboxOpen(f.destination)))) throw lost('destination', 'the destination session closed before SELECT');
  } catch (err) {
    if (!dst.usable || isConnectionCode(classifyImapError(err))) throw err;
    const reason = `cannot select ${f.destination} on the destination: ${describeImapError(err)}`;
    for (const m of f.toCopy) tally.skipped.push({ folder: f.source, uid: m.uid, code: 'FOLDER_UNREADABLE', reason });
    return;
  }
  const box = await onSide('source', src.mailboxOpen(f.source, { readOnly: true }));
  if (!box) throw lost('source', 'the source session closed before EXAMINE');
  let toCopy = f.toCopy;
  let done = 0;
  report(0);
  /** The source's UIDs name its messages (no renumbering seen): only then is a record keyed on them. */
  let uidsHold = true;
  if (Number(box.uidValidity) !== f.uidValidity || (box.uidNext ?? null) !== f.uidNext) {
    // Not the folder as planned (new mail, or a server that does not keep UIDs): the planned
    // messages are found again by content; replanning would meet the same server again.
    const again = await onSide('source', rekeyByContent(src, f.toCopy));
    if (again.renumbered || Number(box.uidValidity) !== f.uidValidity) tally.uidsUnstable = true;
    // A record keyed on a UID the server gives out afresh could later name another message; the
    // content keys (restore-presence.ts) find these copies on a rerun instead.
    if (again.renumbered || Number(box.uidValidity) !== f.uidValidity) uidsHold = false;
    toCopy = again.found;
    for (const m of again.gone) {
      tally.skipped.push({ folder: f.source, uid: m.uid, code: 'MESSAGE_UNREADABLE', reason: 'the message disappeared from the source during the run' });
      report(++done);
    }
  }
  const byUid = new Map<number, SourceMessage>(toCopy.map((m) => [m.uid, m]));
  // APPENDs overlap (relay/jobs/append-window.ts); each message is reported once, in source order.
  const last: { ok: SourceMessage | null } = { ok: null };
  const window = new AppendWindow<SourceMessage>(dst, {
    deadline: opts.appendDeadline,
    bodyClient: src,
    signal,
    refused: (err, size) => `destination refused ${size} bytes: ${describeImapError(err)}`,
    // In order, as each answer arrives: the APPENDUID is recorded (append-records.ts) before the
    // message counts as copied; up to a window of APPENDs is in flight, not yet recorded.
    onReport: ({ message: m, size, outcome, ack }) => {
      if (outcome === 'ok') {
        last.ok = m;
        if (uidsHold) note(f, m, size)(ack);
        copied(1, size);
      } else tally.skipped.push({ folder: f.source, uid: m.uid, code: outcome.code, reason: outcome.reason });
      report(++done);
    },
  });
  const gone = (m: SourceMessage): void => window.skip(m, 0, { code: 'MESSAGE_UNREADABLE', reason: 'the message disappeared from the source during the run' });
  const add = (m: SourceMessage, size: number, body: Buffer | (() => Promise<AsyncIterable<Buffer>>)): Promise<void> =>
    onSide('destination', window.add(m, { path: f.destination, flags: m.flags, systemFlags: m.flags.filter((x) => x.startsWith('\\')), internalDate: m.internalDate, size, body }));
  try {
    for (const item of pacedBatches(batches(toCopy), opts)) {
      // Stopped (another lane failed, or cancelled): nothing more is sent; settled() below waits
      // for the answers in flight, then throws.
      if (signal?.aborted) break;
      // A spent budget (the source's downloads, the destination's uploads): nothing more is read or
      // sent; what is in flight is answered and recorded first.
      if (opts.sourcePacing?.spent() || opts.destinationPacing?.spent()) {
        await onSide('destination', window.settled());
        throwIfSpent(opts);
      }
      if (!Array.isArray(item)) {
        // A large message: the source's partial FETCHes streamed straight into the destination's literal.
        const body = await largeBody(src, item, opts);
        if (body === 'gone') gone(item);
        else {
          took(opts, item.size);
          await add(item, item.size, body);
        }
        continue;
      }
      const batch = item;
      const seen = new Set<number>();
      // Fetching and appending overlap: imapflow queues the next bodies while APPENDs are answered;
      // the batch's byte cap bounds what waits in memory.
      // The batch as a whole has the sum of its messages' APPEND deadlines: a source that trickles
      // the bodies (each byte restarting the socket's idle timeout) is cut there.
      const ms = batch.reduce((t, m) => t + appendDeadlineMs(m.size, opts.appendDeadline), 0);
      let slowSource = false;
      const timer = setTimeout(() => {
        slowSource = true;
        src.close();
      }, ms);
      try {
        const fetched = src.fetch(uidSet(batch.map((m) => m.uid)), { uid: true, source: true }, { uid: true });
        await onSide('source', (async () => {
          for await (const msg of fetched) {
            if (signal?.aborted) break;
            const meta = byUid.get(msg.uid);
            if (!meta || !msg.source || seen.has(msg.uid)) continue;
            seen.add(msg.uid);
            const sent = { ...meta, size: msg.source.length };
            took(opts, msg.source.length);
            await add(sent, msg.source.length, msg.source);
            // The job's first message with a Message-ID is answered and read back before more are
            // sent: a server that drops flags and dates (destination-keeps.ts) stops the job there.
            if (!tally.keptChecked && meta.messageId) {
              await onSide('destination', window.settled());
              if (last.ok === sent) {
                tally.keptChecked = true;
                const lost = await onSide('destination', destinationLost(dst, { messageId: meta.messageId, flags: meta.flags, internalDate: meta.internalDate }));
                if (lost) throw mailkeepError('DESTINATION_LOSES_METADATA', lost, { side: 'destination' });
              }
            }
          }
        })());
      } catch (err) {
        if (!slowSource) throw err;
        const rate = ((opts.appendDeadline?.minBytesPerSecond ?? RELAY_LIMITS.appendMinBytesPerSecond) / 1024).toFixed(0);
        throw mailkeepError('CONNECTION_TIMEOUT', `the source server sent ${batch.length} messages slower than ${rate} KiB/s (deadline ${Math.round(ms / 1000)} s): connection closed`, { side: 'source' }, err);
      } finally {
        clearTimeout(timer);
      }
      if (slowSource) throw mailkeepError('CONNECTION_TIMEOUT', 'the source server closed after its deadline', { side: 'source' });
      // The source said stop ([OVERQUOTA] bandwidth on a FETCH): its session is closed and the
      // bodies not received are the limit's, not messages gone from the source.
      const srcLimit = sessionLimit(src);
      if (srcLimit) throw mailkeepError('PROVIDER_LIMIT_PAUSED', `source: ${srcLimit.text}`, { providerLimit: srcLimit, side: 'source' });
      if (signal?.aborted) break;
      // Expunged on the source since the plan: nothing to copy any more, but say so.
      for (const m of batch) if (!seen.has(m.uid)) gone(m);
    }
    await onSide('destination', window.settled());
  } finally {
    window.close();
    inDoubt.count += window.inDoubt.length;
  }
}

/**
 * Small messages in bounded batches (one FETCH each), large ones alone (streamed), in source order:
 * a large message ends the batch before it, so the destination receives the folder in UID order.
 */
function* batches(list: SourceMessage[]): Generator<SourceMessage[] | SourceMessage> {
  let cur: SourceMessage[] = [];
  let bytes = 0;
  for (const m of list) {
    const large = m.size >= RELAY_LIMITS.appendStreamThresholdBytes;
    if (cur.length && (large || cur.length >= RELAY_LIMITS.migrateBatchMessages || bytes + m.size > RELAY_LIMITS.migrateBatchBytes)) {
      yield cur;
      cur = [];
      bytes = 0;
    }
    if (large) {
      yield m;
      continue;
    }
    cur.push(m);
    bytes += m.size;
  }
  if (cur.length) yield cur;
}

/**
 * The batches cut to what is left of the day's budgets when each is taken (lazily: after the bytes
 * of the one before were counted), so a FETCH never asks for more than the budget allows; at least
 * one message (a budget is overrun by at most one message, as a backup's is). A spent budget is
 * caught before the next batch (throwIfSpent).
 */
function* pacedBatches(items: Generator<SourceMessage[] | SourceMessage>, opts: MigrateOptions): Generator<SourceMessage[] | SourceMessage> {
  const left = (): number => Math.min(opts.sourcePacing?.left?.() ?? Infinity, opts.destinationPacing?.left?.() ?? Infinity);
  for (const item of items) {
    if (!Array.isArray(item)) {
      yield item;
      continue;
    }
    let rest = item;
    while (rest.length) {
      const room = left();
      let n = 0;
      let sum = 0;
      while (n < rest.length && sum + rest[n]!.size <= room) sum += rest[n++]!.size;
      n = Math.max(1, n);
      yield rest.slice(0, n);
      rest = rest.slice(n);
    }
  }
}

/**
 * The body of one large message for a streamed APPEND: imapflow's download() reads it from the
 * source in partial FETCHes (BODY.PEEK[]<offset.length>, as backup does) with backpressure, and
 * each chunk goes into the destination's APPEND literal as it arrives; memory holds a chunk or
 * two, never the message. The first chunk is fetched first, so a message gone from the source is
 * skipped without touching the destination ('gone'); that fetch has the same minimum-rate
 * deadline as the APPEND.
 */
async function largeBody(src: ImapFlow, m: SourceMessage, opts: MigrateOptions): Promise<(() => Promise<AsyncIterable<Buffer>>) | 'gone'> {
  const open = (): Promise<AsyncIterable<Buffer> | null> =>
    onSide('source', src.download(String(m.uid), undefined, { uid: true, chunkSize: RELAY_LIMITS.appendStreamChunkBytes })).then((dl) => (dl?.content as AsyncIterable<Buffer> | undefined) ?? null);
  const first = await withDeadline(open(), appendDeadlineMs(RELAY_LIMITS.appendStreamChunkBytes, opts.appendDeadline), () => {
    src.close();
    return mailkeepError('CONNECTION_TIMEOUT', `the source server sent the start of a ${m.size}-byte message too slowly: connection closed`, { side: 'source' });
  });
  if (!first) return 'gone';
  let pending: AsyncIterable<Buffer> | null = first;
  return async (): Promise<AsyncIterable<Buffer>> => {
    const content = pending ?? (await open());
    pending = null;
    if (!content) throw mailkeepError('MESSAGE_UNREADABLE', 'the message disappeared from the source during the run', { side: 'source' });
    return tagged(content);
  };
}

/** The source's chunks, with any failure reading them tagged as the source's. */
async function* tagged(content: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of content) yield chunk;
  } catch (err) {
    await onSide('source', Promise.reject(err));
  }
}

async function withDeadline<T>(p: Promise<T>, ms: number, expire: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(expire()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A connection gone quiet under imapflow (a command resolved undefined), tagged with its side. */
function lost(side: Side, message: string): MailkeepError {
  const err = mailkeepError('CONNECTION_LOST', message, { side });
  void onSide(side, Promise.reject(err)).catch(() => undefined);
  return err;
}
