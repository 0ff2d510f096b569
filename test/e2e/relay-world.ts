/// <reference types="chrome" />
/**
 * The whole product for end-to-end tests, started as a person would have it: a real Dovecot with a
 * mailbox of sample mail (behind a proxy that can slow it down or follow it to a new port), the
 * relay process (`mailkeep relay`), and Chromium with the built extension. One world per spec file:
 * starting all three costs seconds on a shared 2-core machine.
 */
import fs from 'node:fs';
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startSlowProxy, type SlowProxy } from '../support/slow-proxy.ts';
import { RelayProcess, runCli, tempDataDir } from '../relay/relay-harness.ts';
import { CHROMIUM, EXT_DIR } from './fixtures';

export const MAIL_USER = { name: 'alice', password: 'alice-E2E-pw-4711' };

export interface World {
  dovecot: Dovecot;
  proxy: SlowProxy;
  relay: RelayProcess;
  dataDir: string;
  context: BrowserContext;
  extensionId: string;
  open(pathAndHash: string): Promise<Page>;
  /** Adds `count` generated messages to the mailbox (a later backup has something to fetch). */
  addMail(count: number, seed: number): Promise<void>;
  setServerPassword(password: string): void;
  /** SIGTERM the relay and start it again on the same port and data dir (the pairing survives). */
  restartRelay(): Promise<void>;
  restartDovecot(): Promise<void>;
  close(): Promise<void>;
}

/** Dovecot missing: a skip locally, a failure under CI (dovecotAvailable throws there). */
export function worldAvailable(): boolean {
  return dovecotAvailable();
}

export async function launchExtension(): Promise<{ context: BrowserContext; extensionId: string }> {
  const context = await chromium.launchPersistentContext('', {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [`--disable-extensions-except=${EXT_DIR}`, `--load-extension=${EXT_DIR}`, '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  return { context, extensionId: new URL(worker.url()).host };
}

export async function startWorld(initialMessages: number): Promise<World> {
  let dovecot = await startDovecot({ users: [MAIL_USER] });
  const proxy = await startSlowProxy(dovecot.port);
  const dataDir = tempDataDir();
  let relay = await RelayProcess.start(dataDir);
  const { context, extensionId } = await launchExtension();
  let seed = 100;
  let currentPassword = MAIL_USER.password;
  const world: World = {
    get dovecot() {
      return dovecot;
    },
    proxy,
    get relay() {
      return relay;
    },
    dataDir,
    context,
    extensionId,
    async open(pathAndHash) {
      const page = await context.newPage();
      await page.goto(`chrome-extension://${extensionId}/${pathAndHash.replace(/^\//, '')}`);
      return page;
    },
    async addMail(count, s = ++seed) {
      const imap = await dovecot.client(MAIL_USER.name, currentPassword);
      for (const raw of generatedMessages(count, s)) await imap.append('INBOX', raw, []);
      await imap.logout();
    },
    setServerPassword(password) {
      // Dovecot's passwd-file is re-read when it changes: the next login sees the new password.
      currentPassword = password;
      fs.writeFileSync(`${dovecot.dir}/users`, `${MAIL_USER.name}:{PLAIN}${password}::::::\n`);
    },
    async restartRelay() {
      const port = relay.port;
      await relay.stop();
      const next = RelayProcess.spawn(['relay', '--port', String(port), '--data-dir', dataDir]);
      await next.waitForOutput(/listening on http:\/\/127\.0\.0\.1:\d+/, 20_000);
      next.port = port;
      relay = next;
    },
    async restartDovecot() {
      dovecot = await startDovecot({ users: [{ name: MAIL_USER.name, password: currentPassword }], dir: dovecot.dir });
      proxy.retarget(dovecot.port);
    },
    async close() {
      await context.close().catch(() => undefined);
      await world.relay.stop().catch(() => undefined);
      proxy.close();
      await dovecot.stop().catch(() => undefined);
      fs.rmSync(dovecot.dir, { recursive: true, force: true });
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await world.addMail(initialMessages, 1);
  return world;
}

/** `mailkeep verify --json` of an account's archive: ok and the number of messages it holds. */
export async function verifyArchive(dataDir: string, accountId: string): Promise<{ code: number | null; ok: boolean; messages: number }> {
  const r = await runCli(['verify', '--json', '--archive', `${dataDir}/archives/${accountId}`]);
  const line = r.stdout.trim().split('\n').at(-1) ?? '{}';
  const parsed = JSON.parse(line) as { ok?: boolean; messages?: number };
  return { code: r.code, ok: parsed.ok === true, messages: parsed.messages ?? 0 };
}

/** Badge text and colour, read from an extension page. */
export async function badgeOf(page: Page): Promise<{ text: string; colour: number[]; title: string }> {
  return page.evaluate(async () => ({
    text: await chrome.action.getBadgeText({}),
    colour: (await chrome.action.getBadgeBackgroundColor({})) as number[],
    title: await chrome.action.getTitle({}),
  }));
}
