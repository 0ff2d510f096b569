import fs from 'node:fs';
import path from 'node:path';
import { NATIVE_HOST_NAME } from '../../lib/protocol/native-host.ts';
import { hostLauncher, hostManifest } from '../../relay/service/host-manifest.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * For end-to-end tests in Chromium: registers the native-messaging host in a test profile, where
 * Chromium looks with a custom --user-data-dir (`<user-data-dir>/NativeMessagingHosts/`, not
 * ~/.config/chromium: notes/integration-recipes.md section 2.2). The launcher is the one
 * `mailkeep install` writes, with `--port` added so a relay it starts takes a free port (0) or
 * the test's. Returns the files, for the test to inspect or remove.
 */
export function registerNativeHostInProfile(opts: { userDataDir: string; dataDir: string; port?: number }): { launcher: string; manifest: string } {
  const launcher = path.join(opts.dataDir, 'native-host', 'mailkeep-native-host');
  fs.mkdirSync(path.dirname(launcher), { recursive: true, mode: 0o700 });
  const script = hostLauncher('linux', process.execPath, path.join(ROOT, 'bin/mailkeep.js'), opts.dataDir).replace(
    ' native-host --data-dir ',
    ` native-host --port ${opts.port ?? 0} --data-dir `,
  );
  fs.writeFileSync(launcher, script, { mode: 0o755 });
  const manifest = path.join(opts.userDataDir, 'NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`);
  fs.mkdirSync(path.dirname(manifest), { recursive: true });
  fs.writeFileSync(manifest, hostManifest('chromium', launcher));
  return { launcher, manifest };
}
