import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { z } from '../../lib/zod.ts';
import type { DownloadLink } from '../../lib/protocol/job-outcome.ts';
import { readFileIfExists, writeFileAtomic } from '../fs/atomic-file.ts';

/**
 * The relay's finished downloads: one unguessable token per file (256 bits, only its SHA-256 kept
 * on disk), served by the door at GET /download/<token> with the pairing token, until it expires.
 * At expiry (a timer, and a sweep at every start for what expired while the relay was down) the
 * file is deleted and the job becomes Expired through `onExpire`. Expired tokens are remembered a
 * while longer so the door answers 410 Gone, not 404, to a stale link.
 *
 * Each download has its own directory, <dataDir>/downloads/<jobId>/; anything there that neither a
 * live link nor a running export owns (an export killed half-way, a file whose link expired while
 * the relay was down) is removed by the sweep.
 */
export const DOWNLOADS_FILE = 'downloads.json';
export const DOWNLOADS_DIR = 'downloads';
/** Expired tokens are kept this long for a 410 answer, then forgotten (then 404). */
const TOMBSTONE_MS = 7 * 24 * 60 * 60 * 1000;
/** setTimeout's ceiling; a longer wait is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const Entry = z.object({
  tokenSha256: z.string().length(64),
  jobId: z.string(),
  file: z.string(),
  fileName: z.string(),
  bytes: z.number(),
  expiresAt: z.number(),
  expired: z.boolean(),
});
type Entry = z.infer<typeof Entry>;
const LinksFile = z.object({ v: z.literal(1), links: z.array(Entry) });

const digest = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export type LinkLookup =
  | { state: 'ok'; file: string; fileName: string; bytes: number }
  | { state: 'expired' }
  | { state: 'unknown' };

export class DownloadLinks {
  private links: Entry[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Called once per link when it expires (the job manager marks the job Expired). */
  onExpire: (jobId: string) => void = () => undefined;

  constructor(
    private readonly dataDir: string,
    private readonly now: () => number = Date.now,
  ) {
    const raw = readFileIfExists(path.join(dataDir, DOWNLOADS_FILE));
    if (raw !== undefined) {
      const parsed = LinksFile.safeParse(JSON.parse(raw));
      if (parsed.success) this.links = parsed.data.links;
    }
  }

  /**
   * A fresh private directory for one download's file, guarded from the sweep until `release`
   * (call it after register, or after a failure: the sweep then removes what is left).
   */
  workDir(jobId: string): { dir: string; release: () => void } {
    const d = path.join(this.dataDir, DOWNLOADS_DIR, jobId);
    fs.rmSync(d, { recursive: true, force: true });
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    const p = path.resolve(d);
    this.busy.add(p);
    return { dir: d, release: () => this.busy.delete(p) };
  }

  /** Directories of exports in progress, which the sweep must not remove. */
  private readonly busy = new Set<string>();

  /** Publishes a finished file; `ttlMs` is clamped to the limits. Returns the link for the job's outcome. */
  register(jobId: string, file: string, fileName: string, ttlMs: number = RELAY_LIMITS.downloadLinkTtlMs): DownloadLink {
    const token = randomBytes(RELAY_LIMITS.downloadTokenBytes).toString('hex');
    const ttl = Math.min(Math.max(ttlMs, RELAY_LIMITS.downloadLinkMinTtlMs), RELAY_LIMITS.downloadLinkMaxTtlMs);
    const bytes = fs.statSync(file).size;
    const expiresAt = this.now() + ttl;
    this.links.push({ tokenSha256: digest(token), jobId, file, fileName, bytes, expiresAt, expired: false });
    this.persist();
    this.arm();
    return { url: `/download/${token}`, expiresAt: new Date(expiresAt).toISOString(), fileName, bytes };
  }

  /**
   * Names given to files still served or remembered (tombstones live a week), so a second export
   * of an account on the same day gets a name of its own (relay/export/export-file-name.ts).
   */
  namesGiven(): string[] {
    return this.links.map((l) => l.fileName);
  }

  lookup(token: string): LinkLookup {
    const e = this.links.find((l) => l.tokenSha256 === digest(token));
    if (!e) return { state: 'unknown' };
    if (e.expired || e.expiresAt <= this.now()) {
      if (!e.expired) this.sweep();
      return { state: 'expired' };
    }
    if (!fs.existsSync(e.file)) return { state: 'expired' };
    return { state: 'ok', file: e.file, fileName: e.fileName, bytes: e.bytes };
  }

  /** Expires what is due (file deleted, job Expired), forgets old tombstones, removes orphan files. */
  sweep(): void {
    const now = this.now();
    const expiredNow: string[] = [];
    for (const e of this.links) {
      if (!e.expired && e.expiresAt <= now) {
        e.expired = true;
        fs.rmSync(path.dirname(e.file), { force: true, recursive: true });
        expiredNow.push(e.jobId);
      }
    }
    this.links = this.links.filter((e) => !e.expired || e.expiresAt + TOMBSTONE_MS > now);
    const live = new Set(this.links.filter((e) => !e.expired).map((e) => path.resolve(path.dirname(e.file))));
    const dir = path.join(this.dataDir, DOWNLOADS_DIR);
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const p = path.resolve(dir, name);
      if (!live.has(p) && !this.busy.has(p)) fs.rmSync(p, { force: true, recursive: true });
    }
    this.persist();
    for (const jobId of expiredNow) {
      try {
        this.onExpire(jobId);
      } catch {
        /* the file is gone either way; the job list catches up on the next start */
      }
    }
  }

  /** Sweep now, then wake at the next expiry. */
  start(): void {
    this.sweep();
    this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    clearTimeout(this.timer);
    const next = Math.min(...this.links.filter((e) => !e.expired).map((e) => e.expiresAt));
    if (!Number.isFinite(next)) return;
    this.timer = setTimeout(() => {
      this.sweep();
      this.arm();
    }, Math.min(Math.max(next - this.now(), 0) + 5, MAX_TIMER_MS));
    this.timer.unref();
  }

  private persist(): void {
    writeFileAtomic(path.join(this.dataDir, DOWNLOADS_FILE), JSON.stringify({ v: 1, links: this.links }));
  }
}
