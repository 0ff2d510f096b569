import { pipeline } from 'node:stream/promises';
import { errorCodeOf } from '../../lib/protocol/error-codes.ts';
import { readRaw, showMessage } from '../search/show.ts';
import { localTimeZone } from '../search/zone-date.ts';
import { EXIT } from '../server/exit-codes.ts';
import { UsageError } from './args.ts';
import { archiveDirOption } from './archive-dir-option.ts';
import { errorLine } from './error-line.ts';
import { formatBytes } from '../../lib/format.ts';
import type { Io } from './io.ts';
import { localDate, splitArgs } from './search-command.ts';

export const SHOW_HELP = `Usage: mailkeep show [--account NAME | --archive DIR] ID [--raw] [--json] [--data-dir DIR]

Shows one archived message: its main headers, folder and flags, the text of its body (the text of
the HTML part when it has no plain text) and its attachments with their sizes. ID is the last
column of "mailkeep search". The message is checked against its SHA-256 first (ARCHIVE_CORRUPT
when it does not match). Needs only the archive, not the search index.

  --account, --archive, --data-dir   which archive, as for mailkeep search
  --raw    write the message exactly as archived (RFC 822 bytes) to standard output, e.g. to save
           it as a .eml file: mailkeep show --archive DIR ID --raw > message.eml
  --json   one JSON object: headers (all, decoded), text, html, attachments, size, flags

Exit codes: 0 shown, 1 no such message or the archive cannot be read, 2 bad usage`;

const MAIN_HEADERS = ['from', 'to', 'cc', 'date', 'subject'];

export async function showCommand(argv: string[], io: Io): Promise<number> {
  const { opts: o, words } = splitArgs(argv, { archive: 'string', account: 'string', 'data-dir': 'string', raw: 'boolean', json: 'boolean' });
  if (words.length !== 1) throw new UsageError('give exactly one message id (the last column of mailkeep search)');
  const id = words[0]!;
  if (o.raw && o.json) throw new UsageError('--raw and --json exclude each other');
  let dir = '';
  try {
    dir = archiveDirOption(o, io.env);
    if (o.raw) {
      const raw = readRaw(dir, id);
      await pipeline(raw.stream, io.out, { end: false });
      return EXIT.ok;
    }
    const m = await showMessage(dir, id);
    if (o.json) {
      io.out.write(`${JSON.stringify({ kind: 'show', ...m })}\n`);
      return EXIT.ok;
    }
    const lines: string[] = [];
    for (const name of MAIN_HEADERS) for (const h of m.headers.filter((x) => x.name.toLowerCase() === name)) lines.push(`${h.name}: ${h.value}`);
    lines.push(`Folder: ${m.folder}${m.goneOnServer ? ' (deleted on server)' : ''}   Flags: ${m.flags.join(' ') || '-'}   Size: ${formatBytes(m.size)}   Date (local): ${localDate(m.date, localTimeZone())}`);
    if (m.parseError) lines.push(`Note: the MIME structure could not be read (${m.parseError}); shown as far as it could`);
    lines.push('', m.text.replace(/\s+$/, ''));
    if (m.truncated) lines.push('', `[cut: the message is longer; mailkeep show --archive ${dir} ${id} --raw has all of it]`);
    if (m.html !== undefined && !m.text) lines.push('', '[HTML only: shown as text]');
    if (m.attachments.length) {
      lines.push('', 'Attachments:');
      for (const a of m.attachments) lines.push(`  ${a.filename || '(no name)'}  ${a.contentType}  ${formatBytes(a.size)}`);
    }
    io.out.write(`${lines.join('\n')}\n`);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = errorCodeOf(err);
    io.err.write(errorLine(code, err instanceof Error ? err.message : String(err)));
    return code === 'INVALID_INPUT' ? EXIT.usage : EXIT.error;
  }
}
