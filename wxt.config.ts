import { defineConfig } from 'wxt';
import { EXTENSION_PUBLIC_KEY } from './lib/extension-identity';

export default defineConfig({
  manifestVersion: 3,
  modules: ['@wxt-dev/webextension-polyfill'],
  // relay/ is a Node program: it must never be scanned or bundled as extension code.
  srcDir: '.',
  manifest: {
    name: 'Mailkeep',
    description: 'See at a glance whether your webmail is backed up, and restore it in one click.',
    // Pins the extension ID on every clone (an unpacked extension's ID otherwise depends on its path),
    // so that the relay can check Origin against one fixed chrome-extension:// origin.
    key: EXTENSION_PUBLIC_KEY,
    // nativeMessaging: the worker asks the `mailkeep native-host` (registered by `mailkeep install`)
    // where the relay listens, starting it if needed, so no pairing code is typed.
    permissions: ['storage', 'alarms', 'notifications', 'clipboardWrite', 'downloads', 'nativeMessaging'],
    host_permissions: ['http://127.0.0.1/*'],
    action: { default_title: 'Mailkeep' },
  },
  vite: () => ({
    esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  }),
});
