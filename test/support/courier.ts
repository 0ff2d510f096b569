/**
 * A throwaway Courier-IMAP 5.0 for tests: unpacked by scripts/install-imap-servers.sh and run as
 * `couriertcpd ... imaplogin imapd Maildir` on loopback on a free port, with its own authdaemond
 * (authuserdb, users made with makeuserdb) in a temp dir. No systemd; stopped by process group.
 *
 * Courier compiles in its paths: the authdaemon socket (/run/courier/authdaemon/socket), its
 * config and userdb (/etc/courier/), its modules (/usr/lib/courier-authlib) and helpers
 * (/usr/lib/courier). So each instance runs in a private mount namespace (`unshare -m`, hence root)
 * where its temp dir and the unpacked folders are bind-mounted over those paths: instances run side
 * by side and nothing of the host's /etc or /run is written, except empty mount points.
 * /usr/libexec is the unpacked one in there too: imapd looks for /usr/libexec/gam_server at every
 * login and, without it, retries for ~1.3 s; gam_server is started per session by imapd in a
 * session of its own (so stop() does not reach it) and exits by itself ~30 s after its last client.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import { freePort } from './dovecot.ts';
import { chownTree, isRoot, libraryPath, loggedIn, mailUser, run, serversDir, stopGroup, unpackedAvailable, waitForGreeting } from './unpacked-server.ts';

/** Start is ~0.1 s to the greeting here; 20 s means it is stuck. */
const START_DEADLINE_MS = 20_000;
const STOP_DEADLINE_MS = 8_000;

export interface CourierUser {
  name: string;
  password: string;
  /** Maildir quota in bytes (userdb `quota=NS`), for over-quota tests. */
  quotaBytes?: number;
}

export interface Courier {
  kind: 'courier';
  dir: string;
  host: '127.0.0.1';
  port: number;
  users: CourierUser[];
  /** A user's Maildir on disk. */
  maildir(user: string): string;
  /** A logged-in imapflow client (plaintext port); the caller logs out. */
  client(user: string, password: string): Promise<ImapFlow>;
  stop(): Promise<void>;
}

const root = (): string => path.join(serversDir(), 'courier');
const file = (p: string): string => path.join(root(), p);
const UNSHARE = '/usr/bin/unshare';

/** True if Courier is unpacked and can run here. When not: throws under CI (tests must not skip there), else false. */
export function courierAvailable(): boolean {
  return unpackedAvailable(
    'Courier-IMAP',
    [file('usr/sbin/couriertcpd'), file('usr/lib/courier/courier/imaplogin'), file('usr/bin/imapd'), file('usr/lib/courier/courier-authlib/authdaemond'), file('usr/sbin/makeuserdb'), file('usr/bin/maildirmake.courier'), file('usr/libexec/gam_server'), UNSHARE],
    () => (isRoot() ? null : 'it needs root here: a private mount namespace for its compiled-in /etc/courier and authdaemon socket'),
  );
}

/** Bourne-shell single quoting, for paths in the start script. */
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export async function startCourier(opts: { users?: CourierUser[]; dir?: string } = {}): Promise<Courier> {
  const users = opts.users ?? [{ name: 'alice', password: 'alicepw' }];
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mk-courier-'));
  for (const d of ['etc', 'run/authdaemon', 'mail']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.chmodSync(dir, 0o755);
  const owner = mailUser();
  const port = await freePort();
  const ldPath = libraryPath(root());
  const maildir = (user: string): string => path.join(dir, 'mail', user, 'Maildir');

  fs.writeFileSync(path.join(dir, 'etc/authdaemonrc'), 'authmodulelist="authuserdb"\ndaemons=2\nauthdaemonvar=/run/courier/authdaemon\nDEBUG_LOGIN=0\nDEFAULTOPTIONS=""\nLOGGEROPTS=""\n');
  const userdb = users.map((u) => {
    if (!/^[A-Za-z0-9._-]+$/.test(u.name)) throw new Error(`unsupported Courier user name: ${u.name}`);
    const hash = run('openssl', ['passwd', '-6', '-stdin'], { input: `${u.password}\n` }).trim();
    fs.mkdirSync(path.dirname(maildir(u.name)), { recursive: true });
    // -q writes the maildirsize file imapd enforces the quota from (the userdb field alone is not enough)
    run(file('usr/bin/maildirmake.courier'), [...(u.quotaBytes !== undefined ? ['-q', `${u.quotaBytes}S`] : []), maildir(u.name)], { env: { LD_LIBRARY_PATH: ldPath } });
    const fields = [`uid=${owner.uid}`, `gid=${owner.gid}`, `home=${path.dirname(maildir(u.name))}`, `mail=${maildir(u.name)}`, `systempw=${hash}`];
    if (u.quotaBytes !== undefined) fields.push(`quota=${u.quotaBytes}S`);
    return `${u.name}\t${fields.join('|')}\n`;
  });
  fs.writeFileSync(path.join(dir, 'etc/userdb'), userdb.join(''), { mode: 0o600 }); // makeuserdb refuses group/world bits
  chownTree(path.join(dir, 'mail'), owner);

  const logs = [path.join(dir, 'couriertcpd.log'), path.join(dir, 'authdaemond.log')];
  // Runs inside the private mount namespace: mount points (empty dirs) on the host, then this
  // instance's files over them, the userdb, authdaemond, and couriertcpd in the foreground.
  const script = `set -e
mkdir -p /etc/courier /run/courier /usr/lib/courier /usr/lib/courier-authlib
mount --bind ${q(path.join(dir, 'etc'))} /etc/courier
mount --bind ${q(path.join(dir, 'run'))} /run/courier
mount --bind ${q(file('usr/lib/courier'))} /usr/lib/courier
mount --bind ${q(file('usr/lib/courier-authlib'))} /usr/lib/courier-authlib
mount --bind ${q(file('usr/libexec'))} /usr/libexec
${q(file('usr/sbin/makeuserdb'))}
/usr/lib/courier/courier-authlib/authdaemond >${q(logs[1]!)} 2>&1 &
exec ${q(file('usr/sbin/couriertcpd'))} -address=127.0.0.1 -nodnslookup -noidentlookup -maxprocs=60 -maxperip=60 ${port} \\
  /usr/lib/courier/courier/imaplogin ${q(file('usr/bin/imapd'))} Maildir
`;
  fs.writeFileSync(path.join(dir, 'start.sh'), script);
  const out = fs.openSync(logs[0]!, 'a');
  // Debian's /etc/courier/imapd settings that matter, passed as the environment imapd reads them from.
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    LD_LIBRARY_PATH: ldPath,
    IMAP_CAPABILITY: 'IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE',
    IMAP_KEYWORDS: '1',
    IMAP_ACL: '1',
    IMAP_TLS_REQUIRED: '0',
    IMAP_USELOCKS: '1',
    IMAP_ENHANCEDIDLE: '0',
    IMAP_UMASK: '022',
    IMAP_ULIMITD: '131072',
    IMAP_MAILBOX_SANITY_CHECK: '1',
    IMAP_TRASHFOLDERNAME: 'Trash',
    IMAP_EMPTYTRASH: '',
    IMAP_MOVE_EXPUNGE_TO_TRASH: '0',
    MAILDIRPATH: 'Maildir',
  };
  const child = spawn(UNSHARE, ['--mount', '--propagation', 'private', '/bin/sh', path.join(dir, 'start.sh')], {
    env,
    cwd: dir,
    detached: true, // its own process group: stop() ends couriertcpd, authdaemond and sessions together
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const stop = async (): Promise<void> => {
    await stopGroup(child, STOP_DEADLINE_MS);
    if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true }); // ours to remove only if we made it
  };
  try {
    await waitForGreeting('courier', port, child, START_DEADLINE_MS, logs);
  } catch (err) {
    await stop();
    throw new Error(`Courier did not start: ${(err as Error).message}`);
  }
  return {
    kind: 'courier',
    dir,
    host: '127.0.0.1',
    port,
    users,
    maildir,
    client: async (user, password) => await loggedIn(port, user, password),
    stop,
  };
}
