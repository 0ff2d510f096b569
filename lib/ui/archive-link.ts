/**
 * The Archive page's own address: which account, folder, message, query and backup run it shows,
 * in the URL's hash, so Copy link gives a URL that opens this message later (and Back works).
 * Only ids and names travel: the page asks the relay for the message itself.
 */
export interface ArchiveView {
  account?: string;
  folder?: string;
  message?: string;
  query?: string;
  atRun?: number;
}

export const ARCHIVE_PAGE_PATH = '/archive.html';

export function archiveHash(view: ArchiveView): string {
  const p = new URLSearchParams();
  if (view.account) p.set('account', view.account);
  if (view.folder) p.set('folder', view.folder);
  if (view.message) p.set('message', view.message);
  if (view.query) p.set('q', view.query);
  if (view.atRun !== undefined) p.set('run', String(view.atRun));
  const s = p.toString();
  return s ? `#${s}` : '';
}

/** A hash as archiveHash wrote it; anything unreadable is left out, never guessed. */
export function parseArchiveHash(hash: string): ArchiveView {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const view: ArchiveView = {};
  const account = p.get('account');
  if (account && /^[A-Za-z0-9_-]{1,64}$/.test(account)) view.account = account;
  const folder = p.get('folder');
  if (folder) view.folder = folder.slice(0, 1024);
  const message = p.get('message');
  if (message && /^[A-Za-z0-9_.:-]{1,128}$/.test(message)) view.message = message;
  const q = p.get('q');
  if (q) view.query = q.slice(0, 1000);
  const run = Number(p.get('run'));
  if (p.has('run') && Number.isSafeInteger(run) && run > 0) view.atRun = run;
  return view;
}

/** "Ann Example" of `"Ann Example" <ann@example.org>`, the address when there is no name: what a list row has room for. */
export function senderName(from: string): string {
  const m = /^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$/.exec(from);
  if (!m) return from.trim();
  return m[1]!.trim() || m[2]!.trim();
}
