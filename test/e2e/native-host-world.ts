/// <reference types="chrome" />
/**
 * A browser profile with the Mailkeep native-messaging host registered, as `mailkeep install` does
 * for a real profile, but where Chromium looks with a custom --user-data-dir:
 * `<user-data-dir>/NativeMessagingHosts/org.mailkeep.relay.json` (notes: integration-recipes.md
 * 2.2). The manifest names a launcher script in a temp dir that runs the real
 * `node bin/mailkeep.js native-host` on the test's data dir, with the relay's documented test
 * clock (docs/cli.md, "Test hook") so a test can move the relay's wall clock past a scheduled slot.
 * No relay runs until the extension asks the host for one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';
import { NATIVE_HOST_NAME } from '../../lib/protocol/native-host.ts';
import { parseOwner } from '../../relay/lock/lock-file.ts';
import { runCli } from '../relay/relay-harness.ts';
import { CHROMIUM, EXT_DIR } from './fixtures';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface HostedProfile {
  dir: string;
  userDataDir: string;
  dataDir: string;
  /** While this file exists the launcher exits at once: a host that cannot start the relay. */
  blockFile: string;
  /** Moves the relay's wall clock `ms` further (a sleeping machine waking, as the relay sees it). */
  advanceRelayClock(ms: number): void;
  /** The running relay's pid and port from its `relay.lock`, or null when none runs. */
  relay(): { pid: number; port: number | null } | null;
  /** `mailkeep status --json` of the data dir (through the running relay when there is one). */
  status(): Promise<StatusJson>;
  launch(): Promise<{ context: BrowserContext; open(pathAndHash: string): Promise<Page> }>;
  /** Stops a relay left running (SIGTERM) and removes every temp file. */
  cleanUp(): Promise<void>;
}

export interface StatusJson {
  relayRunning: boolean;
  accounts: { id: string; statusId: string | null; lastSuccessAt: string | null; messages: number | null }[];
}

export function hostedProfile(): HostedProfile {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-native-'));
  const userDataDir = path.join(dir, 'profile');
  const dataDir = path.join(dir, 'data');
  const clockFile = path.join(dir, 'relay-clock.json');
  const blockFile = path.join(dir, 'block-host');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  let offsetMs = 0;
  const writeClock = () => fs.writeFileSync(clockFile, JSON.stringify({ offsetMs, jitterMaxMs: 0 }));
  writeClock();
  const launcher = path.join(dir, 'mailkeep-native-host');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  fs.writeFileSync(
    launcher,
    [
      '#!/bin/sh',
      `[ -e ${q(blockFile)} ] && exit 1`,
      `MAILKEEP_TEST_CLOCK_FILE=${q(clockFile)} exec ${q(process.execPath)} ${q(path.join(ROOT, 'bin/mailkeep.js'))} native-host --port 0 --data-dir ${q(dataDir)} "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const manifest = path.join(userDataDir, 'NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`);
  fs.mkdirSync(path.dirname(manifest), { recursive: true });
  fs.writeFileSync(
    manifest,
    JSON.stringify({ name: NATIVE_HOST_NAME, description: 'Mailkeep (test)', path: launcher, type: 'stdio', allowed_origins: [`${EXTENSION_ORIGIN}/`] }, null, 2),
  );
  const relay = () => {
    try {
      const owner = parseOwner(fs.readFileSync(path.join(dataDir, 'relay.lock'), 'utf8'));
      if (!owner) return null;
      process.kill(owner.pid, 0);
      return { pid: owner.pid, port: owner.port ?? null };
    } catch {
      return null;
    }
  };
  return {
    dir,
    userDataDir,
    dataDir,
    blockFile,
    advanceRelayClock(ms) {
      offsetMs += ms;
      writeClock();
    },
    relay,
    async status() {
      const r = await runCli(['status', '--json', '--data-dir', dataDir]);
      return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as StatusJson;
    },
    async launch() {
      const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1280, height: 900 },
        args: [`--disable-extensions-except=${EXT_DIR}`, `--load-extension=${EXT_DIR}`, '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
      const id = new URL(worker.url()).host;
      return {
        context,
        async open(pathAndHash) {
          const page = await context.newPage();
          await page.goto(`chrome-extension://${id}/${pathAndHash.replace(/^\//, '')}`);
          return page;
        },
      };
    },
    async cleanUp() {
      const r = relay();
      if (r) {
        process.kill(r.pid, 'SIGTERM');
        const deadline = Date.now() + 15_000;
        while (relay() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
