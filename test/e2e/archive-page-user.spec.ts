/// <reference types="chrome" />
/**
 * The Archive page as a new user found it (issue 15, the new-user pass), end to end: the built
 * extension in Chromium with the browser in America/Los_Angeles, the real relay, a real Dovecot.
 * Dates searched as the page shows them; a folder under a \Noselect parent shown under it; the real
 * count of a folder larger than a page; words for no match; Shift-click ranges; the preview beside
 * the list at 900 px; one note at a time; no "deleted on server" at a past run; the mark gone by
 * itself after a restore (the relay backs up and the page follows); the dashboard's words for what
 * the restore covered; a saved download shown as saved in the popup, which links the Archive page.
 */
import { test, expect, type Page } from '@playwright/test';
import { addMailbox, MAIL_USER, pairedOptions, relayWorldPerFile, worldMailbox } from './relay-world';

test.describe.configure({ mode: 'serial' });
const shared = relayWorldPerFile({ initialMessages: 110, testTimeoutMs: 120_000, setupTimeoutMs: 90_000 });
let page: Page;
let accountId = '';
const LATE_ID = '<late-evening-la@example.org>';
// 05:30 UTC on 10 Nov 2025 is 21:30 on 9 Nov in Los Angeles.
const late = Buffer.from(
  'From: Carol <carol@example.org>\r\nTo: Alice <alice@example.net>\r\nSubject: Late evening memo\r\nDate: Mon, 10 Nov 2025 05:30:00 +0000\r\n' +
    `Message-ID: ${LATE_ID}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWritten late in the evening.\r\n`,
);
const listMail = (n: number) =>
  Buffer.from(`From: dev-list <dev@lists.example.org>\r\nTo: Alice <alice@example.net>\r\nSubject: dev digest ${n}\r\nDate: Tue, 0${n} Dec 2025 10:00:00 +0000\r\nMessage-ID: <dev-${n}@lists.example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ndigest ${n}\r\n`);

/** Opens an extension page with its clock in Los Angeles (the browser's zone, as a user there has it). */
async function openInLosAngeles(path: string): Promise<Page> {
  const p = await shared.world.context.newPage();
  const cdp = await shared.world.context.newCDPSession(p);
  await cdp.send('Emulation.setTimezoneOverride', { timezoneId: 'America/Los_Angeles' });
  await p.goto(`chrome-extension://${shared.world.extensionId}/${path}`);
  return p;
}
const shot = (p: Page, name: string) => p.screenshot({ path: test.info().outputPath(name) });
const backupNow = async () => expect(await page.evaluate((id) => chrome.runtime.sendMessage({ type: 'backup-now', accountId: id }), accountId)).toMatchObject({ ok: true });

test.beforeAll(async () => {
  const imap = await shared.world.dovecot.client(MAIL_USER.name, MAIL_USER.password);
  await imap.append('INBOX', late, ['\\Seen']);
  // Maildir++: "Lists" is only the parent of "Lists/dev", listed \Noselect, never archived.
  await imap.mailboxCreate('Lists/dev');
  for (const n of [1, 2]) await imap.append('Lists/dev', listMail(n), ['\\Seen']);
  await imap.logout();
});

test('the folder tree shows Lists/dev under a Lists that cannot be opened, and a folder larger than a page says its real count', async () => {
  const options = await pairedOptions(shared.world);
  accountId = await addMailbox(options, worldMailbox(shared.world));
  const dashboard = await shared.world.open('dashboard.html#tab=backup');
  await expect(dashboard.getByTestId('job-row').first()).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await dashboard.close();
  await options.close();

  page = await openInLosAngeles('archive.html');
  expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe('America/Los_Angeles');
  const inbox = page.locator('[data-testid=folder][data-folder=INBOX]');
  await expect(inbox.getByTestId('folder-count')).toHaveText('111', { timeout: 30_000 });
  const parent = page.locator('[data-testid=folder-parent][data-folder=Lists]');
  await expect(parent).toHaveText('Lists');
  await expect(parent.locator('xpath=ancestor-or-self::button')).toHaveCount(0);
  const dev = page.locator('[data-testid=folder][data-folder="Lists/dev"]');
  await expect(dev.locator('.folder-name')).toHaveText('dev');
  // dev sits right under Lists, one level in; not under INBOX.
  const items = page.getByTestId('folder-tree').locator('li');
  const texts = await items.allTextContents();
  const at = texts.findIndex((t) => t.startsWith('Lists'));
  expect(texts[at + 1]).toMatch(/^dev/);
  const [parentBox, devBox, inboxBox] = await Promise.all([parent.boundingBox(), dev.boundingBox(), inbox.boundingBox()]);
  expect(devBox!.x).toBeGreaterThan(parentBox!.x);
  expect(parentBox!.x).toBeLessThanOrEqual(inboxBox!.x + 1);
  await inbox.click();
  await expect(page.getByTestId('list-summary')).toHaveText('111 messages', { timeout: 15_000 });
  await shot(page, 'archive-tree-and-count.png');
});

test('before:/after: find a message on the day the page shows it in the browser\'s zone; no match says so, with hints', async () => {
  const search = page.getByTestId('archive-search');
  await search.fill('memo');
  const rows = page.getByTestId('archive-row');
  await expect(rows).toHaveCount(1, { timeout: 15_000 });
  await expect(rows.first().locator('.col-date')).toHaveText('2025-11-09');
  await search.fill('after:2025-11-09 before:2025-11-10');
  await expect(rows).toHaveCount(1, { timeout: 15_000 });
  await expect(rows.first()).toContainText('Late evening memo');
  await rows.first().click();
  await expect(page.getByTestId('archive-preview')).toBeVisible();
  await search.fill('after:2025-11-10 before:2025-11-11');
  // Another search: the message shown belonged to the list that went, so it goes with it.
  await expect(page.getByTestId('archive-preview')).toHaveCount(0, { timeout: 15_000 });
  await expect(page.getByTestId('action-copy-link')).toBeDisabled();
  await expect(page.getByTestId('archive-empty-title')).toHaveText('No messages match after:2025-11-10 before:2025-11-11', { timeout: 15_000 });
  await expect(page.getByTestId('archive-empty')).toContainText('Check the spelling');
  await expect(page.getByTestId('archive-empty')).toContainText("this browser's time zone");
  await expect(page.getByTestId('list-summary')).toHaveText('No messages match');
  await expect(rows).toHaveCount(0);
  // The placeholder is whole in the box (the full syntax is its title).
  const fits = await search.evaluate((el: HTMLInputElement) => {
    const c = document.createElement('canvas').getContext('2d')!;
    c.font = getComputedStyle(el).font;
    return c.measureText(el.placeholder).width <= el.clientWidth;
  });
  expect(fits).toBe(true);
  await shot(page, 'archive-no-match.png');
});

test('Shift-click selects from the anchor; Shift+Arrow extends it', async () => {
  await page.getByTestId('archive-search').fill('');
  await page.locator('[data-testid=folder][data-folder=INBOX]').click();
  const rows = page.getByTestId('archive-row');
  await expect(page.getByTestId('archive-list')).toHaveAttribute('data-count', '100', { timeout: 15_000 });
  await rows.nth(1).click();
  await rows.nth(4).click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('selection-count')).toHaveText('4 messages selected');
  for (const i of [1, 2, 3, 4]) await expect(rows.nth(i)).toHaveAttribute('aria-selected', 'true');
  await expect(rows.nth(0)).toHaveAttribute('aria-selected', 'false');
  await page.keyboard.press('Shift+ArrowDown');
  await expect(page.getByTestId('selection-count')).toHaveText('5 messages selected');
  await rows.nth(0).click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('selection-count')).toHaveText('2 messages selected');
});

test('at 900 and 800 px wide the preview stays in sight beside the list when a row is clicked', async () => {
  for (const width of [900, 800]) {
    await page.setViewportSize({ width, height: 700 });
    const row = page.getByTestId('archive-row').nth(width === 900 ? 2 : 3);
    await row.click();
    const preview = page.getByTestId('archive-preview');
    await expect(preview).toHaveAttribute('data-id', (await row.getAttribute('data-id'))!);
    const [box, list] = await Promise.all([preview.boundingBox(), page.getByTestId('archive-list').boundingBox()]);
    expect(box!.y, `preview top at ${width}px`).toBeLessThan(700);
    expect(box!.x, `preview beside the list at ${width}px`).toBeGreaterThanOrEqual(list!.x + list!.width - 1);
    expect(box!.x + box!.width).toBeLessThanOrEqual(width + 1);
    await shot(page, `archive-narrow-${width}.png`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('a note says one thing and goes: another folder clears "Link copied"', async () => {
  await page.evaluate(() => {
    navigator.clipboard.writeText = async () => {};
  });
  await page.getByTestId('archive-row').first().click();
  await page.getByTestId('action-copy-link').click();
  await expect(page.getByTestId('archive-note')).toHaveText(/Link copied/);
  await page.getByTestId('action-copy-link').click();
  await expect(page.getByTestId('archive-note')).toHaveCount(1);
  await page.locator('[data-testid=folder][data-folder="Lists/dev"]').click();
  await expect(page.getByTestId('archive-note')).toHaveCount(0);
  await expect(page.getByTestId('list-summary')).toHaveText('2 messages');
});

test('deleted on the server and backed up: marked now, not at the first backup when it was there; the run switch says its run whole', async () => {
  const imap = await shared.world.dovecot.client(MAIL_USER.name, MAIL_USER.password);
  await imap.mailboxOpen('INBOX');
  await imap.messageDelete({ header: { 'message-id': LATE_ID } });
  await imap.logout();
  await backupNow();
  const mark = page.getByTestId('archive-row').first().getByTestId('gone-mark');
  await expect(async () => {
    await page.reload();
    await page.getByTestId('archive-search').fill('memo');
    await expect(mark).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  await expect(mark).toHaveAttribute('title', /^In the archive, deleted on server as of the backup of /);
  await expect(page.locator('[data-testid=folder][data-folder=INBOX]')).toContainText('1 deleted on server');

  const select = page.getByTestId('archive-at-run');
  const options = select.locator('option');
  await expect(options).toHaveCount(3);
  await select.selectOption({ index: 2 }); // the first backup, when the memo was on the server
  await expect(page).toHaveURL(/run=1/);
  await expect(page.getByTestId('archive-row')).toHaveCount(1, { timeout: 15_000 });
  await expect(page.getByTestId('gone-mark')).toHaveCount(0);
  await expect(page.locator('[data-testid=folder][data-folder=INBOX]')).not.toContainText('deleted on server');
  await page.getByTestId('archive-row').first().click();
  await expect(page.getByTestId('archive-preview')).toBeVisible();
  await expect(page.getByTestId('preview-gone')).toHaveCount(0);
  // The chosen run's whole words fit the box (no "at backup 1, 2 Dec 2").
  await expect(select).toHaveAttribute('title', /^Backup 1 · /);
  const cut = await select.evaluate((el: HTMLSelectElement) => {
    const c = document.createElement('canvas').getContext('2d')!;
    c.font = getComputedStyle(el).font;
    return c.measureText(el.selectedOptions[0]!.text).width > el.clientWidth - 24;
  });
  expect(cut).toBe(false);
  await shot(page, 'archive-at-run-1.png');
  await select.selectOption({ index: 0 });
});

test('restored from the page: the mark goes by itself once the relay\'s backup finds it on the server; the dashboard says what the restore covered', async () => {
  const row = page.getByTestId('archive-row').first();
  await expect(row.getByTestId('gone-mark')).toBeVisible({ timeout: 15_000 });
  await row.click();
  await expect(page.getByTestId('preview-gone')).toContainText('deleted on server as of the backup of');
  await page.getByTestId('action-restore').click();
  await page.getByTestId('archive-restore-preview').click();
  await expect(page.getByTestId('archive-restore-plan')).toHaveAttribute('data-to-append', '1', { timeout: 60_000 });
  await page.getByTestId('archive-restore-confirm').click();
  await expect(page.getByTestId('archive-job')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(page.getByTestId('archive-job')).toContainText('The selected message is back in the mailbox');
  // No reload: the page follows the relay's backup and asks again.
  await expect(row.getByTestId('gone-mark')).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByTestId('preview-gone')).toHaveCount(0);
  await expect(page.locator('[data-testid=folder][data-folder=INBOX]')).not.toContainText('deleted on server');
  await shot(page, 'archive-after-restore.png');

  const dashboard = await shared.world.open('dashboard.html#tab=restore');
  const restoreRow = dashboard.getByTestId('job-row').first();
  await expect(restoreRow).toHaveAttribute('data-status', 'completed', { timeout: 15_000 });
  await expect(restoreRow.getByTestId('hint-text')).toHaveText('The selected message is back in the mailbox. Messages this restore did not cover are as they were.');
  await expect(restoreRow.getByTestId('condition')).toHaveText('The restore is completed.');
  await dashboard.screenshot({ path: test.info().outputPath('dashboard-restore.png') });
  await dashboard.close();
});

test('a download saved from the Archive page shows as saved there and in the popup, which opens the Archive page', async () => {
  await page.getByTestId('archive-row').first().click();
  await page.getByTestId('action-download').click();
  const state = page.getByTestId('archive-job').getByTestId('download-state');
  await expect(state).toHaveAttribute('data-state', 'saved', { timeout: 60_000 });
  await expect(page.getByTestId('archive-job')).not.toContainText('Completed / Link');
  await expect(page.getByTestId('archive-job')).toContainText(/Download: Saved/);

  const popup = await shared.world.open('popup.html');
  const line = popup.locator('[data-testid=job-line][data-kind=download]').first();
  await expect(line).toBeVisible({ timeout: 15_000 });
  await expect(line.getByTestId('download-state')).toHaveAttribute('data-state', 'saved', { timeout: 15_000 });
  await expect(line).not.toContainText('Click "Download"');
  await expect(line.locator('[data-action=cancel]')).toHaveCount(0);
  await expect(line.locator('[data-action=download]')).toHaveText('Download again');
  await popup.screenshot({ path: test.info().outputPath('popup-download-saved.png') });
  const opened = shared.world.context.waitForEvent('page');
  await popup.getByTestId('popup-open-archive').click();
  const archive = await opened;
  await expect(archive).toHaveURL(/\/archive\.html/);
  await archive.close();
  await popup.close();
});
