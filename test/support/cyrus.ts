/**
 * A throwaway Cyrus IMAP 3.6 for tests: unpacked by scripts/install-imap-servers.sh, run from there
 * with LD_LIBRARY_PATH, its own imapd.conf and cyrus.conf (every service with an absolute path and
 * -C) in a temp dir, users in a sasldb there, loopback on a free port, no systemd, stopped by its
 * process group. An admin user creates each user's mailbox over IMAP. Two namespace settings:
 * Debian's default (`.` separator, `INBOX.` prefix) and `/` with altnamespace (no prefix).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import { freePort } from './dovecot.ts';
import { chownTree, libraryPath, loggedIn, mailUser, run, serversDir, stopGroup, unpackedAvailable, waitForGreeting } from './unpacked-server.ts';

/** Start, with the admin creating the mailboxes, takes 0.1-0.6 s here; 20 s means it is stuck. */
const START_DEADLINE_MS = 20_000;
/** Cyrus' master takes ~1.5 s to stop after SIGTERM. */
const STOP_DEADLINE_MS = 8_000;

export type CyrusNamespace = 'default' | 'altnamespace';

export interface CyrusUser {
  name: string;
  password: string;
  /** Storage quota in KiB (Cyrus `STORAGE` units), for over-quota tests. */
  quotaKiB?: number;
}

export interface Cyrus {
  kind: 'cyrus';
  namespace: CyrusNamespace;
  dir: string;
  host: '127.0.0.1';
  port: number;
  users: CyrusUser[];
  admin: { name: string; password: string };
  /** The hierarchy separator of this namespace setting. */
  delimiter: '.' | '/';
  /** The user's INBOX name as the admin sees it: `user.alice` or `user/alice`. */
  userMailbox(user: string): string;
  /** A logged-in imapflow client (plaintext port); the caller logs out. */
  client(user: string, password: string): Promise<ImapFlow>;
  stop(): Promise<void>;
}

/** imapflow's untyped raw command call (it resolves on OK, rejects on NO/BAD; next() resumes its reader). */
interface RawExec {
  exec(command: string, attributes: unknown[]): Promise<{ next(): void }>;
}

const root = (): string => path.join(serversDir(), 'cyrus');
const bin = (name: string): string => path.join(root(), 'usr/lib/cyrus/bin', name);
const saslpasswd2 = (): string => path.join(root(), 'usr/sbin/saslpasswd2');

/** True if Cyrus is unpacked. When it is not: throws under CI (tests must not skip there), else false. */
export function cyrusAvailable(): boolean {
  return unpackedAvailable('Cyrus IMAP', [bin('master'), bin('imapd'), bin('ctl_cyrusdb'), saslpasswd2()]);
}

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin', LD_LIBRARY_PATH: libraryPath(root()) };
  // SASL plugins (sasldb) come from the system's libsasl2-modules-db unless the script had to unpack them
  const plugins = path.join(root(), 'usr/lib/x86_64-linux-gnu/sasl2');
  if (fs.existsSync(plugins)) e.SASL_PATH = `${plugins}:/usr/lib/x86_64-linux-gnu/sasl2`;
  return e;
}

export async function startCyrus(opts: { users?: CyrusUser[]; namespace?: CyrusNamespace; dir?: string } = {}): Promise<Cyrus> {
  const users = opts.users ?? [{ name: 'alice', password: 'alicepw' }];
  const namespace = opts.namespace ?? 'default';
  const alt = namespace === 'altnamespace';
  const delimiter = alt ? '/' : '.';
  const admin = { name: 'cyradmin', password: `admin-${process.pid}-${Date.now()}` };
  if (users.some((u) => u.name === admin.name)) throw new Error(`${admin.name} is the Cyrus admin; pick another user name`);
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cyrus-'));
  for (const d of ['conf', 'spool', 'run']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.chmodSync(dir, 0o755);
  const owner = mailUser();
  const port = await freePort();
  const imapdConf = path.join(dir, 'imapd.conf');
  const cyrusConf = path.join(dir, 'cyrus.conf');
  const masterLog = path.join(dir, 'master.log');
  const stdoutLog = path.join(dir, 'stdout.log');
  fs.writeFileSync(
    imapdConf,
    `configdirectory: ${dir}/conf
partition-default: ${dir}/spool
defaultpartition: default
servername: localhost
cyrus_user: ${owner.name}
admins: ${admin.name}
allowplaintext: yes
sasl_mech_list: PLAIN LOGIN
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: ${dir}/sasldb2
unixhierarchysep: ${alt ? 'yes' : 'no'}
altnamespace: ${alt ? 'yes' : 'no'}
virtdomains: off
lmtpsocket: ${dir}/run/lmtp
idlesocket: ${dir}/run/idle
notifysocket: ${dir}/run/notify
mboxname_lockpath: ${dir}/run/lock
proc_path: ${dir}/run/proc
syslog_prefix: mk-cyrus-${port}
`,
  );
  // Every command absolute and with -C: the compiled-in /etc/imapd.conf does not exist here.
  fs.writeFileSync(
    cyrusConf,
    `START {
  recover cmd="${bin('ctl_cyrusdb')} -C ${imapdConf} -r"
}
SERVICES {
  imap cmd="${bin('imapd')} -C ${imapdConf}" listen="127.0.0.1:${port}" prefork=0
}
EVENTS {
}
`,
  );
  const sasldb = path.join(dir, 'sasldb2');
  for (const u of [admin, ...users]) {
    run(saslpasswd2(), ['-p', '-c', '-f', sasldb, '-u', 'localhost', u.name], { env: env(), input: u.password });
  }
  chownTree(dir, owner);

  // As root, master drops to cyrus_user itself. detached: its own process group, stopped as one.
  const out = fs.openSync(stdoutLog, 'a');
  const child = spawn(bin('master'), ['-C', imapdConf, '-M', cyrusConf, '-p', path.join(dir, 'run/master.pid'), '-L', masterLog], {
    env: env(),
    cwd: dir,
    detached: true,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const stop = async (): Promise<void> => {
    await stopGroup(child, STOP_DEADLINE_MS);
    if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true }); // ours to remove only if we made it
  };
  const userMailbox = (user: string): string => `user${delimiter}${user}`;
  try {
    await waitForGreeting('cyrus', port, child, START_DEADLINE_MS, [stdoutLog, masterLog]);
    const a = await loggedIn(port, admin.name, admin.password);
    try {
      for (const u of users) {
        await a.mailboxCreate(userMailbox(u.name));
        if (u.quotaKiB !== undefined) {
          // imapflow has no SETQUOTA; Cyrus takes the standard command from an admin.
          const r = await (a as unknown as RawExec).exec('SETQUOTA', [{ type: 'STRING', value: userMailbox(u.name) }, [{ type: 'ATOM', value: 'STORAGE' }, { type: 'ATOM', value: String(u.quotaKiB) }]]);
          r.next();
        }
      }
    } finally {
      await a.logout().catch(() => undefined);
    }
  } catch (err) {
    await stop();
    throw new Error(`Cyrus (${namespace}) did not start: ${(err as Error).message}`);
  }
  return {
    kind: 'cyrus',
    namespace,
    dir,
    host: '127.0.0.1',
    port,
    users,
    admin,
    delimiter,
    userMailbox,
    client: async (user, password) => await loggedIn(port, user, password),
    stop,
  };
}
