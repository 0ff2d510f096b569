import os from 'node:os';
import path from 'node:path';

export type Platform = 'linux' | 'darwin' | 'win32';

/**
 * Everything install and uninstall learn from the machine, injectable so that the macOS and
 * Windows outputs are produced and checked on Linux: the OS, the home folder and the environment.
 */
export interface ServiceEnv {
  platform: Platform;
  home: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Numeric user id for launchctl's gui/<uid> domain (macOS). */
  uid?: number;
  /** Windows account as DOMAIN\user for the task's logon trigger. */
  windowsUser?: string;
}

export function currentServiceEnv(env: NodeJS.ProcessEnv = process.env): ServiceEnv {
  const platform: Platform = process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux';
  const user = env.USERNAME ?? env.USER;
  return {
    platform,
    home: env.HOME || os.homedir(),
    env,
    ...(typeof process.getuid === 'function' ? { uid: process.getuid() } : {}),
    ...(platform === 'win32' && user ? { windowsUser: env.USERDOMAIN ? `${env.USERDOMAIN}\\${user}` : user } : {}),
  };
}

/** Path arithmetic of the target OS (Windows paths are built with backslashes even on Linux). */
export function pathsOf(platform: Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** The data dir as `mailkeep relay` picks it: $MAILKEEP_DATA_DIR, else ~/.mailkeep. */
export function dataDirOf(se: ServiceEnv): string {
  return se.env.MAILKEEP_DATA_DIR || pathsOf(se.platform).join(se.home, '.mailkeep');
}

/** $XDG_CONFIG_HOME, else ~/.config (XDG Base Directory spec; Linux). */
export function xdgConfigHome(se: ServiceEnv): string {
  const v = se.env.XDG_CONFIG_HOME;
  return v && path.posix.isAbsolute(v) ? v : path.posix.join(se.home, '.config');
}

/** %LOCALAPPDATA% and %APPDATA% with their usual defaults under the profile (Windows). */
export function windowsAppData(se: ServiceEnv): { local: string; roaming: string } {
  const p = path.win32;
  return {
    local: se.env.LOCALAPPDATA || p.join(se.home, 'AppData', 'Local'),
    roaming: se.env.APPDATA || p.join(se.home, 'AppData', 'Roaming'),
  };
}
