import { Schedule } from '../../lib/protocol/account-state.ts';
import { ImapAccount } from '../../lib/protocol/common.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { describeSchedule, parseScheduleWords } from '../state/schedule-slots.ts';
import { parseOptions, required, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { PASSWORD_ENV, readPassword } from './password-prompt.ts';
import { findAccount, withStateApi } from './state-api.ts';
import { signInCommand } from './oauth-sign-in.ts';
import { z } from '../../lib/zod.ts';
import { readCaFile } from './ca-file.ts';
import { dataDirOf, splitPositionals, stateCommand } from './state-command-io.ts';

const DEFAULT_PORTS = { tls: 993, starttls: 143, none: 143 } as const;

export async function accountCommand(argv: string[], io: Io): Promise<number> {
  const { words, options } = splitPositionals(argv);
  const [sub, ref, ...extra] = words;
  if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`);
  switch (sub) {
    case 'add':
      if (ref !== undefined) throw new UsageError(`unexpected argument: ${ref}`);
      return add(options, io);
    case 'edit':
      return edit(needRef(ref), options, io);
    case 'pacing':
      return (await import('./pacing-command.ts')).pacingCommand(needRef(ref), options, io);
    case 'remove': {
      const o = parseOptions(options, { 'data-dir': 'string' });
      return stateCommand(io, () =>
        withStateApi(dataDirOf(o), async (api) => {
          const a = findAccount((await api.snapshot()).accounts, needRef(ref));
          await api.remove(a.account.id);
          io.out.write(`Removed account ${a.account.id} (${a.account.user}); its archive stays on disk.\n`);
          return 0;
        }),
      );
    }
    case 'list': {
      if (ref !== undefined) throw new UsageError(`unexpected argument: ${ref}`);
      const o = parseOptions(options, { 'data-dir': 'string', json: 'boolean' });
      return stateCommand(io, () =>
        withStateApi(dataDirOf(o), async (api) => {
          const { accounts } = await api.snapshot();
          if (o.json) {
            io.out.write(`${JSON.stringify({ kind: 'account-list', accounts: accounts.map((a) => ({ ...a.account, hasPassword: a.hasPassword, schedule: a.schedule })) })}\n`);
            return 0;
          }
          if (accounts.length === 0) io.out.write('No accounts. Add one with: mailkeep account add --host H --user U\n');
          for (const a of accounts) {
            const { id, user, host, port, security, name } = a.account;
            io.out.write(`${id}  ${name ? `${name} <${a.account.email ?? user}>` : user}  ${host}:${port} (${security})  ${describeSchedule(a.schedule)}${a.hasPassword ? '' : '  (no password stored)'}\n`);
          }
          return 0;
        }),
      );
    }
    default:
      throw new UsageError(sub === undefined ? 'account needs add, edit, pacing, remove or list' : `unknown account command ${sub}`);
  }
}

function needRef(ref: string | undefined): string {
  if (ref === undefined) throw new UsageError('name the account (its id or user name)');
  return ref;
}

/** "ada@example.org" -> "ada-example-org": ids are file-name safe (SafeId). */
export function idFromUser(user: string): string {
  const id = user.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
  return id || 'account';
}

function scheduleOption(v: string | boolean | undefined): Schedule | undefined {
  if (typeof v !== 'string') return undefined;
  const parsed = Schedule.safeParse(parseScheduleWords(v.trim().split(/\s+/)));
  if (!parsed.success) throw new UsageError(`--schedule must be "every Nh" (N from 1 to 168), "daily HH:MM" or off, not "${v}"`);
  return parsed.data;
}

function accountOf(fields: Record<string, unknown>): ImapAccount {
  const parsed = ImapAccount.safeParse(fields);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `--${String(i.path[0] ?? 'account')}: ${i.message}`).join('; '));
  return parsed.data;
}

/** --ca FILE: the certificate's PEM text, checked before anything is saved (relay/cli/ca-file.ts). */
function caOf(v: string | boolean | undefined): { ca?: string } {
  return typeof v === 'string' ? { ca: readCaFile(v) } : {};
}

/** --name and --email: how the pages show the account (the relay keeps them with it). */
function namesOf(o: Record<string, string | boolean | undefined>): { name?: string; email?: string } {
  return { ...(typeof o.name === 'string' ? { name: o.name } : {}), ...(typeof o.email === 'string' ? { email: o.email } : {}) };
}

function portOf(v: string | boolean | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError('--port must be a whole number from 1 to 65535');
  return n;
}

function securityOf(v: string | boolean | undefined): 'tls' | 'starttls' | 'none' | undefined {
  if (v === undefined) return undefined;
  if (v !== 'tls' && v !== 'starttls' && v !== 'none') throw new UsageError('--security must be tls, starttls or none');
  return v;
}

async function add(options: string[], io: Io): Promise<number> {
  if (options.some((a) => a === '--oauth' || a.startsWith('--oauth='))) return addOAuth(options, io);
  const o = parseOptions(options, { host: 'string', port: 'string', security: 'string', user: 'string', id: 'string', schedule: 'string', 'data-dir': 'string', name: 'string', email: 'string', ca: 'string' });
  const security = securityOf(o.security) ?? 'tls';
  const user = required(o, 'user');
  const schedule = scheduleOption(o.schedule);
  const password = await readPassword(io);
  return stateCommand(io, () =>
    withStateApi(dataDirOf(o), async (api) => {
      const account = accountOf({ id: typeof o.id === 'string' ? o.id : idFromUser(user), host: required(o, 'host'), port: portOf(o.port) ?? DEFAULT_PORTS[security], security, user, ...namesOf(o), ...caOf(o.ca) });
      if ((await api.snapshot()).accounts.some((a) => a.account.id === account.id)) {
        throw mailkeepError('INVALID_INPUT', `an account ${account.id} exists already; change it with mailkeep account edit ${account.id}, or pick another --id`);
      }
      const state = await api.upsert(account, password, schedule);
      io.out.write(`Added account ${account.id} (${account.user} at ${account.host}:${account.port}), schedule ${describeSchedule(state.schedule)}${api.via === 'relay' ? ', through the running relay' : ''}.\n`);
      return 0;
    }),
  );
}

/** `account add --email E --oauth google|microsoft|FILE [--no-browser] [--json]`: the login is the address. */
async function addOAuth(options: string[], io: Io): Promise<number> {
  const o = parseOptions(options, { email: 'string', oauth: 'string', id: 'string', schedule: 'string', 'no-browser': 'boolean', json: 'boolean', 'data-dir': 'string' });
  const email = required(o, 'email');
  const provider = required(o, 'oauth');
  if (!z.email().safeParse(email).success) throw new UsageError(`--email must be an e-mail address, not "${email}"`);
  const id = typeof o.id === 'string' ? accountOf({ id: o.id, host: 'x', port: 993, security: 'tls', user: email }).id : undefined;
  const schedule = scheduleOption(o.schedule);
  const dataDir = dataDirOf(o);
  return stateCommand(io, async () => {
    const { accountId, via } = await signInCommand({ dataDir, email, provider, ...(id ? { accountId: id } : {}), openBrowser: !o['no-browser'], json: o.json === true }, io);
    const state = await withStateApi(dataDir, async (api) => (schedule ? api.setSchedule(accountId, schedule) : findAccount((await api.snapshot()).accounts, accountId)));
    const a = state.account;
    if (o.json) io.out.write(`${JSON.stringify({ kind: 'oauth-signed-in', accountId, user: a.user, host: a.host, port: a.port, schedule: state.schedule })}
`);
    else io.out.write(`Signed in: account ${accountId} (${a.user} at ${a.host}:${a.port}, OAuth2), schedule ${describeSchedule(state.schedule)}${via === 'relay' ? ', through the running relay; its first backup starts now' : ''}.
`);
    return 0;
  });
}

async function edit(ref: string, options: string[], io: Io): Promise<number> {
  const o = parseOptions(options, { host: 'string', port: 'string', security: 'string', user: 'string', password: 'boolean', schedule: 'string', 'data-dir': 'string', name: 'string', email: 'string', ca: 'string', 'no-ca': 'boolean' });
  if (o.ca !== undefined && o['no-ca']) throw new UsageError('give --ca FILE or --no-ca, not both');
  const schedule = scheduleOption(o.schedule);
  const port = portOf(o.port);
  const security = securityOf(o.security);
  const password = o.password ? await readPassword(io) : undefined;
  return stateCommand(io, () =>
    withStateApi(dataDirOf(o), async (api) => {
      const current = findAccount((await api.snapshot()).accounts, ref).account;
      const account = accountOf({
        ...current,
        // null: forget the stored certificate (absent would keep it, relay/state/relay-state.ts).
        ...(o['no-ca'] ? { ca: null } : caOf(o.ca)),
        ...(typeof o.host === 'string' ? { host: o.host } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(security ? { security } : {}),
        ...(typeof o.user === 'string' ? { user: o.user } : {}),
        ...namesOf(o),
      });
      const state = await api.upsert(account, password, schedule);
      io.out.write(`Saved account ${account.id} (${account.user} at ${account.host}:${account.port})${password !== undefined ? ', new password stored' : ''}, schedule ${describeSchedule(state.schedule)}.\n`);
      return 0;
    }),
  );
}
