import { defineConfig } from 'wxt';
import path from 'node:path';
import type { Plugin } from 'vite';
import { EXTENSION_PUBLIC_KEY } from './lib/extension-identity';

/**
 * The pages (popup, dashboard, options, ...) are built together, and Rollup splits the code they
 * share into one chunk per combination of pages using it: the popup fetched twelve files before
 * its first paint, each one a request through the browser process. Here the popup's own imports go
 * into one chunk ("popup-shared") and everything else the pages share into another ("pages"), so
 * the popup loads two files and evaluates none of the other pages' code; the other pages load
 * three. The service worker's build (one input) is left alone.
 */
function pagesShareTwoChunks(): Plugin {
  let pages = 0;
  const isEntry = (id: string) => path.relative(process.cwd(), id).startsWith(`entrypoints${path.sep}`);
  return {
    name: 'mailkeep-pages-share-two-chunks',
    options(input) {
      pages = typeof input.input === 'object' ? Object.keys(input.input).length : 1;
      return null;
    },
    outputOptions(output) {
      if (pages < 2) return null;
      let popupGraph: Set<string> | undefined;
      return {
        ...output,
        manualChunks: (id, { getModuleIds, getModuleInfo }) => {
          if (isEntry(id)) return undefined;
          if (!popupGraph) {
            // Everything the popup's entry imports statically, at any depth.
            popupGraph = new Set();
            const todo = [...getModuleIds()].filter((m) => path.relative(process.cwd(), m).startsWith(`entrypoints${path.sep}popup${path.sep}`));
            for (let m = todo.pop(); m !== undefined; m = todo.pop()) {
              for (const next of getModuleInfo(m)?.importedIds ?? []) {
                if (!popupGraph.has(next)) {
                  popupGraph.add(next);
                  todo.push(next);
                }
              }
            }
          }
          return popupGraph.has(id) ? 'popup-shared' : 'pages';
        },
      };
    },
  };
}

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
    plugins: [pagesShareTwoChunks()],
  }),
});
