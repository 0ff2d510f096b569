/// <reference types="chrome" />
/**
 * The whole product for end-to-end tests, started as a person would have it: a real Dovecot with a
 * mailbox of sample mail (behind a proxy that can slow it down or follow it to a new port), the
 * relay process (`mailkeep relay`), and Chromium with the built extension. One world per spec file:
 * starting all three costs seconds on a shared 2-core machine.
 */
import fs from 'node:fs';
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot, type DovecotUser } from '../support/dovecot.ts';
import { startSlowProxy, type SlowProxy } from '../support/slow-proxy.ts';
import { RelayProcess, runCli, tempDataDir } from '../relay/relay-harness.ts';
import { CHROMIUM, EXT_DIR } from './fixtures';
import { relayJobRecords } from '../support/relay-jobs-record.ts';

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
  /** Changes the mailbox password and returns once Dovecot accepts the new one. */
  setServerPassword(password: string): Promise<void>;
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
    async setServerPassword(password) {
      currentPassword = password;
      fs.writeFileSync(`${dovecot.dir}/users`, `${MAIL_USER.name}:{PLAIN}${password}::::::\n`);
      // Dovecot re-reads a changed passwd-file at most once per second of its clock (it skips the
      // stat when its last look was in the same second), so a login right after the write can
      // still be checked against the old password: wait until the new one is the one in force.
      await expect.poll(async () => {
        try {
          await (await dovecot.client(MAIL_USER.name, password)).logout();
          return true;
        } catch {
          return false;
        }
      }, { timeout: 15_000 }).toBe(true);
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

/** What a spec file's tests share: the world and, when asked for, a second Dovecot to migrate to. */
export interface SharedWorld {
  readonly world: World;
  readonly dest: Dovecot;
}

/**
 * One world for the whole spec file: skips the file where Dovecot is missing, sets the per-test
 * timeout, starts the world (and a destination Dovecot with `destination` as its user) before the
 * first test and stops everything after the last. Read `world` / `dest` inside tests only.
 */
export function relayWorldPerFile(opts: {
  initialMessages: number;
  testTimeoutMs: number;
  setupTimeoutMs: number;
  destination?: DovecotUser;
  /** More users on the destination Dovecot (e.g. one with a small quota). */
  destinationUsers?: DovecotUser[];
}): SharedWorld {
  test.skip(!worldAvailable(), 'Dovecot is not installed (under CI this fails instead)');
  test.setTimeout(opts.testTimeoutMs);
  let world: World | undefined;
  let dest: Dovecot | undefined;
  test.beforeAll(async () => {
    test.setTimeout(opts.setupTimeoutMs);
    world = await startWorld(opts.initialMessages);
    if (opts.destination) dest = await startDovecot({ users: [opts.destination, ...(opts.destinationUsers ?? [])] });
  });
  // A failure under CI is read from its printed output alone: what the relay did is printed with it.
  test.afterEach(async ({}, testInfo) => {
    if (!world || testInfo.status === testInfo.expectedStatus) return;
    try {
      console.error(relayPostMortem(world));
    } catch (err) {
      console.error(`relay after the failure: not readable (${(err as Error).message})`);
    }
  });
  test.afterAll(async () => {
    await world?.close();
    await dest?.stop();
  });
  return {
    get world() {
      if (!world) throw new Error('the world starts in beforeAll: read it inside a test');
      return world;
    },
    get dest() {
      if (!dest) throw new Error('no destination Dovecot: pass `destination` to relayWorldPerFile');
      return dest;
    },
  };
}

/** The relay's newest jobs and the end of its output (no pairing code), for a failed test's report. */
export function relayPostMortem(world: Pick<World, 'dataDir' | 'relay'>): string {
  const jobs = relayJobRecords(world.dataDir)
    .slice(0, 8)
    .map((j) => `    ${j.id} ${j.kind} ${j.accountId} ${j.status}/${j.phase}${j.errorCode ? ` ${j.errorCode}` : ''} created ${j.createdAt} updated ${j.updatedAt}`);
  const logFile = `${world.dataDir}/relay.log`;
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
  const output = `${log}\n${world.relay.stderr}`
    .split('\n')
    .filter((line) => line.trim() !== '' && !/pairing code/i.test(line))
    .slice(-40)
    .map((line) => `    ${line}`);
  return [`relay after the failure (now ${new Date().toISOString()}):`, '  jobs, newest first:', ...jobs, '  relay.log and stderr, last lines:', ...output].join('\n');
}

/** Opens the options page and pairs it with the world's relay, as a person types the code. */
export async function pairedOptions(world: Pick<World, 'open' | 'relay'>): Promise<Page> {
  const options = await world.open('options.html#new');
  // Code pairing is the fallback for browsers that cannot launch the native host: none is
  // registered in this profile, so once the worker has tried it the page offers the code form.
  await expect(options.getByTestId('host-missing')).toBeVisible({ timeout: 15_000 });
  await options.locator('#pair-port').fill(String(world.relay.port));
  await options.locator('#pair-code').fill(world.relay.pairingCode);
  await options.getByRole('button', { name: 'Pair' }).click();
  await expect(options.getByTestId('pair-result')).toHaveAttribute('data-ok', 'true');
  return options;
}

export interface Mailbox {
  email: string;
  displayName: string;
  username: string;
  port: number;
  password: string;
  /** Saved with the schedule off (no first backup yet: a test sets the account's pacing first). */
  scheduleOff?: boolean;
}

/** The world's mailbox (MAIL_USER behind the proxy), as the options form takes it. */
export function worldMailbox(world: World, displayName = 'Alice'): Mailbox {
  return { email: 'alice@example.org', displayName, username: MAIL_USER.name, port: world.proxy.port, password: MAIL_USER.password };
}

/**
 * Adds a mailbox on 127.0.0.1 without TLS through the options form; saved, its password with the
 * relay, and (as for a user) its first backup started by the Save itself. Returns the account id.
 */
export async function addMailbox(options: Page, box: Mailbox): Promise<string> {
  await options.goto(options.url().replace(/#.*$/, '#new'));
  await options.locator('#f-email').fill(box.email);
  await options.locator('#f-displayName').fill(box.displayName);
  await options.locator('#f-username').fill(box.username);
  await options.locator('#f-host').fill('127.0.0.1');
  await options.locator('#f-port').fill(String(box.port));
  await options.locator('#f-security').selectOption('none');
  await options.locator('#f-password').fill(box.password);
  if (box.scheduleOff) await options.locator('input[name=scheduleEnabled]').uncheck();
  await options.getByRole('button', { name: 'Save' }).click();
  await expect(options.getByTestId('saved')).toBeVisible();
  await expect(options.getByTestId('relay-note')).toContainText('keeps the password');
  const accountId = decodeURIComponent(/account=([^&]+)/.exec(options.url())?.[1] ?? '');
  return accountId;
}
