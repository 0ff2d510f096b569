import fs from 'node:fs';
import path from 'node:path';
import { MailkeepError, mailkeepError } from '../../lib/protocol/error-codes.ts';

/**
 * Why an archive folder could not be opened for writing, as a stable code instead of the raw
 * system text (EROFS, ENOTDIR, "unable to open database file"). Found by looking at the path, not
 * by the error alone: Node's recursive mkdir on a read-only mount says ENOENT, and SQLite says
 * "unable to open database file" for a read-only folder and for an index that is a directory alike.
 *
 * - ARCHIVE_PATH_INVALID: `--archive` (or a folder above it) is a file, or index.sqlite is not a
 *   file. Nothing is moved or created.
 * - ARCHIVE_NOT_WRITABLE: the folder is on a read-only disk or not writable by this user. Reading
 *   it (verify, archive-info, restore, export) still works.
 */
export function archivePathError(dir: string, err: unknown): MailkeepError | null {
  if (err instanceof MailkeepError) return null;
  const invalid = archivePathInvalid(dir);
  if (invalid) return withCause(invalid, err);
  const sys = String((err as { code?: unknown })?.code ?? '');
  const existing = deepestExisting(path.resolve(dir));
  if (/^(EROFS|EACCES|EPERM|SQLITE_READONLY)/.test(sys) || (/^(ENOENT|SQLITE_CANTOPEN)/.test(sys) && existing !== null && !writable(existing))) {
    return mailkeepError(
      'ARCHIVE_NOT_WRITABLE',
      `the archive folder ${dir} cannot be written (a read-only disk or no write permission); verify, archive-info, restore and export still read it`,
      {},
      err,
    );
  }
  return null;
}

/** ARCHIVE_PATH_INVALID when `dir` (or a folder above it) is a file, or its index.sqlite is not a file; else null. */
export function archivePathInvalid(dir: string): MailkeepError | null {
  const existing = deepestExisting(path.resolve(dir));
  if (existing !== null && !fs.statSync(existing).isDirectory()) {
    return mailkeepError('ARCHIVE_PATH_INVALID', `${existing} is a file, not a folder: --archive must name the archive folder; nothing was changed`);
  }
  const index = path.join(dir, 'index.sqlite');
  const st = fs.lstatSync(index, { throwIfNoEntry: false });
  if (st && !st.isFile()) {
    return mailkeepError('ARCHIVE_PATH_INVALID', `${index} is ${st.isDirectory() ? 'a folder' : 'not a regular file'}, not the archive's index file: move it out of the archive folder; nothing was changed`);
  }
  return null;
}

function withCause(e: MailkeepError, cause: unknown): MailkeepError {
  return mailkeepError(e.code, e.message, e.details, cause);
}

/** `p` or its nearest ancestor that exists (null only if even the root cannot be seen). */
function deepestExisting(p: string): string | null {
  for (let cur = p; ; cur = path.dirname(cur)) {
    if (exists(cur)) return cur;
    if (path.dirname(cur) === cur) return null;
  }
}

/** ENOTDIR (a file on the way) counts as "not there", like ENOENT. */
function exists(p: string): boolean {
  try {
    fs.statSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Whether this process may write at `p` (a read-only mount or missing permission says no). */
export function writable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
