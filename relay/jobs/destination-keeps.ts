import type { ImapFlow } from 'imapflow';

/** What an APPEND gave the destination, to be read back. */
export interface SentMessage {
  messageId: string;
  flags: string[];
  internalDate: Date | null;
}

/**
 * Reads back one message just appended to the selected destination folder (found by its
 * Message-ID) and says what the server did not keep, or null. Some servers take an APPEND and drop
 * its flags and keywords and set their own INTERNALDATE (GNU imap4d 3.15 with maildir): a migrate
 * or restore into them would look complete while losing every flag and date, and a rerun could not
 * recognise what it copied. Flags are compared only where the folder's PERMANENTFLAGS promise to
 * keep them (keywords only with `\*`); a message the server does not find by SEARCH is no verdict.
 */
export async function destinationLost(dst: ImapFlow, sent: SentMessage): Promise<string | null> {
  const find = async (): Promise<number[]> => (await dst.search({ header: { 'message-id': sent.messageId } }, { uid: true })) || [];
  let uids = await find();
  // imap4d shows a selected folder's new messages only to a new SELECT (not to NOOP or SEARCH).
  if (!uids.length && dst.mailbox) {
    await dst.mailboxOpen(dst.mailbox.path);
    uids = await find();
  }
  if (!uids.length) return null;
  const permanent = dst.mailbox ? dst.mailbox.permanentFlags : undefined;
  const promised = (f: string): boolean => !permanent || permanent.has(f) || (!f.startsWith('\\') && permanent.has('\\*'));
  const want = sent.flags.filter((f) => f.toLowerCase() !== '\\recent' && promised(f));
  const second = (d: Date | null | undefined): number | null => (d ? Math.floor(d.getTime() / 1000) : null);
  let seen = '';
  for await (const m of dst.fetch(uids.join(','), { uid: true, flags: true, internalDate: true }, { uid: true })) {
    const got = new Set([...(m.flags ?? [])].map((f) => f.toLowerCase()));
    const date = m.internalDate ? new Date(m.internalDate) : null;
    const flagsKept = want.every((f) => got.has(f.toLowerCase()));
    const dateKept = sent.internalDate === null || second(date) === second(sent.internalDate);
    if (flagsKept && dateKept) return null;
    seen = `flags (${want.join(' ')}) became (${[...(m.flags ?? [])].filter((f) => f.toLowerCase() !== '\\recent').join(' ')})${dateKept ? '' : `, INTERNALDATE ${sent.internalDate!.toISOString()} became ${date?.toISOString() ?? 'none'}`}`;
  }
  return seen ? `the destination server does not keep the flags and dates of the messages it is given (${seen}); nothing more was copied` : null;
}
