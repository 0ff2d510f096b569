import { destinationPath, pathKey } from './restore-folder-map.ts';

/**
 * Source folder -> destination folder for Migrate. Two rules, in order:
 * 1. Special use: a source folder marked \Sent, \Drafts, \Trash, \Junk or \Archive goes into the
 *    destination's folder with the same mark, whatever either is called ("Sent Items" -> "Sent",
 *    "Gesendet" -> "Sent Mail"); its subfolders follow it. Two providers rarely agree on names,
 *    and mail copied into a new "Sent Items" beside the real "Sent" would look lost to the user.
 * 2. Otherwise the path, segment by segment between the two delimiters (restore-folder-map.ts):
 *    passing "a/b" through to a "." server is refused or, worse, makes one folder named "a/b".
 */
export const MAPPED_SPECIAL_USES = ['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive'] as const;

export interface ListedFolder {
  path: string;
  delimiter: string | null;
  specialUse: string | null;
  selectable: boolean;
}

export interface FolderMapping {
  source: string;
  destination: string;
  specialUse: string | null;
  /** The destination folder exists and can be selected (else it is created before the first APPEND). */
  exists: boolean;
}

export function mapFolders(source: ListedFolder[], destination: ListedFolder[], destDelimiter: string): FolderMapping[] {
  const destByUse = new Map<string, ListedFolder>();
  for (const d of destination) if (d.specialUse && d.selectable && !destByUse.has(d.specialUse)) destByUse.set(d.specialUse, d);
  const destSelectable = new Map<string, ListedFolder>();
  for (const d of destination) if (d.selectable) destSelectable.set(pathKey(d.path, destDelimiter), d);
  // Source special-use roots, longest first so the nearest marked ancestor wins.
  const roots = source
    .filter((s) => s.specialUse && (MAPPED_SPECIAL_USES as readonly string[]).includes(s.specialUse) && destByUse.has(s.specialUse))
    .sort((a, b) => b.path.length - a.path.length);

  const out: FolderMapping[] = [];
  for (const s of source) {
    if (!s.selectable) continue;
    let mapped: string | null = null;
    let use: string | null = null;
    for (const r of roots) {
      const d = r.delimiter;
      if (s.path === r.path || (d && s.path.startsWith(r.path + d))) {
        const target = destByUse.get(r.specialUse!)!;
        const rest = s.path.slice(r.path.length + (s.path === r.path ? 0 : d!.length));
        mapped = rest ? `${target.path}${destDelimiter}${destinationPath(rest, d, destDelimiter)}` : target.path;
        use = r.specialUse;
        break;
      }
    }
    mapped ??= destinationPath(s.path, s.delimiter, destDelimiter);
    const existing = destSelectable.get(pathKey(mapped, destDelimiter));
    out.push({ source: s.path, destination: existing?.path ?? mapped, specialUse: use, exists: !!existing });
  }
  return out;
}
