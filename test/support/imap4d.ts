/**
 * A throwaway GNU Mailutils imap4d 3.15 for tests: unpacked by scripts/install-imap-servers.sh
 * (its package provides imap-server, which dovecot-imapd conflicts with) and run from there with
 * LD_LIBRARY_PATH, its own config file (`--config-file` implies no site-wide config), loopback on a
 * free port, no TLS, in a temp dir. No systemd; stopped by its process group.
 *
 * Users come from mailutils' `virtdomain` module: a passwd-format file per domain in the temp dir,
 * so no system user, PAM or root is needed (as root the sessions keep running as root; as a plain
 * user everything runs as the caller). virtdomain users log in as `local@domain`: `users[].name`
 * is that login. Mailboxes are maildirs under the user's home (`<home>/INBOX`, `<home>/<folder>`),
 * `/` as delimiter, no prefix.
 *
 * What makes it a test subject (docs/testing.md): its maildir gives UIDs to messages in `new/`
 * afresh on every EXAMINE and may change a folder's UIDVALIDITY between sessions.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import { freePort } from './dovecot.ts';
import { chownTree, libraryPath, loggedIn, mailUser, run, serversDir, stopGroup, unpackedAvailable, waitForGreeting } from './unpacked-server.ts';

/** Start is ~50 ms to the greeting here; 20 s means it is stuck. */
const START_DEADLINE_MS = 20_000;
const STOP_DEADLINE_MS = 8_000;
/** The virtual domain every test user lives in. */
export const IMAP4D_DOMAIN = 'imap4d.test';

export interface Imap4dUser {
  /** The local part; the login is `${name}@${IMAP4D_DOMAIN}`. */
  name: string;
  password: string;
}

export interface Imap4d {
  kind: 'imap4d';
  dir: string;
  host: '127.0.0.1';
  port: number;
  /** Users with their login names (`alice@imap4d.test`). */
  users: Imap4dUser[];
  /** A user's home on disk (by login or local name): INBOX is the maildir `<home>/INBOX`, a folder `F` is `<home>/F`. */
  home(user: string): string;
  /** A logged-in imapflow client (plaintext port); the caller logs out. */
  client(user: string, password: string): Promise<ImapFlow>;
  stop(): Promise<void>;
}

const root = (): string => path.join(serversDir(), 'imap4d');
const imap4dBin = (): string => path.join(root(), 'usr/sbin/imap4d');

/** True if imap4d is unpacked. When it is not: throws under CI (tests must not skip there), else false. */
export function imap4dAvailable(): boolean {
  return unpackedAvailable('GNU imap4d', [imap4dBin()]);
}

/** mailutils config string quoting. */
const q = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

export async function startImap4d(opts: { users?: Imap4dUser[]; dir?: string } = {}): Promise<Imap4d> {
  const given = opts.users ?? [{ name: 'alice', password: 'alicepw' }];
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mk-imap4d-'));
  for (const d of ['vdom', 'mail']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.chmodSync(dir, 0o755);
  const owner = mailUser();
  const port = await freePort();
  const local = (user: string): string => user.split('@')[0]!;
  const home = (user: string): string => path.join(dir, 'mail', local(user));

  const passwd = given.map((u) => {
    if (!/^[A-Za-z0-9._-]+$/.test(u.name)) throw new Error(`unsupported imap4d user name: ${u.name}`);
    const hash = run('openssl', ['passwd', '-6', '-stdin'], { input: `${u.password}\n` }).trim();
    // INBOX exists from the start (imap4d makes it only at the first SELECT: APPEND before that gets TRYCREATE)
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(home(u.name), 'INBOX', sub), { recursive: true });
    return `${u.name}:${hash}:${owner.uid}:${owner.gid}::${home(u.name)}:/bin/false\n`;
  });
  fs.writeFileSync(path.join(dir, 'vdom', IMAP4D_DOMAIN), passwd.join(''), { mode: 0o600 });
  chownTree(path.join(dir, 'mail'), owner);

  const conf = path.join(dir, 'imap4d.conf');
  const log = path.join(dir, 'imap4d.log');
  fs.writeFileSync(
    conf,
    `mode daemon;
foreground yes;
pidfile ${q(path.join(dir, 'imap4d.pid'))};
max-children 60;
logging { syslog no; print-severity yes; };
# virtdomain looks the user up (authorization); generic checks the password against its crypt hash.
auth { authentication generic; authorization virtdomain; };
virtdomain { passwd-dir ${q(path.join(dir, 'vdom'))}; };
mailbox { mailbox-type maildir; };
namespace personal {
  prefix "" { directory "$home"; mailbox-type maildir; };
};
server 127.0.0.1:${port} { transcript no; tls-mode false; };
`,
  );
  const out = fs.openSync(log, 'a');
  const child = spawn(imap4dBin(), [`--config-file=${conf}`], {
    env: { PATH: '/usr/bin:/bin', LD_LIBRARY_PATH: libraryPath(root()) },
    cwd: dir,
    detached: true, // its own process group: stop() ends the daemon and its sessions together
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const stop = async (): Promise<void> => {
    await stopGroup(child, STOP_DEADLINE_MS);
    if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true }); // ours to remove only if we made it
  };
  try {
    await waitForGreeting('imap4d', port, child, START_DEADLINE_MS, [log]);
  } catch (err) {
    await stop();
    throw new Error(`imap4d did not start: ${(err as Error).message}`);
  }
  return {
    kind: 'imap4d',
    dir,
    host: '127.0.0.1',
    port,
    users: given.map((u) => ({ name: `${u.name}@${IMAP4D_DOMAIN}`, password: u.password })),
    home,
    client: async (user, password) => await loggedIn(port, user.includes('@') ? user : `${user}@${IMAP4D_DOMAIN}`, password),
    stop,
  };
}
