import { formatDay } from '../../lib/format.ts';
import { RELAY_LIMITS } from '../../lib/limits.ts';

/**
 * The name an export is offered under (the download link's Content-Disposition and the name the
 * extension passes to downloads.download): the account's address and the day in the user's zone,
 * `alice@example.com-2026-12-01.mbox.zip`, which a person recognises in their downloads folder,
 * never an internal id. A second export of the same account on the same day is
 * `alice@example.com-2026-12-01 (2).mbox.zip`: nothing is ever offered under a name already given.
 */

/** Characters no file system or Chrome accepts in a name, and control characters. */
const UNSAFE = /[\\/:*?"<>|\u0000-\u001f\u007f]/g;
/** Names Windows reserves whatever the extension (CON.zip is still CON). */
const RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

/** The account's address, made safe as the start of a file name. */
export function safeStem(address: string): string {
  let s = address.normalize('NFC').replace(UNSAFE, '_').trim();
  // A leading dot hides the file (and Chrome refuses it); trailing dots and spaces vanish on Windows.
  s = s.replace(/^\.+/, '_').replace(/[. ]+$/, '');
  if (RESERVED.test(s)) s = `_${s}`;
  s = [...s].slice(0, RELAY_LIMITS.exportStemMaxChars).join('');
  return s || 'mailbox';
}

export interface ExportNameInput {
  /** The account's address (its email, else its login). */
  address: string;
  format: 'mbox' | 'eml-zip' | 'eml';
  /** When the export is made and the zone whose calendar day names it (the relay's clock). */
  at: number;
  timeZone: string;
  /** Names already given to other exports (the relay's live and remembered links). */
  taken?: Iterable<string>;
}

export function exportFileName(input: ExportNameInput): string {
  const stem = `${safeStem(input.address)}-${formatDay(input.at, input.timeZone)}`;
  const ext = input.format === 'mbox' ? '.mbox.zip' : input.format === 'eml' ? '.eml' : '.eml.zip';
  const taken = new Set([...(input.taken ?? [])].map((n) => n.toLowerCase()));
  let name = `${stem}${ext}`;
  // Compared without case: two names differing in case are one file on macOS and Windows.
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${stem} (${n})${ext}`;
  return name;
}
