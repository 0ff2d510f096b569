import fs from 'node:fs';
import type { ImapAccount, Security } from '../imap/session.ts';
import { required, UsageError } from './args.ts';

type Options = Record<string, string | boolean | undefined>;

export function positiveInt(v: string | boolean | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

/** The option names of one IMAP account; migrate spells them --from-X / --to-X. */
export const ACCOUNT_OPTIONS = ['host', 'port', 'security', 'user', 'password-env', 'ca'] as const;

/**
 * --host, --port, --security, --user, --password-env and --ca (each `--PREFIX-NAME` when a prefix
 * is given) -> an account. The password comes only from the named environment variable, so it
 * never appears in argv or in `ps`.
 */
export function parseAccountOptions(o: Options, env: NodeJS.ProcessEnv, prefix?: string): ImapAccount {
  const opt = (n: string): string => (prefix ? `${prefix}-${n}` : n);
  const security = required(o, opt('security'));
  if (security !== 'tls' && security !== 'starttls' && security !== 'none') throw new UsageError(`--${opt('security')} must be tls, starttls or none`);
  const port = positiveInt(required(o, opt('port')), opt('port'))!;
  if (port > 65535) throw new UsageError(`--${opt('port')} must be at most 65535`);
  const envName = required(o, opt('password-env'));
  const password = env[envName];
  if (password === undefined || password === '') throw new UsageError(`environment variable ${envName} is not set`);
  let ca: string | undefined;
  const caFile = o[opt('ca')];
  if (typeof caFile === 'string') {
    try {
      ca = fs.readFileSync(caFile, 'utf8');
    } catch {
      throw new UsageError(`cannot read --${opt('ca')} file ${caFile}`);
    }
  }
  return { host: required(o, opt('host')), port, security: security as Security, user: required(o, opt('user')), password, ...(ca ? { ca } : {}) };
}

/**
 * --timeout-ms, --max-attempts and --retry-delay-ms, the same for every job command: one
 * --timeout-ms bounds connecting, the greeting and socket inactivity alike.
 */
export function parseRunTuning(o: Options): {
  timeouts?: { socketMs: number; greetingMs: number; connectMs: number };
  retry: { maxAttempts: number | undefined; baseDelayMs: number | undefined };
} {
  const socketMs = positiveInt(o['timeout-ms'], 'timeout-ms');
  return {
    ...(socketMs ? { timeouts: { socketMs, greetingMs: socketMs, connectMs: socketMs } } : {}),
    retry: { maxAttempts: positiveInt(o['max-attempts'], 'max-attempts'), baseDelayMs: positiveInt(o['retry-delay-ms'], 'retry-delay-ms') },
  };
}
