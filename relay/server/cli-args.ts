import os from 'node:os';
import path from 'node:path';
import { errorCodeOf, mailkeepError } from '../../lib/protocol/error-codes.ts';
import { EXIT } from './exit-codes.ts';

import { DEFAULT_RELAY_PORT } from '../../lib/protocol/http.ts';

export { DEFAULT_RELAY_PORT };

/** `--data-dir`, else $MAILKEEP_DATA_DIR, else ~/.mailkeep. */
export function defaultDataDir(): string {
  return process.env.MAILKEEP_DATA_DIR || path.join(os.homedir(), '.mailkeep');
}

/** Tiny `--name value` / `--name=value` parser: the relay's two commands need nothing more. */
export function parseFlags(argv: readonly string[], allowed: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !allowed.includes(m[1]!)) throw mailkeepError('INVALID_INPUT', `unknown argument ${arg}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw mailkeepError('INVALID_INPUT', `--${m[1]} needs a value`);
    flags.set(m[1]!, value);
  }
  return flags;
}

export function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_RELAY_PORT;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw mailkeepError('INVALID_INPUT', `bad port ${text}`);
  return port;
}

/**
 * The CLI's error contract (docs/cli.md) for the relay's own commands: one line `error CODE: message`,
 * exit 2 for bad usage, 1 for anything else that stops the command.
 */
export function reportCommandError(command: string, err: unknown): number {
  const code = errorCodeOf(err) === 'UNKNOWN' && (err as NodeJS.ErrnoException)?.code === 'EADDRINUSE' ? 'CONNECTION_REFUSED' : errorCodeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`mailkeep ${command}: error ${code}: ${message}\n`);
  return code === 'INVALID_INPUT' ? EXIT.usage : EXIT.error;
}
