import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../lib/clock.ts';
import { ErrorCode } from '../../lib/protocol/error-code-schema.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { JobSnapshot } from '../../lib/protocol/common.ts';
import { BackupStatus } from '../../lib/protocol/status-ids.ts';
import type { AccountHistoryParams, AccountHistoryResult, ArchiveSummary, HistoryRun } from '../../lib/protocol/account-history.ts';
import type { ArchiveInfo } from '../archive/archive-reader.ts';
import { archiveDirOf } from '../jobs/data-dirs.ts';
import type { StateDb } from './state-db.ts';

/**
 * account.history: the archive's totals and the account's backup runs, newest first, a page at a
 * time. Two read-only sources, joined by the archive's run id (a backup job's outcome.counts.runId):
 * the job history in state.sqlite (when, how long, the spec's status, as the relay applied it) and
 * the archive index (what each run stored and what disappeared on the server, as `mailkeep
 * archive-info` counts them). A run only one of them knows is still listed: a login that failed
 * never reached the archive; a run older than the bounded job history is known to the archive only.
 */

export interface HistorySource {
  dataDir: string;
  db: StateDb;
  clock: Clock;
}

interface ArchiveFacts {
  totals: ArchiveSummary;
  runs: ArchiveInfo['accounts'][number]['runs'];
  /** Distinct messages and bytes the archive held after each run (by run id, ascending). */
  growth: Map<number, { messages: number; bytes: number }>;
}

/** The archive's side, or null when there is none yet or it cannot be read now (verify's business). */
export async function readArchiveFacts(archiveDir: string): Promise<ArchiveFacts | null> {
  if (!fs.existsSync(path.join(archiveDir, 'index.sqlite'))) return null;
  try {
    // Loaded on first use: the door comes up without the archive code.
    const { openArchiveForReading, archiveInfo } = await import('../archive/archive-reader.ts');
    const db = openArchiveForReading(archiveDir, { onWarning: () => undefined });
    try {
      const info = archiveInfo(db);
      // A message belongs to the run that first stored its content: the growth line ends exactly
      // at the archive's totals, whatever later runs re-listed or lost.
      const firsts = db
        .prepare<[], { run: number; n: number; b: number | null }>(
          `SELECT f.first_run AS run, COUNT(*) AS n, SUM(b.length) AS b
             FROM (SELECT blob_hash, MIN(added_run) AS first_run FROM messages GROUP BY blob_hash) f
             JOIN blobs b ON b.hash = f.blob_hash GROUP BY f.first_run`,
        )
        .all();
      const added = new Map(firsts.map((r) => [r.run, { n: r.n, b: r.b ?? 0 }]));
      const runs = info.accounts.flatMap((a) => a.runs).sort((x, y) => x.id - y.id);
      const growth = new Map<number, { messages: number; bytes: number }>();
      let messages = 0;
      let bytes = 0;
      for (const r of runs) {
        messages += added.get(r.id)?.n ?? 0;
        bytes += added.get(r.id)?.b ?? 0;
        growth.set(r.id, { messages, bytes });
      }
      const folders = info.accounts.reduce((n, a) => n + a.folders.filter((f) => !f.gone).length, 0);
      return { totals: { messages: info.blobs, bytes: info.blobBytes, folders }, runs, growth };
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

/** The archive stamps a run with the wall clock, the job store with the relay's: a run begun a moment
 * "before" its job was created (clock steps, rounding) is still that job's. */
const OPEN_RUN_SLACK_MS = 60_000;

const iso = (ms: number): string => new Date(ms).toISOString();
const statusOf = (s: string | null): HistoryRun['status'] => BackupStatus.safeParse(s).data ?? null;
const codeOf = (c: string | null): HistoryRun['errorCode'] => (c === null ? null : (ErrorCode.safeParse(c).data ?? 'UNKNOWN'));

/** Every run of the account, newest first (unpaged), and the archive's totals. */
export async function allRuns(src: HistorySource, accountId: string): Promise<{ runs: HistoryRun[]; totals: ArchiveSummary | null }> {
  const archive = await readArchiveFacts(archiveDirOf(src.dataDir, accountId));
  const byId = new Map((archive?.runs ?? []).map((r) => [r.id, r]));
  const claimed = new Set<number>();
  const jobs = (src.db.prepare("SELECT snapshot FROM jobs WHERE account_id = ? AND kind = 'backup' ORDER BY created_at DESC").all(accountId) as { snapshot: string }[]).flatMap((r) => {
    const p = JobSnapshot.safeParse(parseJson(r.snapshot));
    return p.success && p.data.kind === 'backup' ? [p.data] : [];
  });
  for (const j of jobs) {
    const id = j.outcome?.counts?.runId;
    if (id !== undefined && byId.has(id)) claimed.add(id);
  }
  // A backup that runs now, or one a stopped relay interrupted, has begun its archive run but
  // reported no run id: the newest unfinished run nobody claims, begun after the job was created,
  // is its own (not a second, interrupted one).
  const openRunOf = new Map<string, number>();
  for (const j of jobs) {
    if (j.outcome?.counts?.runId !== undefined || j.phase === 'finished') continue;
    const since = Date.parse(j.createdAt) - OPEN_RUN_SLACK_MS;
    const open = [...byId.values()].filter((r) => !claimed.has(r.id) && r.finishedAt === null && Date.parse(r.startedAt) >= since).sort((a, b) => b.id - a.id)[0];
    if (open) {
      claimed.add(open.id);
      openRunOf.set(j.id, open.id);
    }
  }

  type Draft = Omit<HistoryRun, 'cursor' | 'archiveMessages' | 'archiveBytes'> & { ms: number };
  const drafts: Draft[] = jobs.map((j) => {
    const reported = j.outcome?.counts?.runId;
    const runId = reported !== undefined && byId.has(reported) ? reported : (openRunOf.get(j.id) ?? null);
    const run = runId === null ? undefined : byId.get(runId);
    const counts = j.outcome?.counts;
    const finished = j.phase === 'finished';
    return {
      key: `job:${j.id}`,
      ms: Date.parse(j.createdAt),
      jobId: j.id,
      archiveRunId: runId,
      startedAt: j.createdAt,
      finishedAt: finished ? j.updatedAt : null,
      // A run a stopped relay left behind is not "In Progress": it says no status of its own.
      status: j.phase === 'interrupted' ? null : statusOf(j.status),
      errorCode: j.errorCode,
      newMessages: run?.newMessages ?? counts?.messages ?? 0,
      newBytes: run?.newBytes ?? counts?.bytes ?? 0,
      disappeared: run?.disappeared ?? counts?.disappeared ?? 0,
    };
  });
  for (const r of byId.values()) {
    if (claimed.has(r.id)) continue;
    drafts.push({
      key: `run:${r.id}`,
      ms: Date.parse(r.startedAt),
      jobId: null,
      archiveRunId: r.id,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      status: statusOf(r.status),
      errorCode: codeOf(r.errorCode),
      newMessages: r.newMessages,
      newBytes: r.newBytes,
      disappeared: r.disappeared,
    });
  }
  // Oldest first to carry the archive's size forward over runs that stored nothing (a failed login).
  drafts.sort((a, b) => a.ms - b.ms || cmp(a.key, b.key));
  let size = { messages: 0, bytes: 0 };
  const runs = drafts.map(({ ms, ...d }): HistoryRun => {
    const grown = d.archiveRunId === null ? undefined : archive?.growth.get(d.archiveRunId);
    if (grown) size = grown;
    return { ...d, startedAt: iso(ms), cursor: `${ms}:${d.key}`, archiveMessages: size.messages, archiveBytes: size.bytes };
  });
  return { runs: runs.reverse(), totals: archive?.totals ?? null };
}

/** One page of account.history. NOT_FOUND for an account the relay does not hold. */
export async function accountHistory(src: HistorySource, params: AccountHistoryParams): Promise<AccountHistoryResult> {
  const { accountId, limit, before } = params;
  if (!src.db.prepare('SELECT 1 FROM accounts WHERE id = ?').get(accountId)) throw mailkeepError('NOT_FOUND', `no account ${accountId}`);
  const { runs, totals } = await allRuns(src, accountId);
  const older = before === undefined ? runs : runs.filter((r) => isBefore(r.cursor, before));
  const page = older.slice(0, limit);
  const last = src.db
    .prepare("SELECT json_extract(snapshot, '$.updatedAt') AS at FROM jobs WHERE account_id = ? AND kind = 'backup' AND json_extract(snapshot, '$.status') = 'completed' AND json_extract(snapshot, '$.phase') = 'finished' ORDER BY created_at DESC LIMIT 1")
    .get(accountId) as { at: string } | undefined;
  return {
    accountId,
    relayTime: iso(src.clock.now()),
    timeZone: src.clock.timeZone(),
    totals,
    lastSuccessAt: last?.at ?? null,
    runs: page,
    totalRuns: runs.length,
    nextBefore: older.length > limit ? page[page.length - 1]!.cursor : null,
  };
}

/** Cursor order: time, then key (two runs of one millisecond keep a fixed order). */
function isBefore(cursor: string, before: string): boolean {
  const split = (c: string): [number, string] => {
    const i = c.indexOf(':');
    return [Number(c.slice(0, i)), c.slice(i + 1)];
  };
  const [ms, key] = split(cursor);
  const [bms, bkey] = split(before);
  return ms < bms || (ms === bms && cmp(key, bkey) < 0);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
