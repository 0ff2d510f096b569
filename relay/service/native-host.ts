import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { EXTENSION_ORIGIN, FIREFOX_EXTENSION_ID } from '../../lib/extension-identity.ts';
import { DOOR_LIMITS } from '../../lib/limits.ts';
import { errorCodeOf } from '../../lib/protocol/error-codes.ts';
import { DEFAULT_RELAY_PORT } from '../../lib/protocol/http.ts';
import {
  NATIVE_HOST_PROTOCOL_VERSION,
  NativeHostRequest,
  type NativeConnectRequest,
  type NativeHostReply,
} from '../../lib/protocol/native-host.ts';
import { createPairingCode } from '../server/pairing.ts';
import { readInstallRecord } from './install-record.ts';
import { RELAY_LOG_FILE, RotatingLog } from './log-file.ts';
import { encodeNativeMessage, readNativeMessages } from './native-messaging.ts';
import { ensureRelay, type EnsureRelayOptions } from './relay-launch.ts';

/** Who the browser says is calling: Chromium passes the origin, Firefox the manifest path and add-on ID. */
export type NativeCaller = { browser: 'chromium'; origin: string } | { browser: 'firefox'; extensionId: string } | { browser: 'unknown' };

/**
 * The caller from the host's arguments. Chromium: `chrome-extension://<id>/` (on Windows followed
 * by `--parent-window=<n>`); Firefox: `<path to the host manifest> <add-on id>`.
 */
export function callerOf(args: readonly string[]): NativeCaller {
  const origin = args.find((a) => /^chrome-extension:\/\//.test(a));
  if (origin) return { browser: 'chromium', origin };
  if (args.length >= 2 && args[0]!.endsWith('.json')) return { browser: 'firefox', extensionId: args[1]! };
  return { browser: 'unknown' };
}

/** Only the pinned extension: by its exact origin (with or without Chromium's trailing slash) or Firefox add-on ID. */
export function isPinnedCaller(caller: NativeCaller): boolean {
  if (caller.browser === 'chromium') return caller.origin === `${EXTENSION_ORIGIN}/` || caller.origin === EXTENSION_ORIGIN;
  if (caller.browser === 'firefox') return caller.extensionId === FIREFOX_EXTENSION_ID;
  return false;
}

function describeCaller(caller: NativeCaller): string {
  if (caller.browser === 'chromium') return caller.origin.slice(0, 100);
  if (caller.browser === 'firefox') return `firefox add-on ${caller.extensionId.slice(0, 100)}`;
  return 'an unknown caller';
}

export interface NativeHostOptions {
  dataDir: string;
  /** The browser's arguments to the host (after ours). */
  callerArgs: readonly string[];
  input: Readable;
  output: Writable;
  /** Port for a relay it starts; default: the install record's, else DEFAULT_RELAY_PORT. */
  port?: number;
  /** Overrides for tests; production reads the install record and uses this CLI. */
  ensure?: Partial<EnsureRelayOptions>;
  now?: () => number;
}

/**
 * `mailkeep native-host`: answers each `connect` from the browser until stdin ends, then returns 0.
 * It writes nothing to stdout but framed replies (anything else would corrupt the channel).
 * A message it cannot frame (too large, trickled) ends it with 1 after an INVALID_INPUT reply.
 */
export async function runNativeHost(opts: NativeHostOptions): Promise<number> {
  const caller = callerOf(opts.callerArgs);
  const log = new RotatingLog(path.join(opts.dataDir, RELAY_LOG_FILE));
  // The browser gone (EPIPE on stdout): nobody is left to answer, so stop reading too.
  let gone = false;
  const onOutputError = (): void => {
    gone = true;
    opts.input.destroy();
  };
  opts.output.on('error', onOutputError);
  const send = (reply: NativeHostReply): Promise<void> =>
    new Promise((resolve) => {
      if (gone) return resolve();
      opts.output.write(encodeNativeMessage(reply), () => resolve());
    });
  try {
    for await (const read of readNativeMessages(opts.input)) {
      if (read.kind === 'unreadable') {
        await send({ type: 'error', id: null, code: 'INVALID_INPUT', message: 'the message is not JSON' });
        continue;
      }
      const parsed = NativeHostRequest.safeParse(read.value);
      const id = typeof (read.value as { id?: unknown })?.id === 'string' ? String((read.value as { id: string }).id).slice(0, 64) || null : null;
      if (!parsed.success) {
        await send({ type: 'error', id, code: 'INVALID_INPUT', message: 'expected {"type":"connect"}' });
        continue;
      }
      await send(await answerConnect(parsed.data, caller, opts, log));
    }
    return 0;
  } catch (err) {
    if (gone) return 0;
    await send({ type: 'error', id: null, code: errorCodeOf(err), message: (err as Error).message.slice(0, 300) }).catch(() => undefined);
    return 1;
  } finally {
    opts.output.off('error', onOutputError);
    log.close();
  }
}

async function answerConnect(req: NativeConnectRequest, caller: NativeCaller, opts: NativeHostOptions, log: RotatingLog): Promise<NativeHostReply> {
  const id = req.id ?? null;
  if (!isPinnedCaller(caller)) {
    log.write(`[native-host] refused ${describeCaller(caller)}: not the pinned extension`);
    return { type: 'error', id, code: 'NATIVE_CALLER_REFUSED', message: `this host serves only ${EXTENSION_ORIGIN}/` };
  }
  try {
    const record = readInstallRecord(opts.dataDir);
    const { port, startedBy } = await ensureRelay({
      dataDir: opts.dataDir,
      port: opts.port ?? record?.port ?? DEFAULT_RELAY_PORT,
      ...(record ? { serviceStart: record.service.start } : {}),
      ...opts.ensure,
    });
    log.write(`[native-host] connect from ${describeCaller(caller)}: relay on port ${port} (${startedBy})`);
    const reply: NativeHostReply = { type: 'connected', id, version: NATIVE_HOST_PROTOCOL_VERSION, url: `http://127.0.0.1:${port}`, port, startedBy };
    if (req.pair !== false) {
      const now = (opts.now ?? Date.now)();
      // The relay reads this file on every POST /pair; the code is good once, for a few minutes.
      reply.pairing = { code: createPairingCode(opts.dataDir, now), expiresAt: now + DOOR_LIMITS.pairingCodeTtlMs };
    }
    return reply;
  } catch (err) {
    const message = (err as Error).message.slice(0, 500);
    log.write(`[native-host] connect from ${describeCaller(caller)} failed: ${errorCodeOf(err)}: ${message}`);
    return { type: 'error', id, code: errorCodeOf(err) === 'UNKNOWN' ? 'RELAY_START_FAILED' : errorCodeOf(err), message };
  }
}
