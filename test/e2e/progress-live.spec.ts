/// <reference types="chrome" />
/**
 * A backup of a few thousand messages through the real relay and Dovecot, watched in the popup: the
 * bar is a real fraction of the run's total from the start (the relay counts before it fetches),
 * it moves, a time estimate appears once the rate was observed long enough, and it ends Completed.
 * Screenshots of the live popup and dashboard in both themes are saved as test artefacts; with
 * MAILKEEP_DOCS_SCREENSHOTS=1 the light ones replace docs/popup.png and docs/dashboard.png.
 */
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { statusInfo } from '../../lib/status/catalog.ts';
import { test, expect, type Page } from '@playwright/test';
import { addMailbox, pairedOptions, relayWorldPerFile, worldMailbox } from './relay-world';

const MESSAGES = 2000;
const shared = relayWorldPerFile({ initialMessages: MESSAGES, testTimeoutMs: 180_000, setupTimeoutMs: 150_000 });

/** Axe's findings on a page with a live bar (a11y.spec.ts covers the pages without a relay). */
async function violations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

async function shot(page: Page, name: string, clip?: { x: number; y: number; width: number; height: number }, docs?: string): Promise<void> {
  const file = test.info().outputPath(name);
  await page.screenshot({ path: file, ...(clip ? { clip } : { fullPage: false }) });
  await test.info().attach(name, { path: file, contentType: 'image/png' });
  if (docs && process.env.MAILKEEP_DOCS_SCREENSHOTS === '1') copyFileSync(file, path.resolve('docs', docs));
}

test('a backup of 2000 messages shows a real fraction of its total, moving, then a time estimate, and ends Completed', async () => {
  const { world } = shared;
  const options = await pairedOptions(world);
  world.proxy.throttle(2048); // slow enough to watch for half a minute
  await addMailbox(options, worldMailbox(world, 'Alice'));
  const popup = await world.open('popup.html');
  await popup.setViewportSize({ width: 400, height: 600 });
  const card = popup.locator('[data-testid=account-card]');
  await expect(card).toHaveAttribute('data-status', 'running', { timeout: 30_000 });
  const bar = popup.getByRole('progressbar', { name: 'Backup of Alice' });
  // The total is known before the messages come: "N of 2000", never a bar without a total.
  await expect(bar).toHaveAttribute('aria-valuetext', new RegExp(`^\\d+ %: \\d+ of ${MESSAGES} messages`), { timeout: 20_000 });
  // With the relay answering, the running card's hint is the specification's own, and it points at a bar that is there.
  await expect(card.getByTestId('hint-text')).toHaveText(statusInfo('backup', 'running').hint);
  const percentNow = async () => Number(await bar.getAttribute('aria-valuenow'));
  const first = await percentNow();
  await expect.poll(percentNow, { timeout: 30_000 }).toBeGreaterThan(first);
  // An estimate only once earned (15 s watched, 20 messages): then in words, on the bar and for screen readers.
  await expect(popup.getByTestId('progress-estimate')).toHaveText(/ · (less than a minute|about (a|\d+) (minute|minutes|hours?)) left$/, { timeout: 60_000 });
  await expect(bar).toHaveAttribute('aria-valuetext', /left$/);
  for (const colorScheme of ['light', 'dark'] as const) {
    await popup.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    expect(await violations(popup), `live popup, ${colorScheme}`).toEqual([]);
    const height = await popup.evaluate(() => Math.ceil(document.querySelector('main')!.getBoundingClientRect().bottom + 12));
    await shot(popup, `popup-live-${colorScheme}.png`, { x: 0, y: 0, width: 400, height }, colorScheme === 'light' ? 'popup.png' : undefined);
  }
  const dashboard = await world.open('dashboard.html');
  await dashboard.setViewportSize({ width: 1100, height: 560 });
  await expect(dashboard.getByRole('progressbar')).toBeVisible();
  for (const colorScheme of ['light', 'dark'] as const) {
    await dashboard.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    expect(await violations(dashboard), `live dashboard, ${colorScheme}`).toEqual([]);
    await shot(dashboard, `dashboard-live-${colorScheme}.png`, undefined, colorScheme === 'light' ? 'dashboard.png' : undefined);
  }
  world.proxy.throttle(Infinity);
  await expect(card).toHaveAttribute('data-status', 'completed', { timeout: 90_000 });
  await expect(popup.getByRole('progressbar')).toHaveCount(0);
  await expect(card.getByTestId('last-backup')).toContainText(`${MESSAGES} messages`);
});

test('a running backup can be cancelled from the popup: it stops, ends Partially Completed, and what it stored stays in the archive', async () => {
  const { world } = shared;
  await world.addMail(300, 4242);
  world.proxy.throttle(2048);
  const popup = await world.open('popup.html');
  const card = popup.locator('[data-testid=account-card]');
  await card.locator('[data-action=backup-now]').click();
  await expect(card).toHaveAttribute('data-status', 'running', { timeout: 30_000 });
  const bar = popup.getByRole('progressbar', { name: 'Backup of Alice' });
  await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThan(0);
  await card.locator('[data-action=cancel]').click();
  await expect(card).toHaveAttribute('data-status', 'partially_completed', { timeout: 30_000 });
  await expect(popup.getByRole('progressbar')).toHaveCount(0);
  world.proxy.throttle(Infinity);
  // Stopped, not failed: the messages fetched before Cancel are in the archive, and the rest are not lost (the next run takes them).
  const archived = async () => Number((await card.getByTestId('archive-totals').textContent())?.match(/(\d[\d,]*) messages/)?.[1]?.replace(/,/g, '') ?? NaN);
  await expect.poll(archived, { timeout: 15_000 }).toBeGreaterThan(MESSAGES);
  expect(await archived()).toBeLessThan(MESSAGES + 300);
});
