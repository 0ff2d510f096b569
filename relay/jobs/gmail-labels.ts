/**
 * Gmail labels on the way back (restore and migrate). Gmail shows one message in every folder that
 * is one of its labels; the archive holds it as one membership per folder, grouped by X-GM-MSGID
 * (or, from a server without Gmail's ids, by content). So:
 *
 * - into Gmail (X-GM-EXT-1), each message is appended once, into All Mail (or, when no copy of it
 *   in All Mail is restored, into its first label), and its other labels are added with
 *   `UID STORE +X-GM-LABELS`: never one copy per label;
 * - into any other server, labels become folders: one folder per label (every membership, as
 *   before Gmail mode: `folder-per-label`, the default) or the first label only (`first-label`).
 *
 * "First label": INBOX, then user labels by name, then Sent, Drafts, Important, Starred, then
 * Archive, then All Mail (a message with no label at all); Spam and Trash are folders of their own.
 */
import type { ImapFlow, ListResponse } from 'imapflow';
import type { LabelMode } from '../../lib/protocol/restore-params.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { uidSet } from './uid-set.ts';

export type { LabelMode };

export interface LabelledCandidate {
  folder: string;
  hash: string;
  gmMsgId?: string | null;
}

/** The copies of one message: `primary` is appended, `others` are its other labels (Gmail) or dropped (first-label). */
export interface MessageGroup<C> {
  key: string;
  primary: C;
  others: C[];
}

const SYSTEM_RANK: Record<string, number> = { '\\Sent': 2, '\\Drafts': 2, '\\Important': 2, '\\Flagged': 2, '\\Archive': 3, '\\All': 4, '\\Junk': 5, '\\Trash': 6 };

/** The order in which a message's folders count as its labels (first = "first label"). */
export function labelRank(folder: string, specialUse: string | null): number {
  if (folder.toUpperCase() === 'INBOX') return 0;
  return specialUse ? (SYSTEM_RANK[specialUse] ?? 2) : 1;
}

/** Folders that are no label in Gmail: a message is put there, never labelled with them. */
const NOT_A_LABEL = new Set(['\\All', '\\Junk', '\\Trash']);

/**
 * Groups memberships by message: X-GM-MSGID where the archive has one, else the blob. The
 * primary is the copy in All Mail when `preferAllMail` (Gmail destination) and there is one, else
 * the first label. `others` are the remaining copies that are labels (not All Mail, Spam, Trash),
 * one per folder.
 */
export function groupByMessage<C extends LabelledCandidate>(candidates: C[], specialUseOf: (folder: string) => string | null, opts: { preferAllMail: boolean }): MessageGroup<C>[] {
  const byKey = new Map<string, C[]>();
  for (const c of candidates) {
    const key = c.gmMsgId ? `gm:${c.gmMsgId}` : `blob:${c.hash}`;
    const list = byKey.get(key);
    if (list) list.push(c);
    else byKey.set(key, [c]);
  }
  const out: MessageGroup<C>[] = [];
  for (const [key, list] of byKey) {
    const sorted = [...list].sort((a, b) => labelRank(a.folder, specialUseOf(a.folder)) - labelRank(b.folder, specialUseOf(b.folder)) || (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0));
    const all = opts.preferAllMail ? sorted.find((c) => specialUseOf(c.folder) === '\\All') : undefined;
    const primary = all ?? sorted[0]!;
    const seen = new Set([primary.folder]);
    const others: C[] = [];
    for (const c of sorted) {
      const use = specialUseOf(c.folder);
      if (seen.has(c.folder) || (use !== null && NOT_A_LABEL.has(use))) continue;
      seen.add(c.folder);
      others.push(c);
    }
    out.push({ key, primary, others });
  }
  return out;
}

/**
 * The Gmail label a destination folder stands for, or null for a folder that is no label (All
 * Mail, Spam, Trash). System labels by the folder's special-use flag, never by its localized name.
 */
export function gmailLabelOf(path: string, listed: ListResponse | undefined, sourceUse: string | null = null): string | null {
  if (path.toUpperCase() === 'INBOX') return '\\Inbox';
  // A folder the destination does not list (yet) is known by the archived folder's special use: a
  // system label then, never a user label named like a localized system folder.
  const flags = listed ? new Set([...listed.flags, ...(listed.specialUse ? [listed.specialUse] : [])]) : new Set<string>(sourceUse ? [sourceUse] : []);
  if (flags.has('\\All') || flags.has('\\Junk') || flags.has('\\Trash')) return null;
  if (flags.has('\\Sent')) return '\\Sent';
  if (flags.has('\\Drafts')) return '\\Draft';
  if (flags.has('\\Flagged')) return '\\Starred';
  if (flags.has('\\Important')) return '\\Important';
  // A user label is its folder's name (imapflow sends it as Gmail wants: quoted, modified UTF-7).
  return path;
}

export interface LabelResult {
  /** Labels added (one per message and label). */
  added: number;
  /** Labels the message already had (a rerun): nothing sent for them. */
  present: number;
  failed: { uid: number; label: string; reason: string }[];
}

/**
 * Adds `labels` to messages of `folder` (selected read-write here) by UID: first reads their
 * X-GM-LABELS, then one `UID STORE +X-GM-LABELS` per label for the messages that lack it. A rerun
 * therefore sends nothing for labels already there.
 */
export async function addGmailLabels(client: ImapFlow, folder: string, items: { uid: number; labels: string[] }[], chunk: number): Promise<LabelResult> {
  const result: LabelResult = { added: 0, present: 0, failed: [] };
  const wanted = items.filter((i) => i.labels.length > 0);
  if (!wanted.length) return result;
  await client.mailboxOpen(folder);
  const have = new Map<number, Set<string>>();
  const uids = [...new Set(wanted.map((i) => i.uid))].sort((a, b) => a - b);
  for (let i = 0; i < uids.length; i += chunk)
    for await (const m of client.fetch(uidSet(uids.slice(i, i + chunk)), { uid: true, labels: true }, { uid: true }))
      have.set(m.uid, new Set([...(m.labels ?? [])].map(norm)));
  // INBOX's own label is implied by being in it (Gmail leaves a folder's label out of X-GM-LABELS).
  const own = folder.toUpperCase() === 'INBOX' ? norm('\\Inbox') : null;
  const byLabel = new Map<string, number[]>();
  for (const it of wanted)
    for (const label of new Set(it.labels)) {
      if (have.get(it.uid)?.has(norm(label)) || own === norm(label)) {
        result.present++;
        continue;
      }
      const list = byLabel.get(label);
      if (list) list.push(it.uid);
      else byLabel.set(label, [it.uid]);
    }
  for (const [label, list] of byLabel)
    for (let i = 0; i < list.length; i += chunk) {
      const part = list.slice(i, i + chunk);
      const ok = await client.messageFlagsAdd(uidSet(part), [label], { uid: true, useLabels: true });
      if (ok) result.added += part.length;
      else if (!client.usable) throw mailkeepError('CONNECTION_LOST', `the session closed while adding the label ${label}`);
      else for (const uid of part) result.failed.push({ uid, label, reason: `STORE +X-GM-LABELS (${label}) was refused` });
    }
  return result;
}

/** Gmail compares system labels case-insensitively ("\\Inbox", "\\INBOX"); user labels by name. */
function norm(label: string): string {
  return label.startsWith('\\') ? label.toLowerCase() : label;
}

/**
 * Migrate from Gmail (folders read one after another, All Mail first): the first folder a message
 * is met in is where it is copied; every later folder holding the same X-GM-MSGID is one more label
 * for it (into Gmail) or is left out (first label only, into another server).
 */
export class GmailCopies {
  /** X-GM-MSGID -> the Gmail labels of its later copies. */
  readonly labels = new Map<string, Set<string>>();
  /** X-GM-MSGID -> where its one copy is on the destination (found present, or appended). */
  readonly at = new Map<string, { folder: string; uid: number }>();
  private readonly first = new Set<string>();
  memberships = 0;

  /** True when this copy is the message's first (to be copied); else it is recorded as a label of it. */
  firstCopy(gmMsgId: string, label: string | null): boolean {
    this.memberships++;
    if (!this.first.has(gmMsgId)) {
      this.first.add(gmMsgId);
      return true;
    }
    if (label !== null) {
      const set = this.labels.get(gmMsgId) ?? new Set<string>();
      set.add(label);
      this.labels.set(gmMsgId, set);
    }
    return false;
  }

  /** Labels to add over all messages. */
  get labelCount(): number {
    let n = 0;
    for (const set of this.labels.values()) n += set.size;
    return n;
  }

  get messages(): number {
    return this.first.size;
  }
}

/** Special use of a listed folder, including Gmail's \Important (a flag imapflow does not name). */
export function listedUse(l: ListResponse): string | null {
  return l.specialUse || (l.flags.has('\\Important') ? '\\Important' : null);
}

