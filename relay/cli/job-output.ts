import type { ErrorCode } from '../../lib/protocol/error-codes.ts';
import type { BackupProgress } from '../jobs/backup/types.ts';
import type { Io } from './io.ts';
import { formatRetryIn } from './format-retry-in.ts';
import { progressPrinter } from './progress-printer.ts';

/** What every job's onStatus is told (migrate adds which side failed). */
export interface JobStatusDetail {
  attempt: number;
  errorCode?: ErrorCode;
  message?: string;
  retryInMs?: number;
  side?: string;
}

export interface JobOutputOptions {
  /** The line printed (without --json) when the job goes to Retrying. */
  retryLine: (d: JobStatusDetail) => string;
  /** Extra fields of a JSON status event, placed between errorCode and retryInMs. */
  statusFields?: (d: JobStatusDetail) => Record<string, unknown>;
}

/** Retrying line of restore and migrate: the error, and when the next try is (if one is due). */
export function retryingWithNextTry(d: JobStatusDetail): string {
  return `Retrying (attempt ${d.attempt} failed: ${d.errorCode}: ${d.message})${d.retryInMs !== undefined ? `; next try ${formatRetryIn(d.retryInMs)}` : ''}`;
}

/**
 * The output every job command shares: status and progress as JSON events (--json) or as
 * progress lines on stderr, and the final JSON result line.
 */
export function jobOutput<S extends string, P extends BackupProgress = BackupProgress>(
  io: Io,
  json: boolean,
  statusNames: Record<S, string>,
  doneWord: string,
  opts: JobOutputOptions,
) {
  const printer = progressPrinter(io.err, doneWord);
  return {
    hooks: {
      signal: io.signal,
      onStatus: (s: S, d: JobStatusDetail): void => {
        if (json)
          io.out.write(
            `${JSON.stringify({ event: 'status', status: statusNames[s], statusId: s, attempt: d.attempt, errorCode: d.errorCode ?? null, ...opts.statusFields?.(d), retryInMs: d.retryInMs ?? null })}\n`,
          );
        else if (s === 'retrying') printer.line(opts.retryLine(d));
      },
      onProgress: (p: P): void => {
        if (json) io.out.write(`${JSON.stringify({ event: 'progress', ...p })}\n`);
        else printer.update(p);
      },
    },
    /** Ends the progress display (call once the job has returned). */
    end(): void {
      printer.end();
    },
    /** The last line of --json: the result object with the status's printed name. */
    writeResult(result: { status: S }): void {
      io.out.write(`${JSON.stringify({ ...result, status: statusNames[result.status], statusId: result.status })}\n`);
    },
  };
}
