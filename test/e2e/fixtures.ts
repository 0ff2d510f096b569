/// <reference types="chrome" />
/**
 * Playwright fixtures for the built extension in its test build (.output/chrome-mv3-test: run
 * `npx wxt build --mode test` first; only that build answers the dev:* seeding messages) in
 * Debian's Chromium. General on purpose: later suites (relay, IMAP flows) reuse them.
 *
 * - `context`: a persistent Chromium with a fresh temporary profile per test and the extension loaded
 * - `serviceWorker`: the extension's service worker as first started (it may be replaced later:
 *   after `stopServiceWorkers`, use `currentServiceWorker`)
 * - `extensionId`: from the worker's URL (pinned by the manifest key, see lib/extension-identity.ts)
 * - `openExtensionPage(path)`: a new tab at chrome-extension://ID/<path>, with CSP violations recorded
 */
import { test as base, chromium, type BrowserContext, type Page, type Worker } from '@playwright/test';
import path from 'node:path';

export const EXT_DIR = path.resolve(process.env.EXT_DIR ?? '.output/chrome-mv3-test');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';

export interface ExtensionFixtures {
  context: BrowserContext;
  serviceWorker: Worker;
  extensionId: string;
  openExtensionPage: (pathAndHash: string) => Promise<Page>;
}

export const test = base.extend<ExtensionFixtures>({
  // Playwright requires the object pattern even when no fixture is used.
  context: async ({}, use) => {
    const context = await chromium.launchPersistentContext('', {
      executablePath: CHROMIUM,
      headless: true, // new headless mode: extensions load
      viewport: { width: 1280, height: 900 },
      args: [
        // Playwright passes --disable-extensions by default; without this the extension never loads.
        `--disable-extensions-except=${EXT_DIR}`,
        `--load-extension=${EXT_DIR}`,
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    await use(context);
    await context.close();
  },
  serviceWorker: async ({ context }, use) => {
    const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
    await use(worker);
  },
  extensionId: async ({ serviceWorker }, use) => {
    await use(new URL(serviceWorker.url()).host);
  },
  openExtensionPage: async ({ context, extensionId }, use) => {
    await use(async (pathAndHash) => {
      const page = await context.newPage();
      await page.addInitScript(() => {
        const w = window as unknown as { __csp: string[] };
        w.__csp = [];
        document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      await page.goto(`chrome-extension://${extensionId}/${pathAndHash.replace(/^\//, '')}`);
      return page;
    });
  },
});
export const expect = test.expect;

/** Sends a message to the service worker from an extension page (waking the worker if needed). */
export async function sendToWorker<T = unknown>(page: Page, message: unknown): Promise<T> {
  return page.evaluate((m) => chrome.runtime.sendMessage(m), message) as Promise<T>;
}

/** Badge text, colour (RGBA) and tooltip, read from an extension page (works whether or not the worker runs). */
export async function readBadge(page: Page): Promise<{ text: string; colour: number[]; title: string }> {
  return page.evaluate(async () => ({
    text: await chrome.action.getBadgeText({}),
    colour: (await chrome.action.getBadgeBackgroundColor({})) as number[],
    title: await chrome.action.getTitle({}),
  }));
}

/** Stops every service worker through CDP, as Chromium does to an idle MV3 worker. */
export async function stopServiceWorkers(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
}

/** The newest service worker object (after a stop and wake, the old object is stale). */
export function currentServiceWorker(context: BrowserContext): Worker | undefined {
  return context.serviceWorkers().at(-1);
}

/** CSP violations recorded on a page opened with openExtensionPage. */
export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
}

/** "#d1242f" -> [209, 36, 47, 255], the form chrome.action.getBadgeBackgroundColor returns. */
export function rgba(hex: string): number[] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, 255];
}
