import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';
import { NATIVE_HOST_NAME } from '../../lib/protocol/native-host.ts';
import { registerNewBrowsers } from '../../relay/service/browser-watch.ts';
import { applyInstall } from '../../relay/service/install.ts';
import { planInstall } from '../../relay/service/install-plan.ts';
import { readInstallRecord, writeInstallRecord, type Command } from '../../relay/service/install-record.ts';
import type { ServiceEnv } from '../../relay/service/platform.ts';
import { homeEnv, RelayProcess, runCli } from './relay-harness.ts';

// A person runs `npm start` before they ever started Chrome (no profile, so no host manifest):
// the installed relay registers the native host once the browser's profile appears, and
// uninstall still removes everything. Real CLI and relay processes in a temporary HOME.

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

function emptyHome(): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-home-'));
  homes.push(home);
  return home;
}

const cli = (home: string, args: string[]) => runCli(args, 60_000, homeEnv(home));

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      const rel = path.relative(dir, full);
      if (e.isDirectory()) {
        out[rel] = 'dir';
        walk(full);
      } else out[rel] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

describe('a browser that appears after install', () => {
  it('install with no browser profile says the relay will register one later; the installed relay registers Chrome once its profile exists, and uninstall removes it', async () => {
    const home = emptyHome();
    const before = tree(home);
    const inst = await cli(home, ['install', '--no-start', '--port', '0']);
    expect(inst.code).toBe(0);
    expect(inst.stdout).toContain('no browser profile found yet: the running relay registers the native-messaging host by itself');
    const dataDir = path.join(home, '.mailkeep');
    const manifest = path.join(home, '.config/google-chrome/NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`);
    expect(fs.existsSync(manifest)).toBe(false);

    // The person starts Chrome for the first time (its profile folder appears), then the relay runs.
    fs.mkdirSync(path.join(home, '.config/google-chrome/Default'), { recursive: true });
    const relay = RelayProcess.spawn(['relay', '--port', '0', '--data-dir', dataDir], { env: homeEnv(home) });
    try {
      await relay.waitForOutput('native-messaging host registered for a browser found since install: Google Chrome', 20_000);
    } finally {
      await relay.stop();
    }
    expect(JSON.parse(fs.readFileSync(manifest, 'utf8'))).toMatchObject({
      name: NATIVE_HOST_NAME,
      path: path.join(dataDir, 'native-host', 'mailkeep-native-host'),
      allowed_origins: [`${EXTENSION_ORIGIN}/`],
    });
    expect(readInstallRecord(dataDir)!.browsers).toEqual(['Google Chrome']);

    // Uninstall removes the manifest the relay wrote and the folder it made for it; Chrome's own
    // profile folder stays.
    const un = await cli(home, ['uninstall']);
    expect(un.code).toBe(0);
    expect(un.stdout).toContain(`removed ${manifest}`);
    expect(fs.existsSync(path.join(home, '.config/google-chrome/NativeMessagingHosts'))).toBe(false);
    const after = tree(home);
    expect(Object.keys(after).filter((k) => !k.startsWith('.mailkeep') && !(k in before)).sort()).toEqual(['.config', '.config/google-chrome', '.config/google-chrome/Default']);
  }, 120_000);

  it('a relay that was never installed (run by hand) registers nothing, whatever browsers exist', () => {
    const home = emptyHome();
    fs.mkdirSync(path.join(home, '.config/chromium/Default'), { recursive: true });
    const se: ServiceEnv = { platform: 'linux', home, env: { XDG_CONFIG_HOME: path.join(home, '.config') } };
    expect(registerNewBrowsers({ se, dataDir: path.join(home, '.mailkeep'), run: () => ({ ok: true, output: '' }), log: () => {} })).toEqual([]);
    expect(fs.existsSync(path.join(home, '.config/chromium/NativeMessagingHosts'))).toBe(false);
  });

  it('each browser is registered once: a second look changes nothing; a second browser found later is added to the record', () => {
    const home = emptyHome();
    const dataDir = path.join(home, '.mailkeep');
    const se: ServiceEnv = { platform: 'linux', home, env: { XDG_CONFIG_HOME: path.join(home, '.config') } };
    const plan = planInstall({ se, cli: { node: process.execPath, bin: '/opt/mailkeep/bin/mailkeep.js' }, dataDir, systemdUser: false, docsPath: '/opt/mailkeep/docs/install.md' });
    applyInstall({ se, plan, cli: { node: process.execPath, bin: '/opt/mailkeep/bin/mailkeep.js' }, start: false, run: () => ({ ok: true, output: '' }), out: () => {} });
    const look = () => registerNewBrowsers({ se, dataDir, run: () => ({ ok: true, output: '' }), log: () => {} });
    expect(look()).toEqual([]);
    fs.mkdirSync(path.join(home, '.config/chromium/Default'), { recursive: true });
    expect(look()).toEqual(['Chromium']);
    const manifest = path.join(home, '.config/chromium/NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`);
    const first = fs.statSync(manifest).mtimeMs;
    expect(look()).toEqual([]);
    expect(fs.statSync(manifest).mtimeMs).toBe(first);
    fs.mkdirSync(path.join(home, '.mozilla/firefox'), { recursive: true });
    expect(look()).toEqual(['Firefox']);
    const record = readInstallRecord(dataDir)!;
    expect(record.browsers).toEqual(['Chromium', 'Firefox']);
    expect(record.files.map((f) => f.path)).toEqual(expect.arrayContaining([manifest, path.join(home, '.mozilla/native-messaging-hosts', `${NATIVE_HOST_NAME}.json`)]));
  });

  it('on Windows the registry key is added for a new browser; a refused `reg add` is not recorded and is tried again at the next look', () => {
    const home = emptyHome();
    const dataDir = path.join(home, 'Mailkeep'); // the record's folder; Windows paths are only computed
    const se: ServiceEnv = { platform: 'win32', home: 'C:\\Users\\ann', env: { LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' }, windowsUser: 'PC\\ann' };
    fs.mkdirSync(dataDir);
    writeInstallRecord(dataDir, {
      version: 1, installedAt: new Date(0).toISOString(), platform: 'win32', dataDir, port: 7412,
      service: { kind: 'windows-task', start: [['schtasks', '/Run', '/TN', 'Mailkeep Relay']], unregister: [['schtasks', '/Delete', '/TN', 'Mailkeep Relay', '/F']] },
      files: [], dirs: [], registryKeys: [], browsers: [],
    });
    const key = `HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\${NATIVE_HOST_NAME}`;
    const ran: Command[] = [];
    const written: string[] = [];
    let refuse = true;
    const look = (log: (l: string) => void = () => {}) =>
      registerNewBrowsers({
        se,
        dataDir,
        log,
        exists: (d) => d === 'C:\\Users\\ann\\AppData\\Local\\Google\\Chrome\\User Data',
        run: (c) => (ran.push(c), refuse ? { ok: false, output: 'ERROR: Access is denied.' } : { ok: true, output: '' }),
        writeFiles: (_dir, planned) => planned.map((f) => (written.push(f.path), { path: f.path, sha256: '0'.repeat(64) })),
      });
    const logs: string[] = [];
    expect(look((l) => logs.push(l))).toEqual([]);
    expect(ran.map((c) => c.slice(0, 3))).toEqual([['reg', 'add', key]]);
    expect(logs.join('\n')).toContain('could not register the native-messaging host');
    expect(readInstallRecord(dataDir)!.browsers).toEqual([]);
    refuse = false;
    expect(look()).toEqual(['Google Chrome']);
    expect(written.at(-1)).toBe(`${dataDir.replaceAll('/', '\\')}\\native-host\\${NATIVE_HOST_NAME}.chromium.json`);
    const record = readInstallRecord(dataDir)!;
    expect(record.browsers).toEqual(['Google Chrome']);
    expect(record.registryKeys).toEqual([key]);
    expect(record.service.unregister).toContainEqual(['reg', 'delete', key, '/f']);
    expect(record.service.unregister.filter((c) => c[0] === 'reg')).toHaveLength(1);
    expect(look()).toEqual([]);
  });
});
