import fs from 'node:fs';
import { NATIVE_HOST_NAME } from '../../lib/protocol/native-host.ts';
import { pathsOf, windowsAppData, xdgConfigHome, type ServiceEnv } from './platform.ts';

/**
 * Where each browser looks for a per-user native-messaging host manifest, and how to tell it is
 * installed (its profile folder exists). Sources: developer.chrome.com "Native messaging host
 * location", MDN "Native manifests" (Manifest location), learn.microsoft.com "Native messaging"
 * (Edge), Brave's and Vivaldi's folders as their users report them. On Windows the manifest is a
 * file anywhere and a registry key under HKCU names it; Chromium derivatives without their own key
 * (Brave, Vivaldi) read Google Chrome's.
 */
export type BrowserFamily = 'chromium' | 'firefox';

export interface BrowserTarget {
  id: string;
  name: string;
  family: BrowserFamily;
  /** A folder that exists when the browser has been run by this user. */
  profileDir: string;
  /** Linux, macOS: the folder for `<host name>.json`. */
  manifestDir?: string;
  /** Windows: HKCU key whose default value is the manifest's path. */
  registryKey?: string;
}

export function browserTargets(se: ServiceEnv): BrowserTarget[] {
  const p = pathsOf(se.platform);
  if (se.platform === 'linux') {
    const cfg = xdgConfigHome(se);
    const chromium = (id: string, name: string, dir: string): BrowserTarget => ({
      id,
      name,
      family: 'chromium',
      profileDir: p.join(cfg, dir),
      manifestDir: p.join(cfg, dir, 'NativeMessagingHosts'),
    });
    return [
      chromium('chrome', 'Google Chrome', 'google-chrome'),
      chromium('chrome-beta', 'Google Chrome Beta', 'google-chrome-beta'),
      chromium('chrome-dev', 'Google Chrome Dev', 'google-chrome-unstable'),
      chromium('chromium', 'Chromium', 'chromium'),
      chromium('brave', 'Brave', p.join('BraveSoftware', 'Brave-Browser')),
      chromium('edge', 'Microsoft Edge', 'microsoft-edge'),
      chromium('edge-beta', 'Microsoft Edge Beta', 'microsoft-edge-beta'),
      chromium('edge-dev', 'Microsoft Edge Dev', 'microsoft-edge-dev'),
      chromium('vivaldi', 'Vivaldi', 'vivaldi'),
      {
        id: 'firefox',
        name: 'Firefox',
        family: 'firefox',
        profileDir: p.join(se.home, '.mozilla'),
        manifestDir: p.join(se.home, '.mozilla', 'native-messaging-hosts'),
      },
    ];
  }
  if (se.platform === 'darwin') {
    const support = p.join(se.home, 'Library', 'Application Support');
    const chromium = (id: string, name: string, dir: string): BrowserTarget => ({
      id,
      name,
      family: 'chromium',
      profileDir: p.join(support, dir),
      manifestDir: p.join(support, dir, 'NativeMessagingHosts'),
    });
    return [
      chromium('chrome', 'Google Chrome', p.join('Google', 'Chrome')),
      chromium('chrome-beta', 'Google Chrome Beta', p.join('Google', 'Chrome Beta')),
      chromium('chrome-canary', 'Google Chrome Canary', p.join('Google', 'Chrome Canary')),
      chromium('chromium', 'Chromium', 'Chromium'),
      chromium('brave', 'Brave', p.join('BraveSoftware', 'Brave-Browser')),
      chromium('edge', 'Microsoft Edge', 'Microsoft Edge'),
      chromium('vivaldi', 'Vivaldi', 'Vivaldi'),
      {
        id: 'firefox',
        name: 'Firefox',
        family: 'firefox',
        profileDir: p.join(support, 'Firefox'),
        manifestDir: p.join(support, 'Mozilla', 'NativeMessagingHosts'),
      },
    ];
  }
  const { local, roaming } = windowsAppData(se);
  const key = (vendor: string) => `HKCU\\Software\\${vendor}\\NativeMessagingHosts\\${NATIVE_HOST_NAME}`;
  return [
    // Brave and Vivaldi read Google Chrome's key, so one key serves the three.
    { id: 'chrome', name: 'Google Chrome', family: 'chromium', profileDir: p.join(local, 'Google', 'Chrome', 'User Data'), registryKey: key('Google\\Chrome') },
    { id: 'brave', name: 'Brave', family: 'chromium', profileDir: p.join(local, 'BraveSoftware', 'Brave-Browser', 'User Data'), registryKey: key('Google\\Chrome') },
    { id: 'vivaldi', name: 'Vivaldi', family: 'chromium', profileDir: p.join(local, 'Vivaldi', 'User Data'), registryKey: key('Google\\Chrome') },
    { id: 'chromium', name: 'Chromium', family: 'chromium', profileDir: p.join(local, 'Chromium', 'User Data'), registryKey: key('Chromium') },
    { id: 'edge', name: 'Microsoft Edge', family: 'chromium', profileDir: p.join(local, 'Microsoft', 'Edge', 'User Data'), registryKey: key('Microsoft\\Edge') },
    { id: 'firefox', name: 'Firefox', family: 'firefox', profileDir: p.join(roaming, 'Mozilla', 'Firefox'), registryKey: key('Mozilla') },
  ];
}

/** The browsers this user has (their profile folder exists). */
export function installedBrowsers(se: ServiceEnv, exists: (dir: string) => boolean = (d) => fs.existsSync(d)): BrowserTarget[] {
  return browserTargets(se).filter((b) => exists(b.profileDir));
}
