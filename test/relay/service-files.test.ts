import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTENSION_ORIGIN, FIREFOX_EXTENSION_ID } from '../../lib/extension-identity.ts';
import { NATIVE_HOST_NAME } from '../../lib/protocol/native-host.ts';
import { planInstall, systemdUserManagerRuns, type InstallPlan } from '../../relay/service/install-plan.ts';
import type { ServiceEnv } from '../../relay/service/platform.ts';
import { desktopExecQuote } from '../../relay/service/xdg-autostart.ts';
import { windowsQuote } from '../../relay/service/windows-task.ts';

// The files install writes for each OS, checked by content against the documented formats, with
// real parsers where this machine has one: Python's plistlib (Apple XML plist), Python's XML
// parser (Task Scheduler XML), systemd-analyze verify (systemd unit).

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function python(script: string, input: Buffer | string): unknown {
  const r = spawnSync('python3', ['-c', script], { input, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout);
}

const fileOf = (plan: InstallPlan, end: string) => {
  const f = plan.files.find((x) => x.path.endsWith(end));
  if (!f) throw new Error(`no planned file ending ${end}: ${plan.files.map((x) => x.path).join(', ')}`);
  return f;
};

describe('macOS: LaunchAgent and host manifests', () => {
  const se: ServiceEnv = { platform: 'darwin', home: '/Users/ann', env: {}, uid: 502 };
  const support = '/Users/ann/Library/Application Support';
  const present = new Set([`${support}/Google/Chrome`, `${support}/BraveSoftware/Brave-Browser`, `${support}/Firefox`]);
  const cli = { node: '/opt/homebrew/bin/node', bin: '/Users/ann/Mail keep/bin/mailkeep.js' };
  const plan = planInstall({ se, cli, systemdUser: false, docsPath: '/x/docs/install.md', exists: (d) => present.has(d) });

  it('the plist parses as an Apple XML plist with Label, ProgramArguments, RunAtLoad and KeepAlive', () => {
    const plist = fileOf(plan, '/Users/ann/Library/LaunchAgents/org.mailkeep.relay.plist');
    const parsed = python('import plistlib,sys,json; print(json.dumps(plistlib.loads(sys.stdin.buffer.read(), fmt=plistlib.FMT_XML)))', plist.content as string) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      Label: 'org.mailkeep.relay',
      ProgramArguments: [cli.node, cli.bin, 'relay', '--background', '--data-dir', '/Users/ann/.mailkeep', '--port', '7412'],
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      StandardErrorPath: '/Users/ann/.mailkeep/relay.log',
    });
    expect(plan.register).toEqual([['launchctl', 'bootstrap', 'gui/502', '/Users/ann/Library/LaunchAgents/org.mailkeep.relay.plist']]);
    expect(plan.unregister).toEqual([['launchctl', 'bootout', 'gui/502/org.mailkeep.relay']]);
  });

  it('host manifests go to each installed browser\'s Application Support folder and nowhere else', () => {
    const manifests = plan.files.filter((f) => f.path.endsWith(`${NATIVE_HOST_NAME}.json`)).map((f) => f.path);
    expect(manifests.sort()).toEqual([
      `${support}/BraveSoftware/Brave-Browser/NativeMessagingHosts/${NATIVE_HOST_NAME}.json`,
      `${support}/Google/Chrome/NativeMessagingHosts/${NATIVE_HOST_NAME}.json`,
      `${support}/Mozilla/NativeMessagingHosts/${NATIVE_HOST_NAME}.json`,
    ]);
  });
});

describe('Windows: Task Scheduler task, manifests and registry keys', () => {
  const home = 'C:\\Users\\Bo';
  const se: ServiceEnv = {
    platform: 'win32',
    home,
    env: { LOCALAPPDATA: `${home}\\AppData\\Local`, APPDATA: `${home}\\AppData\\Roaming` },
    windowsUser: 'DESK\\bo',
  };
  const present = new Set([`${home}\\AppData\\Local\\Google\\Chrome\\User Data`, `${home}\\AppData\\Local\\Microsoft\\Edge\\User Data`, `${home}\\AppData\\Roaming\\Mozilla\\Firefox`]);
  const cli = { node: 'C:\\Program Files\\nodejs\\node.exe', bin: 'C:\\Users\\Bo\\mail keep\\bin\\mailkeep.js' };
  const plan = planInstall({ se, cli, systemdUser: false, docsPath: 'x', exists: (d) => present.has(d) });
  const dataDir = `${home}\\.mailkeep`;

  it('the task XML is UTF-16 with a BOM and parses as a Task Scheduler task: logon trigger, no time limit, restart on failure, the relay command', () => {
    const task = fileOf(plan, '\\service\\mailkeep-relay-task.xml').content as Buffer;
    expect([...task.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    const script = `
import sys, json, xml.etree.ElementTree as ET
ns = {'t': 'http://schemas.microsoft.com/windows/2004/02/mit/task'}
root = ET.fromstring(sys.stdin.buffer.read().decode('utf-16'))
g = lambda p: (root.find(p, ns).text if root.find(p, ns) is not None else None)
print(json.dumps({'tag': root.tag, 'version': root.get('version'), 'logonUser': g('t:Triggers/t:LogonTrigger/t:UserId'),
  'logonType': g('t:Principals/t:Principal/t:LogonType'), 'runLevel': g('t:Principals/t:Principal/t:RunLevel'),
  'limit': g('t:Settings/t:ExecutionTimeLimit'), 'restart': g('t:Settings/t:RestartOnFailure/t:Count'),
  'batteries': g('t:Settings/t:DisallowStartIfOnBatteries'), 'command': g('t:Actions/t:Exec/t:Command'), 'args': g('t:Actions/t:Exec/t:Arguments'),
  'context': root.find('t:Actions', ns).get('Context'), 'principal': root.find('t:Principals/t:Principal', ns).get('id')}))`;
    expect(python(script, task)).toEqual({
      tag: '{http://schemas.microsoft.com/windows/2004/02/mit/task}Task',
      version: '1.2',
      logonUser: 'DESK\\bo',
      logonType: 'InteractiveToken',
      runLevel: 'LeastPrivilege',
      limit: 'PT0S',
      restart: '999',
      batteries: 'false',
      command: cli.node,
      args: `"${cli.bin}" relay --background --data-dir ${dataDir} --port 7412`,
      context: 'Author',
      principal: 'Author',
    });
    expect(plan.register).toContainEqual(['schtasks', '/Create', '/TN', 'Mailkeep Relay', '/XML', `${dataDir}\\service\\mailkeep-relay-task.xml`, '/F']);
  });

  it('registers one HKCU key per browser vendor present, each naming the manifest of its family', () => {
    const adds = plan.register.filter((c) => c[0] === 'reg');
    expect(adds).toEqual([
      ['reg', 'add', `HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\${NATIVE_HOST_NAME}`, '/ve', '/t', 'REG_SZ', '/d', `${dataDir}\\native-host\\${NATIVE_HOST_NAME}.chromium.json`, '/f'],
      ['reg', 'add', `HKCU\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\${NATIVE_HOST_NAME}`, '/ve', '/t', 'REG_SZ', '/d', `${dataDir}\\native-host\\${NATIVE_HOST_NAME}.chromium.json`, '/f'],
      ['reg', 'add', `HKCU\\Software\\Mozilla\\NativeMessagingHosts\\${NATIVE_HOST_NAME}`, '/ve', '/t', 'REG_SZ', '/d', `${dataDir}\\native-host\\${NATIVE_HOST_NAME}.firefox.json`, '/f'],
    ]);
    expect(plan.unregister.filter((c) => c[0] === 'reg').map((c) => c[2])).toEqual(adds.map((c) => c[2]));
    const manifest = JSON.parse(fileOf(plan, `${NATIVE_HOST_NAME}.chromium.json`).content as string);
    expect(manifest.path).toBe(`${dataDir}\\native-host\\mailkeep-native-host.cmd`);
  });

  it('the .cmd launcher echoes nothing, quotes the paths and passes the browser\'s arguments on', () => {
    const cmd = fileOf(plan, 'mailkeep-native-host.cmd').content as string;
    const lines = cmd.split('\r\n');
    expect(lines[0]).toBe('@echo off');
    expect(lines[2]).toBe(`"${cli.node}" "${cli.bin}" native-host --data-dir "${dataDir}" %*`);
  });

  it('Windows arguments are quoted the way CommandLineToArgvW splits them', () => {
    expect(windowsQuote('plain')).toBe('plain');
    expect(windowsQuote('a b')).toBe('"a b"');
    expect(windowsQuote('C:\\dir with space\\')).toBe('"C:\\dir with space\\\\"');
    expect(windowsQuote('say "hi"')).toBe('"say \\"hi\\""');
  });
});

describe('Linux: systemd user unit, XDG autostart entry and host manifests', () => {
  const home = '/home/cy';
  const se: ServiceEnv = { platform: 'linux', home, env: { XDG_CONFIG_HOME: '/home/cy/cfg' } };
  const present = new Set(['/home/cy/cfg/google-chrome', '/home/cy/cfg/chromium', '/home/cy/.mozilla']);
  // A bin path with the characters each format must escape.
  const cli = { node: process.execPath, bin: '/home/cy/my mail 100% $HOME/bin/mailkeep.js' };

  it('the unit passes systemd-analyze verify, restarts on failure and starts with the user session', () => {
    const plan = planInstall({ se, cli, systemdUser: true, docsPath: '/x/docs/install.md', exists: (d) => present.has(d) });
    const unit = fileOf(plan, '/home/cy/cfg/systemd/user/mailkeep-relay.service');
    const text = unit.content as string;
    expect(text).toMatch(/^Restart=on-failure$/m);
    expect(text).toMatch(/^WantedBy=default\.target$/m);
    expect(text).toContain(`ExecStart="${process.execPath}" "/home/cy/my mail 100%% $$HOME/bin/mailkeep.js" "relay" "--background" "--data-dir" "/home/cy/.mailkeep" "--port" "7412"`);
    expect(plan.register).toEqual([
      ['systemctl', '--user', 'daemon-reload'],
      ['systemctl', '--user', 'enable', 'mailkeep-relay.service'],
    ]);
    expect(plan.unregister[0]).toEqual(['systemctl', '--user', 'disable', '--now', 'mailkeep-relay.service']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-unit-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, 'mailkeep-relay.service'), text);
    const r = spawnSync('systemd-analyze', ['verify', path.join(dir, 'mailkeep-relay.service')], { encoding: 'utf8', timeout: 30_000 });
    if (r.error && process.env.CI) throw r.error;
    if (!r.error) {
      // It warns about a line it ignores ("Failed to parse ...") and still exits 0: no line may mention the unit.
      expect(`${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('mailkeep-relay.service'))).toEqual([]);
      expect(r.status).toBe(0);
    }
  });

  it('without a user manager, an XDG autostart entry runs the same command at login', () => {
    const plan = planInstall({ se, cli, systemdUser: false, docsPath: 'x', exists: (d) => present.has(d) });
    expect(plan.kind).toBe('xdg-autostart');
    const text = fileOf(plan, '/home/cy/cfg/autostart/mailkeep-relay.desktop').content as string;
    expect(text.split('\n')).toEqual(expect.arrayContaining(['[Desktop Entry]', 'Type=Application', 'Terminal=false']));
    expect(text).not.toMatch(/^Hidden=true/m); // Hidden=true would mean "deleted"
    expect(text).toContain(`Exec=${desktopExecQuote(process.execPath)} "/home/cy/my mail 100%% \\\\$HOME/bin/mailkeep.js" "relay"`);
    expect(plan.register).toEqual([]);
    expect(plan.start).toEqual([]);
  });

  it('host manifests go to each installed browser under $XDG_CONFIG_HOME (Firefox: ~/.mozilla), with the pinned caller only', () => {
    const plan = planInstall({ se, cli, systemdUser: false, docsPath: 'x', exists: (d) => present.has(d) });
    const launcher = '/home/cy/.mailkeep/native-host/mailkeep-native-host';
    const manifests = plan.files.filter((f) => f.path.endsWith(`/${NATIVE_HOST_NAME}.json`));
    expect(manifests.map((f) => f.path).sort()).toEqual([
      `/home/cy/.mozilla/native-messaging-hosts/${NATIVE_HOST_NAME}.json`,
      `/home/cy/cfg/chromium/NativeMessagingHosts/${NATIVE_HOST_NAME}.json`,
      `/home/cy/cfg/google-chrome/NativeMessagingHosts/${NATIVE_HOST_NAME}.json`,
    ]);
    for (const f of manifests) {
      const m = JSON.parse(f.content as string);
      expect(m).toMatchObject({ name: NATIVE_HOST_NAME, path: launcher, type: 'stdio' });
      expect(m.name).toMatch(/^[a-z0-9_]+(\.[a-z0-9_]+)*$/);
      const firefox = f.path.includes('.mozilla');
      // Each family gets only its own key: Firefox refuses a manifest with allowed_origins.
      expect(m.allowed_extensions).toEqual(firefox ? [FIREFOX_EXTENSION_ID] : undefined);
      expect(m.allowed_origins).toEqual(firefox ? undefined : [`${EXTENSION_ORIGIN}/`]);
    }
    const sh = fileOf(plan, launcher);
    expect(sh.mode).toBe(0o755);
    expect(sh.content).toContain(`exec '${process.execPath}' '/home/cy/my mail 100% $HOME/bin/mailkeep.js' native-host --data-dir '/home/cy/.mailkeep' "$@"`);
  });

  it('a user manager counts only when its runtime folder exists and it answers with a live state', () => {
    const rt = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-rt-'));
    dirs.push(rt);
    const answer = (state: string) => () => ({ ok: state === 'running', output: `${state}\n` });
    const withRt: ServiceEnv = { ...se, env: { XDG_RUNTIME_DIR: rt } };
    expect(systemdUserManagerRuns(withRt, answer('running'))).toBe(false); // no rt/systemd yet
    fs.mkdirSync(path.join(rt, 'systemd'));
    expect(systemdUserManagerRuns(withRt, answer('running'))).toBe(true);
    expect(systemdUserManagerRuns(withRt, answer('degraded'))).toBe(true);
    expect(systemdUserManagerRuns(withRt, answer('offline'))).toBe(false);
    expect(systemdUserManagerRuns({ ...se, env: {} }, answer('running'))).toBe(false);
  });
});
