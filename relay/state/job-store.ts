import fs from 'node:fs';
import path from 'node:path';
import { DOOR_LIMITS } from '../../lib/limits.ts';
import { z } from '../../lib/zod.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { JobSnapshot } from '../../lib/protocol/common.ts';
import { readFileIfExists } from '../fs/atomic-file.ts';
import type { StateDb } from './state-db.ts';

/**
 * The job history in state.sqlite: one row per job (its snapshot and parameters), written on
 * every status change, bounded to DOOR_LIMITS.jobHistoryMax rows. Replaces the rewritten
 * `jobs.json` of earlier relays, which is imported once and kept as `jobs.json.imported`.
 */
export const LEGACY_JOBS_FILE = 'jobs.json';

const LegacyJobsFile = z.object({
  v: z.literal(1),
  jobs: z.array(JobSnapshot),
  /** Checked against each job's kind when it runs (relay/server/job-manager.ts), not here. */
  params: z.record(z.string(), z.unknown()).default({}),
  resumeOnStart: z.array(z.string()).default([]),
});

export interface StoredJob {
  job: JobSnapshot;
  /**
   * As job.start gave them. Read back unchecked: the job manager checks them against the job's
   * kind when it runs the job, so params that no longer fit fail that job (INVALID_INPUT) instead
   * of running it with none (a restore with no filter would restore everything).
   */
  params: unknown;
  resumeOnStart: boolean;
  /**
   * The job was running as the resume of a run a relay stopped under (resume_on_start = 2): if the
   * relay stops under it again before it finishes, the next start does not resume it a third time.
   */
  resumedRun: boolean;
}

export class JobStore {
  private readonly putStmt;
  private readonly deleteStmt;

  constructor(private readonly db: StateDb) {
    this.putStmt = db.prepare(
      `INSERT INTO jobs (id, idempotency_key, account_id, kind, created_at, snapshot, params, resume_on_start)
       VALUES (@id, @key, @accountId, @kind, @createdAt, @snapshot, @params, @resume)
       ON CONFLICT(id) DO UPDATE SET snapshot = excluded.snapshot, params = excluded.params, resume_on_start = excluded.resume_on_start`,
    );
    this.deleteStmt = db.prepare('DELETE FROM jobs WHERE id = ?');
  }

  /** Every stored job, newest first. A row this relay cannot read is skipped, not fatal. */
  all(): StoredJob[] {
    const rows = this.db.prepare('SELECT snapshot, params, resume_on_start FROM jobs ORDER BY created_at DESC').all() as { snapshot: string; params: string; resume_on_start: number }[];
    const out: StoredJob[] = [];
    for (const r of rows) {
      const job = JobSnapshot.safeParse(parseJson(r.snapshot));
      if (!job.success) continue;
      out.push({ job: job.data, params: parseJson(r.params) ?? {}, resumeOnStart: r.resume_on_start === 1, resumedRun: r.resume_on_start === 2 });
    }
    return out;
  }

  /** resume_on_start: 1 = the next start resumes it, 2 = it runs as a resume (StoredJob.resumedRun), 0 = neither. */
  put(job: JobSnapshot, params: unknown, resumeOnStart = false, resumedRun = false): void {
    this.putStmt.run({
      id: job.id,
      key: job.idempotencyKey,
      accountId: job.accountId,
      kind: job.kind,
      createdAt: job.createdAt,
      snapshot: JSON.stringify(job),
      params: JSON.stringify(params),
      resume: resumeOnStart ? 1 : resumedRun ? 2 : 0,
    });
  }

  /** Many rows in one transaction (shutdown, import). */
  putMany(rows: readonly StoredJob[]): void {
    this.db.transaction(() => {
      for (const r of rows) this.put(r.job, r.params, r.resumeOnStart, r.resumedRun);
    })();
  }

  delete(jobId: string): void {
    this.deleteStmt.run(jobId);
  }

  /** The latest backup job of an account (any phase), straight from disk: the CLI's status reads it. */
  latestBackup(accountId: string): JobSnapshot | null {
    const row = this.db.prepare("SELECT snapshot FROM jobs WHERE account_id = ? AND kind = 'backup' ORDER BY created_at DESC LIMIT 1").get(accountId) as { snapshot: string } | undefined;
    const parsed = row ? JobSnapshot.safeParse(parseJson(row.snapshot)) : undefined;
    return parsed?.success ? parsed.data : null;
  }

  /** When the account's latest Completed backup finished, or null. */
  lastSuccessAt(accountId: string): string | null {
    const row = this.db
      .prepare("SELECT json_extract(snapshot, '$.updatedAt') AS at FROM jobs WHERE account_id = ? AND kind = 'backup' AND json_extract(snapshot, '$.status') = 'completed' AND json_extract(snapshot, '$.phase') = 'finished' ORDER BY created_at DESC LIMIT 1")
      .get(accountId) as { at: string } | undefined;
    return row?.at ?? null;
  }

  recent(limit: number): JobSnapshot[] {
    const rows = this.db.prepare('SELECT snapshot FROM jobs ORDER BY created_at DESC LIMIT ?').all(limit) as { snapshot: string }[];
    return rows.flatMap((r) => {
      const p = JobSnapshot.safeParse(parseJson(r.snapshot));
      return p.success ? [p.data] : [];
    });
  }

  /**
   * Imports an earlier relay's `jobs.json` once: its jobs (bounded like the history), parameters
   * and resume marks go into the table in one transaction, then the file is renamed
   * `jobs.json.imported` (kept, not deleted). A file this relay cannot read stops the start with
   * JOBS_FILE_UNREADABLE and is left as it is.
   */
  importLegacy(dataDir: string): number {
    const file = path.join(dataDir, LEGACY_JOBS_FILE);
    const raw = readFileIfExists(file);
    if (raw === undefined) return 0;
    const parsed = LegacyJobsFile.safeParse(parseJson(raw));
    if (!parsed.success) throw mailkeepError('JOBS_FILE_UNREADABLE', `${file} is not a job list this relay can read; nothing was changed (move it aside to start without the job history)`);
    const resume = new Set(parsed.data.resumeOnStart);
    const jobs = [...parsed.data.jobs].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, DOOR_LIMITS.jobHistoryMax);
    this.db.transaction(() => {
      for (const job of jobs) {
        // A job already in the table (an import interrupted after its commit) is not replaced.
        const exists = this.db.prepare('SELECT 1 FROM jobs WHERE id = ? OR idempotency_key = ?').get(job.id, job.idempotencyKey);
        if (!exists) this.put(job, parsed.data.params[job.id] ?? {}, resume.has(job.id));
      }
    })();
    fs.renameSync(file, `${file}.imported`);
    return jobs.length;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
