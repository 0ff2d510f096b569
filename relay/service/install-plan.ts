import fs from 'node:fs';
import { DEFAULT_RELAY_PORT } from '../../lib/protocol/http.ts';
import { NATIVE_HOST_NAME } from '../../lib/protocol/native-host.ts';
import { installedBrowsers, type BrowserFamily, type BrowserTarget } from './browsers.ts';
import { hostLauncher, hostManifest } from './host-manifest.ts';
import type { Command, ServiceKind } from './install-record.ts';
import { launchdPlist, LAUNCHD_LABEL } from './launchd-plist.ts';
import { RELAY_LOG_FILE } from './log-file.ts';
import { dataDirOf, pathsOf, xdgConfigHome, type ServiceEnv } from './platform.ts';
import { relayCommand } from './relay-launch.ts';
import { systemdUnit, SYSTEMD_UNIT_NAME } from './systemd-unit.ts';
import { windowsTaskFile, windowsTaskXml, WINDOWS_TASK_NAME } from './windows-task.ts';
import { autostartEntry, AUTOSTART_FILE_NAME } from './xdg-autostart.ts';

export interface PlannedFile {
  path: string;
  content: string | Buffer;
  mode: number;
  /** For the printout: what this file is. */
  what: string;
}

/** Everything `mailkeep install` will do, computed without touching anything. */
export interface InstallPlan {
  dataDir: string;
  port: number;
  kind: ServiceKind;
  files: PlannedFile[];
  /** Run after the files are written (systemctl enable, launchctl bootstrap, schtasks /Create, reg add). */
  register: Command[];
  /** Starts the registered service now; empty for XDG autostart (the relay is spawned instead). */
  start: Command[];
  /** Undoes `register` (uninstall), before the files go. */
  unregister: Command[];
  registryKeys: string[];
  browsers: BrowserTarget[];
}

export interface PlanOptions {
  se: ServiceEnv;
  cli: { node: string; bin: string };
  dataDir?: string;
  port?: number;
  /** Whether a `systemd --user` manager runs (Linux); see systemdUserManagerRuns. */
  systemdUser: boolean;
  /** docs/install.md, linked from the unit. */
  docsPath: string;
  exists?: (dir: string) => boolean;
}

export function hostLauncherPath(se: ServiceEnv, dataDir: string): string {
  return pathsOf(se.platform).join(dataDir, 'native-host', se.platform === 'win32' ? 'mailkeep-native-host.cmd' : 'mailkeep-native-host');
}

/**
 * The native host's registration for these browsers (the launcher itself is written by install):
 * a manifest per browser (Linux, macOS), or a manifest per family and a registry key per vendor
 * (Windows). Used by install, and by the relay for a browser that appears later (browser-watch.ts).
 */
export function hostRegistration(se: ServiceEnv, dataDir: string, browsers: BrowserTarget[]): Pick<InstallPlan, 'files' | 'register' | 'unregister' | 'registryKeys'> {
  const p = pathsOf(se.platform);
  const launcher = hostLauncherPath(se, dataDir);
  const files: PlannedFile[] = [];
  const register: Command[] = [];
  const unregister: Command[] = [];
  const registryKeys: string[] = [];
  if (se.platform === 'win32') {
    const families = [...new Set(browsers.map((b) => b.family))] as BrowserFamily[];
    const manifestOf = (f: BrowserFamily) => p.join(dataDir, 'native-host', `${NATIVE_HOST_NAME}.${f}.json`);
    for (const f of families) files.push({ path: manifestOf(f), content: hostManifest(f, launcher), mode: 0o644, what: `native-messaging host manifest (${f})` });
    for (const key of [...new Set(browsers.map((b) => b.registryKey!))]) {
      const family = browsers.find((b) => b.registryKey === key)!.family;
      registryKeys.push(key);
      register.push(['reg', 'add', key, '/ve', '/t', 'REG_SZ', '/d', manifestOf(family), '/f']);
      unregister.push(['reg', 'delete', key, '/f']);
    }
  } else {
    for (const b of browsers) {
      files.push({ path: p.join(b.manifestDir!, `${NATIVE_HOST_NAME}.json`), content: hostManifest(b.family, launcher), mode: 0o644, what: `native-messaging host manifest for ${b.name}` });
    }
  }
  return { files, register, unregister, registryKeys };
}

export function planInstall(opts: PlanOptions): InstallPlan {
  const { se } = opts;
  const p = pathsOf(se.platform);
  const dataDir = opts.dataDir ?? dataDirOf(se);
  const port = opts.port ?? DEFAULT_RELAY_PORT;
  const command = relayCommand(dataDir, port, opts.cli);
  const browsers = installedBrowsers(se, opts.exists);
  const files: PlannedFile[] = [];
  const register: Command[] = [];
  const start: Command[] = [];
  const unregister: Command[] = [];
  const registryKeys: string[] = [];

  // The native host: one launcher, and a manifest per browser (Linux, macOS) or per family (Windows).
  const launcher = hostLauncherPath(se, dataDir);
  files.push({ path: launcher, content: hostLauncher(se.platform, opts.cli.node, opts.cli.bin, dataDir), mode: 0o755, what: 'native-messaging host launcher' });
  const host = hostRegistration(se, dataDir, browsers);
  files.push(...host.files);
  register.push(...host.register);
  unregister.push(...host.unregister);
  registryKeys.push(...host.registryKeys);

  // Start at login, keep running.
  let kind: ServiceKind;
  if (se.platform === 'linux' && opts.systemdUser) {
    kind = 'systemd';
    const unit = p.join(xdgConfigHome(se), 'systemd', 'user', SYSTEMD_UNIT_NAME);
    files.push({ path: unit, content: systemdUnit(command, opts.docsPath), mode: 0o644, what: 'systemd user unit' });
    register.push(['systemctl', '--user', 'daemon-reload'], ['systemctl', '--user', 'enable', SYSTEMD_UNIT_NAME]);
    start.push(['systemctl', '--user', 'start', SYSTEMD_UNIT_NAME]);
    unregister.push(['systemctl', '--user', 'disable', '--now', SYSTEMD_UNIT_NAME], ['systemctl', '--user', 'daemon-reload']);
  } else if (se.platform === 'linux') {
    kind = 'xdg-autostart';
    files.push({ path: p.join(xdgConfigHome(se), 'autostart', AUTOSTART_FILE_NAME), content: autostartEntry(command), mode: 0o644, what: 'XDG autostart entry' });
  } else if (se.platform === 'darwin') {
    kind = 'launchd';
    const plist = p.join(se.home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
    const domain = `gui/${se.uid ?? 501}`;
    files.push({ path: plist, content: launchdPlist(command, p.join(dataDir, RELAY_LOG_FILE), dataDir), mode: 0o644, what: 'launchd LaunchAgent' });
    register.push(['launchctl', 'bootstrap', domain, plist]);
    start.push(['launchctl', 'kickstart', `${domain}/${LAUNCHD_LABEL}`]);
    unregister.push(['launchctl', 'bootout', `${domain}/${LAUNCHD_LABEL}`]);
  } else {
    kind = 'windows-task';
    const xmlFile = p.join(dataDir, 'service', 'mailkeep-relay-task.xml');
    files.push({ path: xmlFile, content: windowsTaskFile(windowsTaskXml(command, se.windowsUser, dataDir)), mode: 0o644, what: 'Task Scheduler task definition' });
    register.push(['schtasks', '/Create', '/TN', WINDOWS_TASK_NAME, '/XML', xmlFile, '/F']);
    start.push(['schtasks', '/Run', '/TN', WINDOWS_TASK_NAME]);
    unregister.push(['schtasks', '/End', '/TN', WINDOWS_TASK_NAME], ['schtasks', '/Delete', '/TN', WINDOWS_TASK_NAME, '/F']);
  }
  return { dataDir, port, kind, files, register, start, unregister, registryKeys, browsers };
}

/**
 * Does a `systemd --user` manager run for this user? Its private runtime folder exists and it
 * answers `is-system-running` with a live state ("degraded" counts: one failed unit elsewhere).
 * A container or a login without a user manager answers "offline" or nothing.
 */
export function systemdUserManagerRuns(se: ServiceEnv, run: (c: Command) => { ok: boolean; output: string }): boolean {
  if (se.platform !== 'linux') return false;
  const runtime = se.env.XDG_RUNTIME_DIR;
  if (!runtime || !fs.existsSync(pathsOf('linux').join(runtime, 'systemd'))) return false;
  const state = run(['systemctl', '--user', 'is-system-running']).output.split('\n')[0]?.trim();
  return state === 'running' || state === 'degraded' || state === 'starting' || state === 'initializing';
}
