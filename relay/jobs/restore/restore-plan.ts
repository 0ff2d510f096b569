import { readQuota } from '../../imap/read-quota.ts';
import type { ImapFlow, ListResponse } from 'imapflow';
import { mailkeepError } from '../../../lib/protocol/error-codes.ts';
import { listWithoutUtf8 } from '../../imap/create-folders.ts';
import { classifyImapError, describeImapError, isConnectionCode } from '../../imap/classify-error.ts';
import type { BlobReader } from '../restore-blob.ts';
import { archivedNamespace, listedDestinations, MAPPED_SPECIAL_USES, mapFolders, pathKey, sessionNamespace, type ListedFolder } from '../folder-map.ts';
import { AppendRecords, blobSource } from '../append-records.ts';
import { blobPresence, FolderPresence } from '../restore-presence.ts';
import type { ArchivedFolders, RestoreCandidate } from '../restore-select.ts';
import type { RestorePlan, RestorePlanFolder, RestoreSkipped } from './restore-types.ts';

/** One destination folder's work: what to append, in order. */
export interface FolderWork {
  source: string;
  destination: string;
  create: boolean;
  toAppend: RestoreCandidate[];
  /** Candidates found present, with the UID that holds them (a Gmail restore labels it). */
  present: Map<RestoreCandidate, number>;
}

/**
 * Reads the destination (LIST, then per folder one presence FETCH and the append record; see
 * restore-presence.ts) and
 * decides, for every candidate, whether it is already there, cannot be sent (over APPENDLIMIT, or
 * in a dry run a blob failing its hash) or is to be appended. Nothing is written: the dry run's
 * plan and the real run's plan are the same computation, so the dry run's counts are exact.
 */
export async function planRestore(
  client: ImapFlow,
  candidates: RestoreCandidate[],
  blobs: BlobReader,
  opts: {
    into?: string;
    dryRun: boolean;
    signal?: AbortSignal;
    archived?: ArchivedFolders;
    records?: AppendRecords;
    /** A Gmail destination: All Mail and Starred are found by their special use too (folder-map.ts). */
    gmail?: boolean;
  },
): Promise<{ plan: RestorePlan; folders: FolderWork[]; skipped: RestoreSkipped[]; delimiter: string; destinationOf: Map<string, string>; listed: Map<string, ListResponse> }> {
  const listed = await listWithoutUtf8(client);
  const dns = sessionNamespace(client.namespace, listed);
  const delimiter = dns.delimiter;
  const selectable = new Map<string, ListResponse>();
  for (const l of listed) if (!l.flags.has('\\Noselect') && !l.flags.has('\\NonExistent')) selectable.set(pathKey(l.path, delimiter), l);
  const appendLimitCap = client.capabilities.get('APPENDLIMIT');
  const appendLimit = typeof appendLimitCap === 'number' && appendLimitCap > 0 ? appendLimitCap : null;

  // Every archived folder a candidate or the recreate list names, mapped once through both namespaces.
  const known = new Map((opts.archived?.all ?? []).map((f) => [f.name, f]));
  const sourceFolders = new Map<string, ListedFolder>();
  const add = (name: string, delimiter: string | null): void => {
    if (sourceFolders.has(name)) return;
    const a = known.get(name);
    sourceFolders.set(name, { path: name, delimiter: a?.delimiter ?? delimiter, specialUse: a?.specialUse ?? null, selectable: true });
  };
  for (const c of candidates) add(c.folder, c.delimiter);
  for (const name of opts.archived?.recreate ?? []) add(name, null);
  // The other archived folders too: a special-use root (Sent) decides where its subfolders go even
  // when only a subfolder is restored. Only the folders above get destination groups.
  for (const a of opts.archived?.all ?? []) add(a.name, a.delimiter);
  const sns = archivedNamespace(opts.archived?.all.length ? opts.archived.all : [...sourceFolders.values()].map((f) => ({ name: f.path, delimiter: f.delimiter })));
  const mappings = mapFolders({ namespace: sns, folders: [...sourceFolders.values()] }, { namespace: dns, folders: listedDestinations(listed) }, {
    into: opts.into,
    ...(opts.gmail ? { specialUses: [...MAPPED_SPECIAL_USES, '\\All', '\\Flagged'] } : {}),
  });
  const destOf = new Map(mappings.map((m) => [m.source, m.destination]));

  const groups = new Map<string, { source: string; destination: string; list: RestoreCandidate[]; wanted: boolean }>();
  const group = (source: string): { source: string; destination: string; list: RestoreCandidate[]; wanted: boolean } => {
    const destination = destOf.get(source)!;
    const key = pathKey(destination, delimiter);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { source, destination, list: [], wanted: false }));
    return g;
  };
  for (const c of candidates) group(c.folder).list.push(c);
  // Folders restored even when empty (the whole account, or a named folder): imapsync creates them too.
  for (const name of opts.archived?.recreate ?? []) group(name).wanted = true;

  const folders: FolderWork[] = [];
  const planFolders: RestorePlanFolder[] = [];
  const skipped: RestoreSkipped[] = [];
  for (const [key, g] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    opts.signal?.throwIfAborted();
    const exists = selectable.get(key);
    const pf: RestorePlanFolder = { source: g.source, destination: exists?.path ?? g.destination, create: !exists, toAppend: 0, alreadyPresent: 0, overAppendLimit: 0, corrupt: 0, bytesToAppend: 0 };
    let presence = new FolderPresence();
    if (exists) {
      try {
        const box = await client.mailboxOpen(exists.path, { readOnly: true });
        if (!box) throw mailkeepError('CONNECTION_LOST', 'the session closed before EXAMINE');
        const records = (opts.records ?? AppendRecords.none()).folder(exists.path, Number(box.uidValidity));
        presence = await FolderPresence.read(client, box, { candidates: g.list.map((c) => ({ c, source: blobSource(c.hash) })), records });
      } catch (err) {
        if (!client.usable || isConnectionCode(classifyImapError(err))) throw err;
        // A folder we cannot read we must not append to blindly: that could duplicate.
        for (const c of g.list) skipped.push({ folder: pf.destination, uid: c.uid, hash: c.hash, code: 'FOLDER_UNREADABLE', reason: describeImapError(err) });
        planFolders.push(pf);
        continue;
      }
    }
    const work: FolderWork = { source: g.source, destination: pf.destination, create: pf.create && (g.wanted || g.list.length > 0), toAppend: [], present: new Map() };
    for (const c of g.list) {
      if (await presence.take(client, c, blobPresence(blobs, c.hash))) {
        pf.alreadyPresent++;
        if (presence.lastTaken !== null) work.present.set(c, presence.lastTaken);
        continue;
      }
      if (appendLimit !== null && c.size > appendLimit) {
        pf.overAppendLimit++;
        skipped.push({ folder: pf.destination, uid: c.uid, hash: c.hash, code: 'APPENDLIMIT_EXCEEDED', reason: `${c.size} bytes is over the server's APPENDLIMIT of ${appendLimit}` });
        continue;
      }
      if (opts.dryRun && !blobs.check(c.hash)) {
        pf.corrupt++;
        skipped.push({ folder: pf.destination, uid: c.uid, hash: c.hash, code: 'ARCHIVE_CORRUPT', reason: `blob ${c.hash.slice(0, 16)}… does not match its SHA-256` });
        continue;
      }
      work.toAppend.push(c);
      pf.toAppend++;
      pf.bytesToAppend += c.size;
    }
    planFolders.push(pf);
    folders.push(work);
  }

  const sum = (k: 'toAppend' | 'alreadyPresent' | 'overAppendLimit' | 'corrupt' | 'bytesToAppend'): number => planFolders.reduce((n, f) => n + f[k], 0);
  const plan: RestorePlan = {
    folders: planFolders,
    foldersToCreate: folders.filter((f) => f.create && (f.toAppend.length > 0 || groups.get(pathKey(f.destination, delimiter))?.wanted)).map((f) => f.destination),
    toAppend: sum('toAppend'),
    alreadyPresent: sum('alreadyPresent'),
    overAppendLimit: sum('overAppendLimit'),
    corrupt: sum('corrupt'),
    bytesToAppend: sum('bytesToAppend'),
    appendLimit,
    quota: await readQuota(client),
  };
  const byPath = new Map<string, ListResponse>();
  for (const l of listed) byPath.set(pathKey(l.path, delimiter), l);
  return { plan, folders, skipped, delimiter, destinationOf: destOf, listed: byPath };
}
