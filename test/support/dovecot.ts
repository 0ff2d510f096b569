/**
 * A throwaway Dovecot for tests and benchmarks: loopback only, free ports, its own temp dir, no
 * systemd, stopped by PID. Recipe and pitfalls: ../shared/notes/imap-lab.md §1.2 and §6 (root mode
 * with a `vmail` user, the anvil auth-penalty fix, a clean base_dir, never signal PID 0).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { waitForGreeting } from './unpacked-server.ts';

/** doveadm re-indexing one test mailbox takes well under a second; 30 s means it is stuck. */
const SETTLE_TIMEOUT_MS = 30_000;

export interface DovecotUser {
  name: string;
  password: string;
  /** e.g. '2M': a storage quota for OVERQUOTA tests. */
  quota?: string;
}

export interface Dovecot {
  dir: string;
  host: '127.0.0.1';
  port: number;
  tlsPort: number;
  /** PEM of the self-signed certificate (SAN localhost, 127.0.0.1), to pass as a CA. */
  certPem: string;
  certFile: string;
  confFile: string;
  /** `~/Maildir` of a user. */
  maildir(user: string): string;
  /** A logged-in imapflow client (plaintext port); the caller logs out. */
  client(user: string, password: string): Promise<ImapFlow>;
  /** Writes messages straight into a maildir folder (fastest load; see imap-lab.md). */
  writeMaildir(user: string, diskFolder: string, messages: { raw: Buffer; flags?: string; date?: Date }[]): void;
  /** Makes written maildir files owned by the mail user and lets Dovecot index them. */
  settle(user: string): void;
  stop(): Promise<void>;
}

const DOVECOT = '/usr/sbin/dovecot';

/** True if Dovecot is installed. When it is not: throws under CI (tests must not skip there), else false. */
export function dovecotAvailable(): boolean {
  if (fs.existsSync(DOVECOT)) return true;
  if (process.env.CI) throw new Error('dovecot is not installed but CI is set: install dovecot-imapd (.ci/run does)');
  return false;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const isRoot = (): boolean => process.getuid?.() === 0;

function ensureVmail(): void {
  if (spawnSync('id', ['vmail']).status === 0) return;
  const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'vmail']);
  if (r.status !== 0 && spawnSync('id', ['vmail']).status !== 0) throw new Error(`cannot create vmail user: ${r.stderr}`);
}

/**
 * Dovecot's oauth2 passdb (../shared/notes/integration-recipes.md §1.1): XOAUTH2 and OAUTHBEARER
 * logins are checked by RFC 7662 introspection at this URL (the fake authorization server's
 * /introspect); PLAIN/LOGIN keep using the users file. Users must still be listed in `users` (the
 * userdb), with any password.
 */
export interface DovecotOAuth2 {
  introspectionUrl: string;
}

export async function startDovecot(opts: { users?: DovecotUser[]; fsync?: boolean; dir?: string; oauth2?: DovecotOAuth2 } = {}): Promise<Dovecot> {
  const users = opts.users ?? [{ name: 'alice', password: 'alicepw' }];
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mk-dovecot-'));
  for (const d of ['run', 'state', 'mail', 'ssl']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.rmSync(path.join(dir, 'run'), { recursive: true, force: true }); // stale anvil sockets delay auth ~5 s
  fs.mkdirSync(path.join(dir, 'run'));
  const [port, tlsPort] = [await freePort(), await freePort()];
  let mailUser: string;
  let mailGroup: string;
  let rootless = '';
  if (isRoot()) {
    ensureVmail();
    mailUser = 'vmail';
    mailGroup = 'vmail';
    // The temp dir must be traversable by Dovecot's auth and mail users, and so must its parents:
    // otherwise every login fails with a confusing [UNAVAILABLE] "Temporary authentication failure".
    fs.chmodSync(dir, 0o755);
    for (let p = path.dirname(dir); p !== path.dirname(p); p = path.dirname(p)) {
      if ((fs.statSync(p).mode & 0o001) === 0) throw new Error(`${p} is not traversable by other users (mode ${(fs.statSync(p).mode & 0o777).toString(8)}): Dovecot's auth process could not read its files`);
    }
    spawnSync('chown', ['vmail:vmail', path.join(dir, 'mail')]);
  } else {
    mailUser = os.userInfo().username;
    mailGroup = spawnSync('id', ['-gn']).stdout.toString().trim();
    rootless = `default_internal_user = ${mailUser}\ndefault_internal_group = ${mailGroup}\ndefault_login_user = ${mailUser}\nservice anvil {\n  chroot =\n}\nservice imap-login {\n  chroot =\n}\n`;
  }
  const certFile = path.join(dir, 'ssl', 'cert.pem');
  const keyFile = path.join(dir, 'ssl', 'key.pem');
  if (!fs.existsSync(certFile)) {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile]);
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  }
  fs.writeFileSync(
    path.join(dir, 'users'),
    users.map((u) => `${u.name}:{PLAIN}${u.password}::::::${u.quota ? `userdb_quota_rule=*:storage=${u.quota}` : ''}\n`).join(''),
    { mode: 0o644 },
  );
  if (opts.oauth2) {
    // No `debug = yes`: with it Dovecot logs the tokens it checks.
    fs.writeFileSync(
      path.join(dir, 'oauth2.conf.ext'),
      `introspection_mode = post\nintrospection_url = ${opts.oauth2.introspectionUrl}\nusername_attribute = username\nactive_attribute = active\nactive_value = true\nforce_introspection = yes\n`,
      { mode: 0o644 },
    );
  }
  const conf = `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = mk-dovecot-${port}
log_path = ${dir}/dovecot.log
${rootless}
ssl = yes
ssl_cert = <${certFile}
ssl_key = <${keyFile}
disable_plaintext_auth = no
auth_mechanisms = plain login${opts.oauth2 ? ' xoauth2 oauthbearer' : ''}
auth_failure_delay = 0
verbose_proctitle = yes
mail_max_userip_connections = 50
mail_fsync = ${opts.fsync ? 'optimized' : 'never'}
${opts.oauth2 ? `passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = ${dir}/oauth2.conf.ext\n}\n` : ''}passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users${opts.oauth2 ? '\n  mechanisms = plain login' : ''}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${dir}/users
  default_fields = uid=${mailUser} gid=${mailGroup} home=${dir}/mail/%u
}
mail_location = maildir:~/Maildir
mail_plugins = $mail_plugins quota
namespace inbox {
  inbox = yes
  separator = /
}
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
plugin {
  quota = count:User quota
  quota_vsizes = yes
}
service imap-login {
  inet_listener imap {
    port = ${port}
  }
  inet_listener imaps {
    port = ${tlsPort}
    ssl = yes
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`;
  const confFile = path.join(dir, 'dovecot.conf');
  fs.writeFileSync(confFile, conf);
  const logFile = path.join(dir, 'dovecot.log');
  const child = spawn(DOVECOT, ['-F', '-c', confFile], { stdio: ['ignore', 'ignore', 'ignore'] });
  const pid = child.pid;
  try {
    await waitForGreeting('dovecot', port, child, 15_000, [logFile]);
  } catch (err) {
    if (pid && pid > 0) child.kill('SIGKILL');
    throw err;
  }
  const maildir = (user: string): string => path.join(dir, 'mail', user, 'Maildir');
  let seq = 0;
  return {
    dir,
    host: '127.0.0.1',
    port,
    tlsPort,
    certFile,
    confFile,
    certPem: fs.readFileSync(certFile, 'utf8'),
    maildir,
    async client(user, password) {
      const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user, pass: password }, logger: false });
      c.on('error', () => undefined);
      await c.connect();
      return c;
    },
    writeMaildir(user, diskFolder, messages) {
      const root = diskFolder ? path.join(maildir(user), diskFolder) : maildir(user);
      for (const d of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(root, d), { recursive: true });
      if (diskFolder) fs.writeFileSync(path.join(root, 'maildirfolder'), '');
      for (const m of messages) {
        const ts = Math.floor((m.date ?? new Date(Date.UTC(2020, 0, 1))).getTime() / 1000);
        const file = path.join(root, 'cur', `${ts}.M${++seq}P${process.pid}.mk,S=${m.raw.length}:2,${m.flags ?? ''}`);
        fs.writeFileSync(file, m.raw);
        fs.utimesSync(file, ts, ts); // Dovecot takes INTERNALDATE from the mtime
      }
    },
    settle(user) {
      if (isRoot()) spawnSync('chown', ['-R', 'vmail:vmail', path.join(dir, 'mail')], { timeout: SETTLE_TIMEOUT_MS });
      // Bounded: a doveadm stuck on a mailbox lock would otherwise hang the test run with no output.
      const r = spawnSync('doveadm', ['-c', confFile, 'mailbox', 'status', '-u', user, 'messages', '*'], { stdio: 'ignore', timeout: SETTLE_TIMEOUT_MS, killSignal: 'SIGKILL' });
      if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') throw new Error(`doveadm mailbox status -u ${user} did not finish within ${SETTLE_TIMEOUT_MS} ms`);
      if (isRoot()) spawnSync('chown', ['-R', 'vmail:vmail', path.join(dir, 'mail')], { timeout: SETTLE_TIMEOUT_MS });
    },
    async stop() {
      if (!pid || pid <= 0 || child.exitCode !== null) return; // never signal 0: that is the whole process group
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 8_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
