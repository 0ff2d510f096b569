import type { ImapFlow } from 'imapflow';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { messageIdOf } from '../archive/message-id.ts';
import { digestByDownload, normalizedDigest } from '../imap/append-hash.ts';
import type { SourceMessage } from './migrate/migrate-plan.ts';
import { uidSet } from './uid-set.ts';

/** What the user is told when a source does not keep its UIDs (with the code UIDVALIDITY_UNSTABLE). */
export const UIDS_UNSTABLE_MESSAGE = 'the source server changes UIDVALIDITY on every connection; incremental runs are not possible';

/**
 * The planned messages of the selected source folder under the UIDs the server gives them now.
 *
 * A UID names a message only while the folder's UIDVALIDITY stays and no UID at or above the
 * UIDNEXT seen at planning appears. Some servers break that between sessions or even between two
 * EXAMINEs of one session (GNU imap4d with maildir numbers the messages in `new/` afresh on every
 * open, and changes UIDVALIDITY now and then). So when the folder is not as planned, each planned
 * message is found again by content, never by UID: Message-ID + size + INTERNALDATE, and for a
 * message without Message-ID its normalized digest (relay/imap/append-hash.ts, computed at planning). Equal keys pair off
 * one to one, in UID order, so two copies in the source stay two.
 *
 * `renumbered` is true when some planned message now has another UID: the server does not keep
 * UIDs, which no new mail or expunge explains.
 */
export async function rekeyByContent(src: ImapFlow, planned: SourceMessage[]): Promise<{ found: SourceMessage[]; gone: SourceMessage[]; renumbered: boolean }> {
  const now: SourceMessage[] = [];
  for await (const m of src.fetch('1:*', { uid: true, size: true, internalDate: true, headers: ['message-id'] }, { uid: true }))
    now.push({ uid: m.uid, size: m.size ?? 0, flags: [], internalDate: m.internalDate ? new Date(m.internalDate) : null, messageId: m.headers ? messageIdOf(m.headers) : null });
  now.sort((a, b) => a.uid - b.uid);

  // Hashes only of current messages that could be a planned message without Message-ID (same size).
  const wantSizes = new Set(planned.filter((p) => !p.messageId).map((p) => p.size));
  const hashes = new Map<number, string>();
  const noId = now.filter((m) => !m.messageId && wantSizes.has(m.size));
  const small = noId.filter((m) => m.size < RELAY_LIMITS.appendStreamThresholdBytes).map((m) => m.uid);
  if (small.length)
    for await (const f of src.fetch(uidSet(small), { uid: true, source: true }, { uid: true }))
      if (f.source) hashes.set(f.uid, normalizedDigest(f.source));
  for (const m of noId.filter((x) => x.size >= RELAY_LIMITS.appendStreamThresholdBytes)) {
    const h = await digestByDownload(src, m.uid, m.size);
    if (h) hashes.set(m.uid, h);
  }

  const keyOf = (m: SourceMessage, hash: string | undefined): string | null =>
    m.messageId ? `id\0${m.messageId}\0${m.size}\0${m.internalDate?.getTime() ?? ''}` : hash ? `sha\0${hash}` : null;
  const byKey = new Map<string, number[]>();
  for (const m of now) {
    const k = keyOf(m, hashes.get(m.uid));
    if (k !== null) byKey.set(k, [...(byKey.get(k) ?? []), m.uid]);
  }
  const found: SourceMessage[] = [];
  const gone: SourceMessage[] = [];
  let renumbered = false;
  for (const p of [...planned].sort((a, b) => a.uid - b.uid)) {
    const k = keyOf(p, p.hash);
    const uid = k === null ? undefined : byKey.get(k)?.shift();
    if (uid === undefined) {
      gone.push(p);
      continue;
    }
    if (uid !== p.uid) renumbered = true;
    found.push({ ...p, uid });
  }
  found.sort((a, b) => a.uid - b.uid);
  return { found, gone, renumbered };
}
