import { EXTENSION_ORIGIN, FIREFOX_EXTENSION_ID } from '../../lib/extension-identity.ts';
import { NATIVE_HOST_NAME } from '../../lib/protocol/native-host.ts';
import type { BrowserFamily } from './browsers.ts';
import type { Platform } from './platform.ts';

/**
 * The native-messaging host manifest (developer.chrome.com "Native messaging host"; MDN "Native
 * manifests"). Chromium browsers allow callers by origin (`allowed_origins`, exact, with the
 * trailing slash), Firefox by add-on ID (`allowed_extensions`) and refuses the other key, so each
 * family gets its own file. `path` must be absolute on Linux and macOS and cannot carry arguments:
 * it names the launcher below.
 */
export function hostManifest(family: BrowserFamily, launcher: string): string {
  const allowed = family === 'firefox' ? { allowed_extensions: [FIREFOX_EXTENSION_ID] } : { allowed_origins: [`${EXTENSION_ORIGIN}/`] };
  return `${JSON.stringify({ name: NATIVE_HOST_NAME, description: 'Mailkeep: starts the local relay and lets the extension pair with it', path: launcher, type: 'stdio', ...allowed }, null, 2)}\n`;
}

const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
/** cmd.exe: quotes around the argument, `%` doubled (no variable expansion in a batch file). */
const cmdQuote = (s: string): string => `"${s.replace(/%/g, '%%').replace(/"/g, '""')}"`;

/**
 * The executable the manifest names: node and bin/mailkeep.js by absolute path (the browser's PATH
 * may not hold node), the data dir fixed at install, then the browser's own arguments (the caller
 * origin) passed on. `exec` so the browser's pipes and signals reach node directly.
 */
export function hostLauncher(platform: Platform, node: string, bin: string, dataDir: string): string {
  if (platform === 'win32') {
    return ['@echo off', 'rem Written by `mailkeep install`; `mailkeep uninstall` removes it.', `${cmdQuote(node)} ${cmdQuote(bin)} native-host --data-dir ${cmdQuote(dataDir)} %*`, ''].join('\r\n');
  }
  return [
    '#!/bin/sh',
    '# Mailkeep native-messaging host, written by `mailkeep install`; `mailkeep uninstall` removes it.',
    '# Browsers start it with the caller origin as argument; a host manifest cannot pass arguments itself.',
    `exec ${shQuote(node)} ${shQuote(bin)} native-host --data-dir ${shQuote(dataDir)} "$@"`,
    '',
  ].join('\n');
}
