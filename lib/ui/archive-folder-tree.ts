import type { ArchiveFolder } from '../protocol/archive-browse.ts';

/** One line of the Archive page's folder tree: an archived folder, or a parent that is only a name. */
export interface FolderNode {
  /** The full name ("Lists/dev"): what the page selects and links. */
  path: string;
  /** The last part ("dev"), shown indented under its parent. */
  label: string;
  depth: number;
  /** The archived folder; absent for a parent the archive does not hold (an IMAP \Noselect parent, or
   * one never backed up): shown as a name that cannot be opened, so "Lists/dev" never looks like "INBOX/dev". */
  folder?: ArchiveFolder;
}

/**
 * The tree the side bar shows: every archived folder under its parent, in name order, with each
 * missing parent put in as a name-only node. Names split at the folder's own delimiter.
 */
export function folderTree(folders: readonly ArchiveFolder[]): FolderNode[] {
  const byPath = new Map<string, FolderNode>();
  const parts = (f: ArchiveFolder) => (f.delimiter ? f.name.split(f.delimiter) : [f.name]);
  for (const f of folders) {
    const p = parts(f);
    const delimiter = f.delimiter ?? '';
    for (let i = 1; i < p.length; i++) {
      const path = p.slice(0, i).join(delimiter);
      if (!byPath.has(path)) byPath.set(path, { path, label: p[i - 1]!, depth: i - 1 });
    }
    byPath.set(f.name, { path: f.name, label: p[p.length - 1]!, depth: p.length - 1, folder: f });
  }
  // Children right after their parent: order by the list of path parts (INBOX first, as clients do).
  const key = (n: FolderNode) => (n.folder ? parts(n.folder) : n.path.split(delimiterOf(folders, n.path)));
  const inboxFirst = (a: string, b: string) => (a.toUpperCase() === 'INBOX' ? -1 : b.toUpperCase() === 'INBOX' ? 1 : a.localeCompare(b));
  return [...byPath.values()].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      if (ka[i] !== kb[i]) return i === 0 ? inboxFirst(ka[i]!, kb[i]!) : ka[i]!.localeCompare(kb[i]!);
    }
    return ka.length - kb.length;
  });
}

/** The delimiter of the folders under `path` (a name-only parent has none of its own). */
function delimiterOf(folders: readonly ArchiveFolder[], path: string): string {
  return folders.find((f) => f.delimiter && f.name.startsWith(path + f.delimiter))?.delimiter ?? '/';
}
