import type { ImapFlow, ListResponse } from 'imapflow';
import { mailkeepError } from '../../../lib/protocol/error-codes.ts';
import { RELAY_LIMITS } from '../../../lib/limits.ts';
import { messageIdOf } from '../../archive/message-id.ts';
import { digestByDownload, normalizedDigest } from '../../imap/append-hash.ts';
import { listWithoutUtf8 } from '../../imap/create-folders.ts';
import { classifyImapError, describeImapError, isConnectionCode } from '../../imap/classify-error.ts';
import { listedDestinations, listedSource, MAPPED_SPECIAL_USES, mapFolders, pathKey, sessionNamespace } from '../folder-map.ts';
import { GmailCopies, gmailLabelOf, labelRank, listedUse, type LabelMode } from '../gmail-labels.ts';
import { onSide } from './migrate-side.ts';
import type { MigratePlan, MigratePlanFolder, MigrateSkipped } from './migrate-types.ts';
import { AppendRecords, imapSource, type DestinationIdentity } from '../append-records.ts';
import { FolderPresence } from '../restore-presence.ts';
import type { RestoreCandidate } from '../restore-select.ts';
import { uidSet } from '../uid-set.ts';
import { readQuota } from '../../imap/read-quota.ts';

/** One source message to copy, with what APPEND needs besides the bytes. */
export interface SourceMessage {
  uid: number;
  size: number;
  flags: string[];
  internalDate: Date | null;
  messageId: string | null;
  /** SHA-256 of the bytes, for a message without Message-ID (how it is found again if the UIDs move: source-rekey.ts). */
  hash?: string;
  /** A Gmail source's X-GM-MSGID (imapflow asks for it with every FETCH there). */
  gmMsgId?: string;
}

/** One source folder's work: what to copy, in UID order, into which destination folder. */
export interface MigrateFolderWork {
  source: string;
  destination: string;
  create: boolean;
  uidValidity: number;
  /** UIDNEXT at planning: with UIDVALIDITY, what says the planned UIDs still name the planned messages. */
  uidNext: number | null;
  toCopy: SourceMessage[];
}


/**
 * Reads both sides and decides, per source message, whether the destination already holds it
 * (restore-presence.ts and docs/same-message.md: the append record, else Message-ID and date, else
 * content), whether it is over the destination's APPENDLIMIT, or whether it is to be copied.
 * Writes nothing anywhere, so the dry run's counts are the real run's counts.
 *
 * Source folders that map to one destination folder share one presence count: a message held by
 * both is copied twice (the source has two copies) and found twice on the next run.
 */
export async function planMigrate(
  src: ImapFlow,
  dst: ImapFlow,
  opts: { signal?: AbortSignal; records?: AppendRecords; sourceIdentity?: DestinationIdentity; labels?: LabelMode },
): Promise<{ plan: MigratePlan; folders: MigrateFolderWork[]; skipped: MigrateSkipped[]; gmail: GmailCopies | null }> {
  const srcList = await onSide('source', src.list());
  const dstList = await onSide('destination', listWithoutUtf8(dst));
  const sns = sessionNamespace(src.namespace, srcList);
  const dns = sessionNamespace(dst.namespace, dstList);
  const srcDelimiter = sns.delimiter;
  const dstDelimiter = dns.delimiter;
  // Gmail (gmail-labels.ts): from a Gmail source each message is copied once, from the first folder
  // it is met in (All Mail first into Gmail, else its first label); its other folders are labels.
  const gmailDst = dst.capabilities.has('X-GM-EXT-1');
  const gmail = src.capabilities.has('X-GM-EXT-1') && (gmailDst || opts.labels === 'first-label') ? new GmailCopies() : null;
  const srcUse = new Map(srcList.map((l) => [l.path, listedUse(l)]));
  /** Distinct source messages (by X-GM-MSGID on Gmail), for the dry run's word on labels. */
  const distinct = new Set<string>();
  const dstByPath = new Map(dstList.map((l) => [pathKey(l.path, dns.delimiter), l]));
  const rank = (path: string): number => (gmail ? (gmailDst && srcUse.get(path) === '\\All' ? -1 : labelRank(path, srcUse.get(path) ?? null)) : 0);
  const mappings = mapFolders({ namespace: sns, folders: srcList.map(listedSource) }, { namespace: dns, folders: listedDestinations(dstList) }, gmailDst ? { specialUses: [...MAPPED_SPECIAL_USES, '\\All', '\\Flagged'] } : {}).sort((a, b) =>
    rank(a.source) - rank(b.source) || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0),
  );
  const cap = dst.capabilities.get('APPENDLIMIT');
  const appendLimit = typeof cap === 'number' && cap > 0 ? cap : null;

  const presence = new Map<string, FolderPresence | 'unreadable'>();
  const folders: MigrateFolderWork[] = [];
  const planFolders: MigratePlanFolder[] = [];
  const skipped: MigrateSkipped[] = [];
  for (const m of mappings) {
    opts.signal?.throwIfAborted();
    const key = pathKey(m.destination, dstDelimiter);
    const pf: MigratePlanFolder = { source: m.source, destination: m.destination, specialUse: m.specialUse, create: !m.exists, messages: 0, alreadyPresent: 0, toCopy: 0, overAppendLimit: 0, bytesToCopy: 0 };
    planFolders.push(pf);

    let read: { uidValidity: number; uidNext: number | null; messages: SourceMessage[] };
    try {
      read = await onSide('source', readSourceFolder(src, m.source));
    } catch (err) {
      if (!src.usable || isConnectionCode(classifyImapError(err))) throw err;
      skipped.push({ folder: m.source, uid: null, code: 'FOLDER_UNREADABLE', reason: `cannot read ${m.source} on the source: ${describeImapError(err)}` });
      continue;
    }
    pf.messages = read.messages.length;

    let p = presence.get(key);
    if (!p) {
      p = new FolderPresence();
      if (m.exists) {
        try {
          const box = await onSide('destination', dst.mailboxOpen(m.destination, { readOnly: true }));
          if (!box) throw mailkeepError('CONNECTION_LOST', 'the destination session closed before EXAMINE', { side: 'destination' });
          const records = (opts.records ?? AppendRecords.none()).folder(m.destination, Number(box.uidValidity));
          p = await onSide('destination', FolderPresence.read(dst, box, { records }));
        } catch (err) {
          if (!dst.usable || isConnectionCode(classifyImapError(err))) throw err;
          p = 'unreadable';
        }
      }
      presence.set(key, p);
    }
    if (p === 'unreadable') {
      // A folder we cannot read we must not append to blindly: that could duplicate.
      for (const msg of read.messages) skipped.push({ folder: m.source, uid: msg.uid, code: 'FOLDER_UNREADABLE', reason: `cannot read ${m.destination} on the destination` });
      continue;
    }
    // Messages without a Message-ID are recognised by content: digest the source bytes (few in practice).
    const hashes = new Map<number, string>();
    const noId = read.messages.filter((x) => !x.messageId);
    if (noId.length) {
      // presence.take compares against the destination folder's bodies: it must be the one selected.
      const sel = dst.mailbox;
      if (m.exists && (!sel || sel.path !== m.destination)) await onSide('destination', dst.mailboxOpen(m.destination, { readOnly: true }));
      const small = noId.filter((x) => x.size < RELAY_LIMITS.appendStreamThresholdBytes).map((x) => x.uid);
      await onSide('source', (async () => {
        if (small.length)
          for await (const f of src.fetch(uidSet(small), { uid: true, source: true }, { uid: true }))
            if (f.source) hashes.set(f.uid, normalizedDigest(f.source));
        // Large ones are digested in partial FETCHes, never held whole.
        for (const x of noId.filter((y) => y.size >= RELAY_LIMITS.appendStreamThresholdBytes)) {
          const h = await digestByDownload(src, x.uid, x.size);
          if (h) hashes.set(x.uid, h);
        }
      })());
    }

    const work: MigrateFolderWork = { source: m.source, destination: m.destination, create: !m.exists, uidValidity: read.uidValidity, uidNext: read.uidNext, toCopy: [] };
    // Into Gmail, a later copy of a message is this label on its one copy (none for All Mail, Spam, Trash).
    const label = gmail && gmailDst ? gmailLabelOf(m.destination, dstByPath.get(pathKey(m.destination, dstDelimiter)), srcUse.get(m.source) ?? null) : null;
    for (const msg of read.messages) {
      distinct.add(msg.gmMsgId ?? `${m.source}\0${msg.uid}`);
      if (gmail && msg.gmMsgId && !gmail.firstCopy(msg.gmMsgId, label)) continue;
      const candidate: RestoreCandidate = {
        folder: m.source, delimiter: srcDelimiter, uidvalidity: read.uidValidity, uid: msg.uid, hash: '',
        flags: msg.flags, keywords: [], internalDate: msg.internalDate, size: msg.size, messageId: msg.messageId,
      };
      const source = {
        key: imapSource(opts.sourceIdentity ?? { host: '', port: 0, user: '' }, m.source, read.uidValidity, msg.uid),
        // Any other message (one whose Message-ID matched but not its size) is read from the source when asked.
        digest: async () => hashes.get(msg.uid) ?? (await onSide('source', sourceDigest(src, msg))),
      };
      if (await onSide('destination', p.take(dst, candidate, source))) {
        pf.alreadyPresent++;
        if (gmail && msg.gmMsgId && p.lastTaken !== null) gmail.at.set(msg.gmMsgId, { folder: m.destination, uid: p.lastTaken });
        continue;
      }
      if (appendLimit !== null && msg.size > appendLimit) {
        pf.overAppendLimit++;
        skipped.push({ folder: m.source, uid: msg.uid, code: 'APPENDLIMIT_EXCEEDED', reason: `${msg.size} bytes is over the destination's APPENDLIMIT of ${appendLimit}` });
        continue;
      }
      const hash = hashes.get(msg.uid);
      work.toCopy.push(hash ? { ...msg, hash } : msg);
      pf.toCopy++;
      pf.bytesToCopy += msg.size;
    }
    folders.push(work);
  }

  const sum = (k: 'messages' | 'toCopy' | 'alreadyPresent' | 'overAppendLimit' | 'bytesToCopy'): number => planFolders.reduce((n, f) => n + f[k], 0);
  const plan: MigratePlan = {
    folders: planFolders,
    // Empty folders too (imapsync creates them); a folder whose source could not be read is not.
    foldersToCreate: [...new Set(folders.filter((f) => f.create).map((f) => f.destination))],
    messages: sum('messages'),
    alreadyPresent: sum('alreadyPresent'),
    toCopy: sum('toCopy'),
    overAppendLimit: sum('overAppendLimit'),
    bytesToCopy: sum('bytesToCopy'),
    appendLimit,
    // Asked last, after every folder was read: a refusal here changes nothing of the plan.
    quota: await onSide('destination', readQuota(dst)),
    sourceDelimiter: srcDelimiter,
    destinationDelimiter: dstDelimiter,
  };
  plan.labels = gmail
    ? { mode: gmailDst ? 'gmail' : 'first-label', messages: gmail.messages, memberships: gmail.memberships, labelsToAdd: gmail.labelCount }
    : { mode: 'folder-per-label', messages: distinct.size, memberships: plan.messages, labelsToAdd: 0 };
  return { plan, folders, skipped, gmail };
}

/** EXAMINE (read-only) and one metadata FETCH: UID, size, flags, INTERNALDATE, Message-ID. */
async function readSourceFolder(src: ImapFlow, path: string): Promise<{ uidValidity: number; uidNext: number | null; messages: SourceMessage[] }> {
  const box = await src.mailboxOpen(path, { readOnly: true });
  // imapflow resolves undefined once the session is gone: a lost connection, not an empty folder.
  if (!box) throw mailkeepError('CONNECTION_LOST', 'the source session closed before EXAMINE', { side: 'source' });
  const messages: SourceMessage[] = [];
  if (box.exists > 0)
    for await (const m of src.fetch('1:*', { uid: true, size: true, flags: true, internalDate: true, headers: ['message-id'] }, { uid: true }))
      messages.push({
        uid: m.uid,
        size: m.size ?? 0,
        flags: [...(m.flags ?? [])].filter((f) => f.toLowerCase() !== '\\recent'),
        internalDate: m.internalDate ? new Date(m.internalDate) : null,
        messageId: m.headers ? messageIdOf(m.headers) : null,
        ...(m.emailId && src.capabilities.has('X-GM-EXT-1') ? { gmMsgId: String(m.emailId) } : {}),
      });
  messages.sort((a, b) => a.uid - b.uid);
  return { uidValidity: Number(box.uidValidity), uidNext: box.uidNext ?? null, messages };
}

/** The normalized digest of one source message of the selected folder, or null when it is gone. */
async function sourceDigest(src: ImapFlow, m: SourceMessage): Promise<string | null> {
  if (m.size >= RELAY_LIMITS.appendStreamThresholdBytes) return await digestByDownload(src, m.uid, m.size);
  const f = await src.fetchOne(String(m.uid), { uid: true, source: true }, { uid: true });
  return f && f.source ? normalizedDigest(f.source) : null;
}
