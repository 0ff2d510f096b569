import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTENSION_ORIGIN, FIREFOX_EXTENSION_ID } from '../../lib/extension-identity.ts';
import { NATIVE_HOST_NAME } from '../../lib/protocol/native-host.ts';
import { isZombie, pidAlive, runningRelay } from '../../relay/lock/lock-file.ts';
import { relayAnswers } from '../../relay/service/relay-launch.ts';
import { homeEnv, ROOT, runCli, waitFor } from './relay-harness.ts';

// `mailkeep install` / `uninstall` for real, as a user runs them, into a temporary HOME with fake
// browser profiles. No systemd user manager runs on this machine (and XDG_RUNTIME_DIR is left out),
// so install takes the XDG autostart path; the unit file is checked in service-files.test.ts.

const homes: string[] = [];
afterAll(async () => {
  for (const h of homes) {
    const r = runningRelay(path.join(h, '.mailkeep'));
    if (r) process.kill(r.pid, 'SIGTERM');
    fs.rmSync(h, { recursive: true, force: true });
  }
});

function fakeHome(): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-home-'));
  homes.push(home);
  const mk = (p: string, content?: string) => {
    const full = path.join(home, p);
    fs.mkdirSync(content === undefined ? full : path.dirname(full), { recursive: true });
    if (content !== undefined) fs.writeFileSync(full, content);
  };
  mk('.config/google-chrome/Default/Preferences', '{}');
  mk('.config/chromium/Default');
  mk('.config/BraveSoftware/Brave-Browser/Default');
  mk('.config/microsoft-edge/Default');
  mk('.mozilla/firefox/abc.default-release');
  // Things of other programs that must come through untouched.
  mk('.config/autostart/other-app.desktop', '[Desktop Entry]\nType=Application\nExec=other\n');
  mk('.config/google-chrome/NativeMessagingHosts/com.other.host.json', '{"name":"com.other.host"}');
  return home;
}

/** Every entry under dir: type, mode and content hash, so any change shows. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      const st = fs.lstatSync(full);
      const rel = path.relative(dir, full);
      if (e.isDirectory()) {
        out[rel] = `dir ${(st.mode & 0o777).toString(8)}`;
        walk(full);
      } else out[rel] = `file ${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
}

const cli = (home: string, args: string[]) => runCli(args, 60_000, homeEnv(home));

const BIN = fs.realpathSync(path.join(ROOT, 'bin/mailkeep.js'));

describe('mailkeep install / uninstall into a temporary HOME', () => {
  it('install writes the autostart entry, the launcher and a manifest per installed browser with absolute paths and the pinned ID; uninstall leaves HOME exactly as it was', async () => {
    const home = fakeHome();
    const before = tree(home);

    const inst = await cli(home, ['install', '--no-start', '--port', '0']);
    expect(inst.stderr).toBe('');
    expect(inst.code).toBe(0);
    const dataDir = path.join(home, '.mailkeep');
    const launcher = path.join(dataDir, 'native-host', 'mailkeep-native-host');

    const autostart = fs.readFileSync(path.join(home, '.config/autostart/mailkeep-relay.desktop'), 'utf8');
    expect(autostart).toContain(`Exec="${process.execPath}" "${BIN}" "relay" "--background" "--data-dir" "${dataDir}" "--port" "0"`);
    expect(inst.stdout).toContain('XDG autostart');

    const chromiumDirs = ['.config/google-chrome', '.config/chromium', '.config/BraveSoftware/Brave-Browser', '.config/microsoft-edge'];
    for (const d of chromiumDirs) {
      const file = path.join(home, d, 'NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`);
      expect(JSON.parse(fs.readFileSync(file, 'utf8')), d).toEqual({
        name: NATIVE_HOST_NAME,
        description: expect.any(String),
        path: launcher,
        type: 'stdio',
        allowed_origins: [`${EXTENSION_ORIGIN}/`],
      });
      expect(inst.stdout).toContain(`wrote ${file}`);
    }
    const firefox = JSON.parse(fs.readFileSync(path.join(home, '.mozilla/native-messaging-hosts', `${NATIVE_HOST_NAME}.json`), 'utf8'));
    expect(firefox).toMatchObject({ path: launcher, allowed_extensions: [FIREFOX_EXTENSION_ID] });
    // Browsers that are not here get nothing: no folder is made for them.
    expect(fs.existsSync(path.join(home, '.config/vivaldi'))).toBe(false);
    expect(fs.existsSync(path.join(home, '.config/google-chrome-beta'))).toBe(false);

    expect(path.isAbsolute(launcher)).toBe(true);
    expect(fs.statSync(launcher).mode & 0o111).not.toBe(0);
    expect(fs.readFileSync(launcher, 'utf8')).toContain(`exec '${process.execPath}' '${BIN}' native-host --data-dir '${dataDir}' "$@"`);
    expect(runningRelay(dataDir)).toBeUndefined(); // --no-start

    // Installing twice changes nothing for uninstall: it still removes what the first one created.
    expect((await cli(home, ['install', '--no-start', '--port', '0'])).code).toBe(0);

    const un = await cli(home, ['uninstall']);
    expect(un.stderr).toBe('');
    expect(un.code).toBe(0);
    expect(un.stdout).toContain(`removed ${launcher}`);
    expect(tree(home)).toEqual(before);
  });

  it('install starts the relay in the background; --purge alone deletes nothing; --purge --yes stops the relay and leaves HOME as it was', async () => {
    const home = fakeHome();
    const before = tree(home);
    const dataDir = path.join(home, '.mailkeep');

    const inst = await cli(home, ['install', '--port', '0']);
    expect(inst.code).toBe(0);
    expect(inst.stdout).toMatch(/started the relay in the background \(pid \d+\)/);
    const relay = await waitFor('the relay to listen', async () => {
      const r = runningRelay(dataDir);
      return r?.port && (await relayAnswers(r.port)) ? r : undefined;
    });

    const preview = await cli(home, ['uninstall', '--purge']);
    expect(preview.code).toBe(2);
    expect(preview.stdout).toContain('Nothing was changed');
    expect(pidAlive(relay.pid)).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'install.json'))).toBe(true);

    const un = await cli(home, ['uninstall', '--purge', '--yes']);
    expect(un.code).toBe(0);
    expect(un.stdout).toContain(`stopped the relay (pid ${relay.pid})`);
    expect(un.stdout).toContain(`purged ${dataDir}`);
    await waitFor('the relay to exit', () => (pidAlive(relay.pid) && !isZombie(relay.pid) ? undefined : true));
    expect(tree(home)).toEqual(before);
  });

  it('uninstall without --purge keeps the data dir with the relay\'s own files (archives, credentials, log)', async () => {
    const home = fakeHome();
    const dataDir = path.join(home, '.mailkeep');
    expect((await cli(home, ['install', '--no-start', '--port', '0'])).code).toBe(0);
    fs.writeFileSync(path.join(dataDir, 'credentials.enc'), 'kept');
    const un = await cli(home, ['uninstall']);
    expect(un.code).toBe(0);
    expect(fs.readFileSync(path.join(dataDir, 'credentials.enc'), 'utf8')).toBe('kept');
    expect(fs.existsSync(path.join(dataDir, 'native-host'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'install.json'))).toBe(false);
    expect(un.stdout).toContain(`kept ${dataDir}`);
  });

  it('uninstall with nothing installed changes nothing and says so; a damaged install record is refused, nothing touched', async () => {
    const home = fakeHome();
    const before = tree(home);
    const none = await cli(home, ['uninstall']);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('nothing installed');
    expect(tree(home)).toEqual(before);

    const dataDir = path.join(home, '.mailkeep');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'install.json'), '{"version": 99}');
    const damaged = tree(home);
    for (const cmd of [['uninstall'], ['install', '--no-start']]) {
      const r = await cli(home, cmd);
      expect(r.code, cmd[0]).not.toBe(0);
      expect(r.stderr, cmd[0]).toContain('error INVALID_INPUT');
      expect(r.stderr, cmd[0]).toContain('install.json');
    }
    expect(tree(home)).toEqual(damaged);
  });

  it('a file edited since install is still removed, and uninstall says it had been edited', async () => {
    const home = fakeHome();
    expect((await cli(home, ['install', '--no-start', '--port', '0'])).code).toBe(0);
    const entry = path.join(home, '.config/autostart/mailkeep-relay.desktop');
    fs.appendFileSync(entry, 'X-Edited=true\n');
    const un = await cli(home, ['uninstall']);
    expect(un.code).toBe(0);
    expect(un.stdout).toContain(`removed ${entry}  (it had been edited since install)`);
    expect(fs.existsSync(entry)).toBe(false);
    expect(fs.readFileSync(path.join(home, '.config/autostart/other-app.desktop'), 'utf8')).toContain('Exec=other');
  });
});
