/**
 * A loopback TCP proxy in front of an IMAP server that follows APPENDs on both directions, so a
 * test can prove they overlapped: how many were sent and not yet answered at most, whether their
 * literals were synchronizing, how many were unanswered when the server refused one or when the
 * proxy cut the connection. Literal bytes are skipped (never parsed as commands), LOGIN masked.
 */
import net from 'node:net';

export interface AppendOverlapProxy {
  port: number;
  /** APPEND commands seen, in order. */
  appends: { tag: string; nonSync: boolean }[];
  /** The most APPENDs sent and not yet answered at one time. */
  maxUnanswered: number;
  /** APPENDs unanswered when the first tagged NO to an APPEND came back (null: none came). */
  unansweredAtFirstNo: number | null;
  /** APPENDs unanswered when the proxy cut the connection (null: not cut). */
  unansweredAtCut: number | null;
  close(): Promise<void>;
}

/**
 * `cutAfterAppends`: cut the first connection (both sides) once the client has sent this many
 * APPEND commands (a session lost mid-window); later connections pass through.
 * `hideCompress`: COMPRESS=DEFLATE is taken out of the capabilities the server announces before
 * the client's first command past login (Cyrus offers it, and a compressed stream cannot be followed).
 */
export async function startAppendOverlapProxy(target: { host: string; port: number }, opts: { cutAfterAppends?: number; hideCompress?: boolean } = {}): Promise<AppendOverlapProxy> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const state: Omit<AppendOverlapProxy, 'port' | 'close'> = { appends: [], maxUnanswered: 0, unansweredAtFirstNo: null, unansweredAtCut: null };
  const server = net.createServer((client) => {
    const cutting = connections++ === 0 && opts.cutAfterAppends !== undefined;
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const unanswered = new Set<string>();
    let sentAppends = 0;
    let cut = false;
    let loggingIn = true;
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    // Client -> server: command lines, with the bytes of each literal skipped.
    let cbuf = Buffer.alloc(0);
    let literalLeft = 0;
    client.on('data', (d: Buffer) => {
      if (cut) return;
      cbuf = Buffer.concat([cbuf, d]);
      let forward = d.length;
      for (;;) {
        if (literalLeft > 0) {
          const n = Math.min(literalLeft, cbuf.length);
          cbuf = cbuf.subarray(n);
          literalLeft -= n;
          if (literalLeft > 0) break;
          continue;
        }
        const nl = cbuf.indexOf('\r\n');
        if (nl < 0) break;
        const line = cbuf.subarray(0, nl).toString('latin1');
        cbuf = cbuf.subarray(nl + 2);
        const lit = /\{(\d+)(\+?)\}$/.exec(line);
        if (lit) literalLeft = Number(lit[1]);
        const verb = /^\S+ (\S+)/.exec(line)?.[1]?.toUpperCase();
        if (verb && !['CAPABILITY', 'ID', 'LOGIN', 'AUTHENTICATE'].includes(verb)) loggingIn = false;
        const m = /^(\S+) APPEND /i.exec(line);
        if (m) {
          unanswered.add(m[1]!);
          state.appends.push({ tag: m[1]!, nonSync: lit?.[2] === '+' });
          state.maxUnanswered = Math.max(state.maxUnanswered, unanswered.size);
          if (cutting && ++sentAppends >= opts.cutAfterAppends!) {
            // Forward what came before this command's literal, then cut: the server sees some
            // whole APPENDs (kept, maybe unanswered) and one cut short (never kept).
            forward = d.length - cbuf.length;
            cut = true;
            state.unansweredAtCut = unanswered.size - 1;
            break;
          }
        }
      }
      upstream.write(d.subarray(0, Math.max(0, forward)));
      if (cut) setImmediate(end);
    });
    // Server -> client: tagged answers settle APPENDs.
    let sbuf = '';
    upstream.on('data', (data: Buffer) => {
      if (cut) return;
      const d = opts.hideCompress && loggingIn ? Buffer.from(data.toString('latin1').replace(/ COMPRESS=DEFLATE/gi, ''), 'latin1') : data;
      client.write(d);
      sbuf += d.toString('latin1');
      let nl;
      while ((nl = sbuf.indexOf('\r\n')) >= 0) {
        const line = sbuf.slice(0, nl);
        sbuf = sbuf.slice(nl + 2);
        const m = /^(\S+) (OK|NO|BAD)\b/i.exec(line);
        if (!m || !unanswered.has(m[1]!)) continue;
        unanswered.delete(m[1]!);
        if (m[2]!.toUpperCase() === 'NO' && state.unansweredAtFirstNo === null) state.unansweredAtFirstNo = unanswered.size;
      }
    });
    for (const s of [client, upstream]) s.on('error', () => undefined).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(state, {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}
