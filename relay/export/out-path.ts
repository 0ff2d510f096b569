import fs from 'node:fs';
import path from 'node:path';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';

/** Symlink hops followed before giving up: a loop must not hang the check. */
const MAX_LINK_HOPS = 40;

/**
 * Where a path really lands once every symlink and `..` is resolved, also for a path that does not
 * exist yet (the deepest existing ancestor is resolved, the rest appended) and for a dangling
 * symlink (followed to where it would create its target).
 */
export function realLocation(p: string, hops = 0): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    /* does not exist (yet), or a dangling link: resolve piece by piece */
  }
  const parent = path.dirname(abs);
  if (parent === abs) return abs;
  const st = fs.lstatSync(abs, { throwIfNoEntry: false });
  if (st?.isSymbolicLink() && hops < MAX_LINK_HOPS) return realLocation(path.resolve(parent, fs.readlinkSync(abs)), hops + 1);
  return path.join(realLocation(parent, hops), path.basename(abs));
}

function isWithin(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** True when `p` or an ancestor of it is the very directory `dir` (same device and inode): catches bind mounts that a path comparison cannot. */
function sameDirAbove(dirStat: fs.Stats, p: string): boolean {
  for (let d = p; ; d = path.dirname(d)) {
    const st = fs.statSync(d, { throwIfNoEntry: false });
    if (st && st.dev === dirStat.dev && st.ino === dirStat.ino) return true;
    if (path.dirname(d) === d) return false;
  }
}

/**
 * Refuses an export target that could destroy anything, before a byte is written (issue 9 item 7):
 * - OUTPUT_INSIDE_ARCHIVE: the file, the symlink's target, or the directory its temporary file
 *   goes into lies anywhere under the archive directory (after symlinks and `..`; also through a
 *   bind mount of it). An export there could replace a pack or the index.
 * - OUTPUT_IS_DIRECTORY: --out names a directory (or ends in a slash).
 * - OUTPUT_EXISTS: a file is already there and `force` is not set.
 * Returns the absolute path to write.
 */
export function checkOutPath(out: string, archiveDir: string, force: boolean): string {
  const abs = path.resolve(out);
  const archive = realLocation(archiveDir);
  const archiveStat = fs.statSync(archive, { throwIfNoEntry: false });
  // Where the bytes go: the link's target (what the user means) and the directory entry the
  // temporary file and the rename touch.
  const landings = [realLocation(abs), path.join(realLocation(path.dirname(abs)), path.basename(abs))];
  for (const at of landings) {
    if (isWithin(archive, at) || (archiveStat?.isDirectory() && sameDirAbove(archiveStat, path.dirname(at)))) {
      throw mailkeepError('OUTPUT_INSIDE_ARCHIVE', `--out ${out} is inside the archive ${archiveDir}; write the export somewhere outside it`, { out: abs });
    }
  }
  const st = fs.statSync(abs, { throwIfNoEntry: false });
  if (st?.isDirectory() || /[\\/]$/.test(out)) {
    throw mailkeepError('OUTPUT_IS_DIRECTORY', `--out ${out} is a directory; give the name of the file to write, e.g. ${path.join(out, 'mail.zip')}`, { out: abs });
  }
  if (!force && (st || fs.lstatSync(abs, { throwIfNoEntry: false }))) {
    throw mailkeepError('OUTPUT_EXISTS', `--out ${out} already exists; choose another name, or add --force to replace it`, { out: abs });
  }
  return abs;
}

/**
 * Puts the finished temporary file at `out`. Without `force` a hard link publishes it only if
 * nothing is there (EEXIST is atomic, so a file that appeared since the check is kept); with
 * `force`, rename replaces what is there in one step.
 */
export async function publishOutput(tmp: string, out: string, force: boolean): Promise<void> {
  if (force) return fs.promises.rename(tmp, out);
  try {
    await fs.promises.link(tmp, out);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw mailkeepError('OUTPUT_EXISTS', `${out} appeared while exporting; it was left as it is (add --force to replace it)`, { out });
    // Filesystems without hard links (FAT, some network shares): check, then rename.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw err;
    if (fs.lstatSync(out, { throwIfNoEntry: false })) throw mailkeepError('OUTPUT_EXISTS', `${out} appeared while exporting; it was left as it is (add --force to replace it)`, { out });
    return fs.promises.rename(tmp, out);
  }
  await fs.promises.rm(tmp, { force: true });
}
