import type { ListResponse } from 'imapflow';

const isInbox = (s: string): boolean => s.toUpperCase() === 'INBOX';

/**
 * Source folder -> destination folder, for restore and migrate alike, through the personal
 * NAMESPACE of both sides (prefix and hierarchy delimiter), as imapsync does:
 *
 * 1. Special use: a source folder marked \Sent, \Drafts, \Trash, \Junk or \Archive goes into the
 *    destination folder the destination server flags with the same use (SPECIAL-USE; a name guess
 *    only on a server that flags nothing, listedDestinations), whatever either is called; its
 *    subfolders follow it. Without one the folder is mapped by name (rule 2): "Sent" lands in
 *    "Sent" or "INBOX.Sent".
 * 2. Otherwise the name: the source's personal prefix is stripped ("INBOX.Projects" on Courier is
 *    "Projects"), the rest split at the source delimiter, each segment's destination-delimiter
 *    characters replaced by DELIMITER_STAND_IN (imapsync's usual --regextrans2 remedy; passing
 *    "a/b" through to a "." server is refused or makes a nested folder), joined with the
 *    destination delimiter and put under the destination's prefix ("Projects/Sub" is
 *    "INBOX.Projects.Sub" on Courier and Cyrus' default). INBOX stays INBOX everywhere.
 *
 * The result is compared with the destination's folders as listed (INBOX case-insensitive), so a
 * rerun finds what an earlier run created and never CREATEs it again.
 */
export const MAPPED_SPECIAL_USES = ['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive'] as const;

/** Stand-in for a destination delimiter that occurs inside one source segment ("a.b" onto a "." server). */
export const DELIMITER_STAND_IN = '_';

/** A personal namespace: the prefix every folder but INBOX carries ("INBOX." or "") and the delimiter. */
export interface Namespace {
  prefix: string;
  delimiter: string;
}

export interface ListedFolder {
  /** Decoded (Unicode) path as the server lists it, prefix included. */
  path: string;
  delimiter: string | null;
  /** On the destination: only a use the server flags. On the source: any (a name guess helps there). */
  specialUse: string | null;
  selectable: boolean;
}

export interface FolderMapping {
  source: string;
  destination: string;
  /** The special use that decided the destination (rule 1), else null. */
  specialUse: string | null;
  /** The destination folder exists and can be selected (else it is to be created). */
  exists: boolean;
}

/**
 * The name a folder gets when the server refuses the mapped one, tried once (create-folders.ts):
 * in each segment, characters outside the Basic Multilingual Plane and "." become
 * DELIMITER_STAND_IN. Those are what real servers refuse: Courier without UTF-8 the modified UTF-7
 * of an emoji (and with UTF-8 it stores the name raw, which breaks every other client's LIST),
 * Dovecot with Maildir storage a "." even where "/" is the delimiter ("[CANNOT] Character not
 * allowed in mailbox name"). The next run's mapping looks for this name too.
 */
export function fallbackName(path: string, delimiter: string): string {
  const clean = (seg: string): string => seg.replace(/[\u{10000}-\u{10FFFF}]/gu, DELIMITER_STAND_IN).replace(/\./g, DELIMITER_STAND_IN);
  if (isInbox(path)) return path;
  return delimiter ? path.split(delimiter).map((seg, i) => (i === 0 && isInbox(seg) ? seg : clean(seg))).join(delimiter) : clean(path);
}

const startsWithCi = (s: string, p: string): boolean => s.slice(0, p.length).toUpperCase() === p.toUpperCase();

/**
 * The segments of a source path below its personal namespace. INBOX is ["INBOX"]; a child of INBOX
 * on a server without prefix keeps INBOX as its first segment.
 */
export function logicalSegments(path: string, delimiter: string | null, ns: Namespace): string[] {
  if (isInbox(path)) return ['INBOX'];
  const d = delimiter ?? ns.delimiter;
  const rest = ns.prefix && startsWithCi(path, ns.prefix) && path.length > ns.prefix.length ? path.slice(ns.prefix.length) : path;
  const segments = d ? rest.split(d) : [rest];
  if (isInbox(segments[0]!)) segments[0] = 'INBOX';
  return segments;
}

/** The destination path of logical segments: each segment cleaned of the delimiter, joined, under the prefix. */
export function destinationPathOf(segments: string[], ns: Namespace): string {
  if (segments.length === 1 && isInbox(segments[0]!)) return 'INBOX';
  const d = ns.delimiter;
  const joined = segments.map((s) => (d ? s.split(d).join(DELIMITER_STAND_IN) : s)).join(d);
  // A child of INBOX is already under an "INBOX." prefix (imapsync adds the prefix only when missing).
  if (!ns.prefix || startsWithCi(joined + d, ns.prefix)) return joined;
  return ns.prefix + joined;
}

/** Comparison key of a destination path: INBOX (and an INBOX prefix) is case-insensitive. */
export function pathKey(p: string, delimiter: string): string {
  const [head, ...rest] = delimiter ? p.split(delimiter) : [p];
  return [isInbox(head!) ? 'INBOX' : head, ...rest].join(delimiter);
}

export function mapFolders(
  source: { namespace: Namespace; folders: ListedFolder[] },
  destination: { namespace: Namespace; folders: ListedFolder[] },
  opts: { into?: string; /** Special uses that decide the destination (default MAPPED_SPECIAL_USES; Gmail adds \All and \Flagged). */ specialUses?: readonly string[] } = {},
): FolderMapping[] {
  const uses: readonly string[] = opts.specialUses ?? MAPPED_SPECIAL_USES;
  const dns = destination.namespace;
  const destByUse = new Map<string, ListedFolder>();
  for (const d of destination.folders) if (d.specialUse && d.selectable && !destByUse.has(d.specialUse)) destByUse.set(d.specialUse, d);
  const destSelectable = new Map<string, ListedFolder>();
  for (const d of destination.folders) if (d.selectable) destSelectable.set(pathKey(d.path, dns.delimiter), d);
  // Source special-use roots, longest first so the nearest marked ancestor wins. With --into the
  // whole tree goes under the new folder: no special-use redirection.
  const roots = opts.into
    ? []
    : source.folders
        .filter((s) => s.specialUse && uses.includes(s.specialUse) && destByUse.has(s.specialUse))
        .sort((a, b) => b.path.length - a.path.length);

  const out: FolderMapping[] = [];
  for (const s of source.folders) {
    if (!s.selectable) continue;
    let mapped: string | null = null;
    let use: string | null = null;
    for (const r of roots) {
      const d = r.delimiter ?? source.namespace.delimiter;
      if (s.path === r.path || (d && s.path.startsWith(r.path + d))) {
        const target = destByUse.get(r.specialUse!)!;
        const rest = s.path === r.path ? [] : s.path.slice(r.path.length + d.length).split(d);
        mapped = rest.length ? [target.path, ...rest.map((x) => x.split(dns.delimiter).join(DELIMITER_STAND_IN))].join(dns.delimiter) : target.path;
        use = r.specialUse;
        break;
      }
    }
    if (mapped === null) {
      const segments = logicalSegments(s.path, s.delimiter, source.namespace);
      mapped = destinationPathOf(opts.into ? [opts.into, ...segments] : segments, dns);
    }
    // An earlier run may have had to create the folder under its fallback name (create-folders.ts).
    const fallback = fallbackName(mapped, dns.delimiter);
    const existing = destSelectable.get(pathKey(mapped, dns.delimiter)) ?? (fallback !== mapped ? destSelectable.get(pathKey(fallback, dns.delimiter)) : undefined);
    out.push({ source: s.path, destination: existing?.path ?? mapped, specialUse: use, exists: !!existing });
  }
  return out;
}

/**
 * The personal namespace of an archived account, from its stored folder names and delimiter (the
 * archive has no NAMESPACE record): when every folder but INBOX starts with "INBOX" + delimiter,
 * the account lived under an "INBOX." prefix (Courier, Cyrus' default); otherwise there was none.
 */
export function archivedNamespace(folders: { name: string; delimiter: string | null }[]): Namespace {
  const counts = new Map<string, number>();
  for (const f of folders) if (f.delimiter) counts.set(f.delimiter, (counts.get(f.delimiter) ?? 0) + 1);
  const delimiter = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '/';
  const others = folders.filter((f) => !isInbox(f.name));
  const prefix = `INBOX${delimiter}`;
  return { prefix: others.length && others.every((f) => startsWithCi(f.name, prefix)) ? prefix : '', delimiter };
}

/** The personal namespace of a live session: imapflow's NAMESPACE answer, else what LIST showed. */
export function sessionNamespace(ns: { prefix?: string; delimiter?: string | null } | undefined, listed: ListResponse[]): Namespace {
  return { prefix: ns?.prefix ?? '', delimiter: ns?.delimiter || listed.find((l) => l.delimiter)?.delimiter || '/' };
}

const selectable = (l: ListResponse): boolean => !l.flags.has('\\Noselect') && !l.flags.has('\\NonExistent');

/** A source folder as listed: imapflow's special use, guessed from the name or not. */
export const listedSource = (l: ListResponse): ListedFolder => ({ path: l.path, delimiter: l.delimiter || null, specialUse: l.specialUse || null, selectable: selectable(l) });

/**
 * The destination's folders as listed. Special use by the server's flags (SPECIAL-USE) when it flags
 * any folder; only a server that flags none (Dovecot without special_use, Courier) falls back to
 * imapflow's guess from the names ("Sent", "Gesendet", "Sent Items"), so mail from "Sent Messages"
 * joins an existing "Sent" there instead of a new folder beside it.
 */
export function listedDestinations(listed: ListResponse[]): ListedFolder[] {
  const flags = listed.some((l) => l.specialUse && l.specialUseSource === 'extension');
  return listed.map((l) => ({
    path: l.path,
    delimiter: l.delimiter || null,
    specialUse: l.specialUse && (!flags || l.specialUseSource === 'extension') ? l.specialUse : null,
    selectable: selectable(l),
  }));
}
