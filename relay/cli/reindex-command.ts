import { errorCodeOf } from '../../lib/protocol/error-codes.ts';
import { rebuildSearchIndex } from '../search/index-update.ts';
import { searchFile } from '../search/search-db.ts';
import { EXIT } from '../server/exit-codes.ts';
import { parseOptions, required } from './args.ts';
import { errorLine } from './error-line.ts';
import type { Io } from './io.ts';

export const REINDEX_HELP = `Usage: mailkeep reindex --archive DIR [--json]

Rebuilds the archive's search index (search.sqlite beside the archive, or in your cache folder for
an archive on a read-only disk) from the archive itself. The search index is a cache: it holds
nothing the archive does not, and the archive is only read. Safe beside a running backup and a
running relay (searches see the index fill up again). Stopped with Ctrl-C, the next search or
reindex goes on where it stopped.

  --archive DIR   archive directory
  --json          print the result as one JSON object

Exit codes: 0 rebuilt, 1 the archive cannot be read or the rebuild was stopped, 2 bad usage`;

export async function reindexCommand(argv: string[], io: Io): Promise<number> {
  const o = parseOptions(argv, { archive: 'string', json: 'boolean' });
  const dir = required(o, 'archive');
  const tty = !o.json && !!io.err.isTTY;
  try {
    const r = await rebuildSearchIndex(dir, {
      signal: io.signal,
      onProgress: (p) => {
        if (tty && p.total > 0) io.err.write(`\rindexing ${p.indexed} of ${p.total} message(s)`);
      },
    });
    if (tty) io.err.write('\n');
    if (o.json) io.out.write(`${JSON.stringify({ kind: 'reindex', file: searchFile(dir), ...r })}\n`);
    else
      io.out.write(
        `${r.complete ? 'Reindexed' : 'Stopped'}: ${r.indexed} message(s) (${r.memberships} folder membership(s)) in ${(r.durationMs / 1000).toFixed(1)} s${r.unparsed ? `; ${r.unparsed} could not be parsed as MIME and are indexed by their headers` : ''}\n`,
      );
    return r.complete ? EXIT.ok : EXIT.error;
  } catch (err) {
    io.err.write(errorLine(errorCodeOf(err), err instanceof Error ? err.message : String(err)));
    if (o.json) io.out.write(`${JSON.stringify({ kind: 'reindex', errorCode: errorCodeOf(err) })}\n`);
    return EXIT.error;
  }
}
