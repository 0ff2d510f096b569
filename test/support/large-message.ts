/** For the very-large-message tests: a CLI run's peak RSS, and a message of many megabytes. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { startCli, type CliResult } from './run-cli.ts';

/** Runs the CLI; its peak RSS (VmHWM, in MB) sampled from /proc until it exits, and its result. */
export async function cliPeakRssMb(args: string[], env: Record<string, string> = {}): Promise<CliResult & { peak: number }> {
  const { child, done } = startCli(args, env);
  let peak = 0;
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      /* exited between checks */
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const r = await done;
  return { ...r, peak };
}

/** `head`, then about `mb` MB of base64 lines (76 characters and CRLF; random, cheaply varied), then `tail`. */
export function bigMessage(head: string, mb: number, tail = ''): Buffer {
  const parts: Buffer[] = [Buffer.from(head)];
  const chunk = crypto.randomBytes(57 * 1024);
  for (let n = 0; n < (mb * 1024 * 1024) / (76 * 1024); n++) {
    chunk[n % chunk.length] = n & 0xff; // vary content a little, cheaply
    parts.push(Buffer.from(chunk.toString('base64').replace(/.{76}/g, '$&\r\n')));
  }
  if (tail) parts.push(Buffer.from(tail));
  return Buffer.concat(parts);
}
