/// <reference types="chrome" />
/**
 * The Archive page end to end: the built extension in Chromium, the real relay, a real Dovecot.
 * The mailbox holds generated mail and one hostile HTML message (a script, a remote image, a remote
 * stylesheet, a CSS background and a meta refresh, all pointing at a local HTTP server that records
 * every request). Pair, add the mailbox (its first backup runs), then on the Archive page: type a
 * query and see the hit, preview it (the script does not run, nothing is requested), restore it
 * after it was deleted on the server and find it back over IMAP byte for byte, download a selection
 * and compare bytes, open a copied link, and check the page with axe in both themes.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import AxeBuilder from '@axe-core/playwright';
import { test, expect, type Page } from '@playwright/test';
import { addMailbox, MAIL_USER, pairedOptions, relayWorldPerFile, worldMailbox } from './relay-world';

test.describe.configure({ mode: 'serial' });
const shared = relayWorldPerFile({ initialMessages: 30, testTimeoutMs: 120_000, setupTimeoutMs: 90_000 });

/** A server that answers everything with 200 and remembers each request: nothing may reach it. */
let tracker: { server: http.Server; port: number; requests: string[] };
let hostile: Buffer;
let plain: Buffer;
let page: Page;
const HOSTILE_ID = '<hostile-zebra@example.org>';

function hostileMail(port: number): Buffer {
  const remote = `http://127.0.0.1:${port}`;
  const html = [
    `<html><head><meta http-equiv="refresh" content="0;url=${remote}/refresh">`,
    `<link rel="stylesheet" href="${remote}/style.css"></head>`,
    `<body style="background-image:url(${remote}/background.png)">`,
    '<p id="marker">script did not run</p>',
    `<script>document.getElementById('marker').textContent = 'script ran'; new Image().src = '${remote}/script-beacon';</script>`,
    `<p>The zebra quarterly numbers, with a chart:</p><img src="${remote}/remote-image.png" alt="chart">`,
    '</body></html>',
  ].join('\r\n');
  return Buffer.from(
    'From: Mallory <mallory@example.org>\r\nTo: Alice <alice@example.net>\r\nSubject: Zebra quarterly report\r\n' +
      `Date: Tue, 03 Mar 2026 10:00:00 +0000\r\nMessage-ID: ${HOSTILE_ID}\r\nMIME-Version: 1.0\r\n` +
      'Content-Type: multipart/alternative; boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe zebra quarterly numbers.\r\n' +
      `--zz\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n--zz--\r\n`,
  );
}

test.beforeAll(async () => {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tracker = { server, port: (server.address() as AddressInfo).port, requests };
  hostile = hostileMail(tracker.port);
  plain = Buffer.from(
    'From: Bob <bob@example.org>\r\nTo: Alice <alice@example.net>\r\nSubject: Contract from March\r\nDate: Mon, 02 Mar 2026 09:00:00 +0000\r\n' +
      'Message-ID: <contract-march@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere is the contract we spoke about.\r\n',
  );
  const imap = await shared.world.dovecot.client(MAIL_USER.name, MAIL_USER.password);
  await imap.append('INBOX', hostile, ['\\Seen']);
  await imap.append('INBOX', plain, ['\\Flagged']);
  await imap.logout();
});

test.afterAll(() => new Promise<void>((resolve) => tracker?.server.close(() => resolve())));

/**
 * Axe on the page, not inside the preview frame: that is the mail's own HTML (not ours to fix), and
 * a frame without scripts never answers axe's per-frame run (it waited for it until the timeout).
 * The frame element itself (its title) is checked.
 */
async function violations(p: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page: p }).setLegacyMode(true).options({ iframes: false }).analyze();
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

async function serverMessages(folder = 'INBOX'): Promise<Map<string, Buffer>> {
  const imap = await shared.world.dovecot.client(MAIL_USER.name, MAIL_USER.password);
  const out = new Map<string, Buffer>();
  const lock = await imap.getMailboxLock(folder);
  try {
    for await (const m of imap.fetch('1:*', { source: true, envelope: true })) if (m.source && m.envelope?.messageId) out.set(m.envelope.messageId, m.source);
  } finally {
    lock.release();
  }
  await imap.logout();
  return out;
}

test('type a query and see the hit; preview it: the script does not run and nothing remote is requested', async () => {
  const options = await pairedOptions(shared.world);
  await addMailbox(options, worldMailbox(shared.world));
  const dashboard = await shared.world.open('dashboard.html#tab=backup');
  await expect(dashboard.getByTestId('job-row').first()).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  await dashboard.close();

  page = await shared.world.open('archive.html');
  await expect(page.getByRole('heading', { name: 'Archive' })).toBeVisible();
  // The folder tree with its count: 30 generated + 2.
  await expect(page.locator('[data-testid=folder][data-folder=INBOX] [data-testid=folder-count]')).toHaveText('32', { timeout: 30_000 });
  await expect(page.getByTestId('archive-list')).toHaveAttribute('data-count', '32');

  await page.getByTestId('archive-search').fill('zebra');
  const rows = page.getByTestId('archive-row');
  await expect(rows).toHaveCount(1, { timeout: 15_000 });
  await expect(rows.first()).toContainText('Zebra quarterly report');
  await expect(rows.first().locator('mark').first()).toHaveText(/zebra/i);

  await rows.first().click();
  const preview = page.getByTestId('archive-preview');
  await expect(preview.locator('[data-header=subject]')).toHaveText('Zebra quarterly report');
  const frame = page.frameLocator('[data-testid=preview-frame]');
  await expect(frame.locator('#marker')).toHaveText('script did not run');
  await expect(frame.getByText('The zebra quarterly numbers, with a chart:')).toBeVisible();
  await expect(page.getByTestId('preview-frame')).toHaveAttribute('sandbox', '');
  // Give a late load every chance to happen (the image, the refresh, the stylesheet), then look.
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(1_500);
  expect(tracker.requests).toEqual([]);
  await expect(frame.locator('#marker')).toHaveText('script did not run');

  // The control: the same image in an ordinary page is fetched, so the silence above is the sandbox's.
  const control = await shared.world.context.newPage();
  await control.setContent(`<img src="http://127.0.0.1:${tracker.port}/control.png">`);
  await expect.poll(() => tracker.requests).toEqual(['GET /control.png']);
  await control.close();
  tracker.requests.length = 0;
});

test('a query that cannot be parsed says where, and the list says nothing stale', async () => {
  // Leading spaces as typed: the caret's position is the search box's (character 11, the quote).
  await page.getByTestId('archive-search').fill('  subject:"unclosed');
  const problem = page.getByTestId('query-error');
  await expect(problem).toBeVisible({ timeout: 15_000 });
  await expect(problem).toHaveAttribute('data-position', '10');
  await expect(page.getByTestId('archive-search')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('archive-row')).toHaveCount(0);
  await page.getByTestId('archive-search').fill('contract');
  await expect(problem).toHaveCount(0);
  await expect(page.getByTestId('archive-row')).toHaveCount(1);
  await expect(page.getByTestId('archive-row').first()).toContainText('Contract from March');
});

test('the list works from the keyboard: arrows move, Enter previews, Space selects', async () => {
  await page.getByTestId('archive-search').fill('');
  await page.locator('[data-testid=folder][data-folder=INBOX]').click();
  const list = page.getByTestId('archive-list');
  await expect(list).toHaveAttribute('data-count', '32');
  await list.focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const third = page.getByTestId('archive-row').nth(2);
  const id = await third.getAttribute('data-id');
  await expect(page.getByTestId('archive-preview')).toHaveAttribute('data-id', id!);
  await expect(third).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press(' ');
  await expect(page.getByTestId('selection-count')).toHaveText('2 messages selected');
  // The list is windowed: 32 messages, far fewer rows in the DOM would show with thousands; End reaches the last.
  await page.keyboard.press('End');
  await expect(list).toHaveAttribute('aria-activedescendant', 'archive-row-31');
});

test('restore the hostile message after it was deleted on the server: back in INBOX, byte for byte', async () => {
  const imap = await shared.world.dovecot.client(MAIL_USER.name, MAIL_USER.password);
  await imap.mailboxOpen('INBOX');
  await imap.messageDelete({ header: { 'message-id': HOSTILE_ID } });
  await imap.logout();
  expect((await serverMessages()).has(HOSTILE_ID)).toBe(false);

  await page.getByTestId('archive-search').fill('zebra');
  await expect(page.getByTestId('archive-row')).toHaveCount(1, { timeout: 15_000 });
  await page.getByTestId('archive-row').first().click();
  await page.getByTestId('action-restore').click();
  await page.getByTestId('archive-restore-preview').click();
  const plan = page.getByTestId('archive-restore-plan');
  await expect(plan).toHaveAttribute('data-to-append', '1', { timeout: 60_000 });
  await expect(plan).toContainText('1 message will be put back into their folders');
  await page.getByTestId('archive-restore-confirm').click();
  await expect(page.getByTestId('archive-job')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  const back = (await serverMessages()).get(HOSTILE_ID);
  expect(back?.equals(hostile)).toBe(true);
  // The relay then backs the account up to see the server again; the page shows its run once it ends.
  await expect(page.getByTestId('archive-at-run').locator('option')).toHaveCount(3, { timeout: 60_000 });
});

test('download a selection as a zip and one message as an .eml: the bytes are the archived ones', async () => {
  await page.getByTestId('archive-search').fill('zebra OR contract');
  const rows = page.getByTestId('archive-row');
  await expect(rows).toHaveCount(2, { timeout: 15_000 });
  await rows.nth(0).click();
  await rows.nth(1).click({ modifiers: ['Control'] });
  await expect(page.getByTestId('selection-count')).toHaveText('2 messages selected');
  await page.getByTestId('action-download').click();
  await expect(page.getByTestId('archive-job')).toHaveAttribute('data-status', 'completed_link', { timeout: 60_000 });
  const zip = await downloaded(page, 1);
  expect(zip.mime).toBe('application/zip');
  const py = spawnSync('python3', ['-c', 'import sys,zipfile,hashlib; z=zipfile.ZipFile(sys.argv[1]); print("\\n".join(sorted(hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist())))', zip.filename], { encoding: 'utf8' });
  const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
  expect(py.stdout.trim().split('\n'), py.stderr).toEqual([sha(hostile), sha(plain)].sort());

  await rows.nth(1).click();
  await expect(page.getByTestId('action-download')).toHaveText('Download .eml');
  await page.getByTestId('action-download').click();
  const eml = await downloaded(page, 2);
  expect(eml.mime).toBe('message/rfc822');
  const { readFileSync } = await import('node:fs');
  const bytes = readFileSync(eml.filename);
  expect(bytes.equals(hostile) || bytes.equals(plain)).toBe(true);
});

test('Copy link gives an address that opens this message on the Archive page', async () => {
  // Chromium grants no clipboard-read to an extension origin here: record what the page writes instead.
  await page.evaluate(() => {
    const w = window as unknown as { copied: string | null };
    w.copied = null;
    navigator.clipboard.writeText = async (text: string) => {
      w.copied = text;
    };
  });
  await page.getByTestId('archive-search').fill('contract');
  await expect(page.getByTestId('archive-row')).toHaveCount(1, { timeout: 15_000 });
  await page.getByTestId('archive-row').first().click();
  const id = await page.getByTestId('archive-row').first().getAttribute('data-id');
  await page.getByTestId('action-copy-link').click();
  await expect(page.getByTestId('archive-note')).toContainText('Link copied');
  const url = (await page.evaluate(() => (window as unknown as { copied: string | null }).copied)) ?? '';
  expect(url).toMatch(new RegExp(`^chrome-extension://${shared.world.extensionId}/archive\\.html#.*message=${id}`));
  const later = await shared.world.context.newPage();
  await later.goto(url);
  await expect(later.getByTestId('archive-preview')).toHaveAttribute('data-id', id!);
  await expect(later.getByTestId('archive-preview').locator('[data-header=subject]')).toHaveText('Contract from March');
  await later.close();
});

test('the point-in-time switch shows the account as it was at an earlier backup run', async () => {
  await shared.world.addMail(2, 77);
  const accountId = /account=([^&]+)/.exec(page.url())?.[1] ?? '';
  expect(accountId).not.toBe('');
  const started = await page.evaluate((id) => chrome.runtime.sendMessage({ type: 'backup-now', accountId: id }), decodeURIComponent(accountId));
  expect(started).toMatchObject({ ok: true });
  const inboxCount = page.locator('[data-testid=folder][data-folder=INBOX] [data-testid=folder-count]');
  await expect(async () => {
    await page.reload();
    await expect(inboxCount).toHaveText('34', { timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  const runs = page.getByTestId('archive-at-run').locator('option');
  await expect(runs).toHaveCount(4); // everything, and the three backup runs (the first, the one after the restore, this one)
  await page.getByTestId('archive-at-run').selectOption({ index: 3 }); // the oldest: the first backup
  await expect(inboxCount).toHaveText('32');
  await page.locator('[data-testid=folder][data-folder=INBOX]').click();
  await expect(page.getByTestId('archive-list')).toHaveAttribute('data-count', '32');
  await expect(page).toHaveURL(/run=\d+/);
  await page.getByTestId('archive-at-run').selectOption({ index: 0 });
  await expect(inboxCount).toHaveText('34');
});

test('a message deleted on the server is marked by an icon with its words, never cut at the row edge, and the subject keeps its room', async () => {
  const imap = await shared.world.dovecot.client(MAIL_USER.name, MAIL_USER.password);
  await imap.mailboxOpen('INBOX');
  await imap.messageDelete({ header: { 'message-id': '<contract-march@example.org>' } });
  await imap.logout();
  const accountId = decodeURIComponent(/account=([^&]+)/.exec(page.url())?.[1] ?? '');
  expect(await page.evaluate((id) => chrome.runtime.sendMessage({ type: 'backup-now', accountId: id }), accountId)).toMatchObject({ ok: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  const row = page.getByTestId('archive-row').first();
  const mark = row.getByTestId('gone-mark');
  await expect(async () => {
    await page.reload();
    await page.getByTestId('archive-search').fill('contract');
    await expect(mark).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  // Its words for assistive technology and on hover, in a row whose text says it too.
  await expect(mark).toHaveAttribute('title', /^In the archive, deleted on server as of the backup of /);
  await expect(row).toContainText('deleted on server');
  await row.screenshot({ path: test.info().outputPath('archive-row-gone-on-server.png') });
  await page.getByTestId('archive-list').screenshot({ path: test.info().outputPath('archive-list-gone-on-server.png') });
  // The mark lies wholly inside the row and the list (not clipped), and the subject is not cut.
  const [markBox, rowBox, listBox] = await Promise.all([mark.boundingBox(), row.boundingBox(), page.getByTestId('archive-list').boundingBox()]);
  expect(markBox!.width).toBeGreaterThan(8);
  expect(markBox!.x + markBox!.width).toBeLessThanOrEqual(Math.min(rowBox!.x + rowBox!.width, listBox!.x + listBox!.width));
  const subject = row.locator('.col-subject');
  const clip = await subject.evaluate((el) => {
    // The subject's own words (the search snippet after them may run out under the ellipsis).
    const words = document.createRange();
    words.selectNodeContents(el.firstChild!);
    return { wordsRight: words.getBoundingClientRect().right, boxRight: el.getBoundingClientRect().right, client: el.clientWidth, row: el.parentElement!.clientWidth };
  });
  expect(clip.wordsRight, 'the subject "Contract from March" is shown whole').toBeLessThanOrEqual(clip.boxRight);
  expect(clip.client / clip.row, 'the subject has the widest column').toBeGreaterThan(0.35);
});

test('axe finds nothing on the Archive page with a preview open, light and dark; screenshots of both', async () => {
  await page.getByTestId('archive-search').fill('zebra');
  await expect(page.getByTestId('archive-row')).toHaveCount(1, { timeout: 15_000 });
  await page.getByTestId('archive-row').first().click();
  await expect(page.getByTestId('preview-frame')).toBeVisible();
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    expect(await violations(page), `archive ${colorScheme}`).toEqual([]);
    await page.screenshot({ path: test.info().outputPath(`archive-search-preview-${colorScheme}.png`) });
  }
  await page.getByTestId('archive-search').fill('');
  await page.locator('[data-testid=folder][data-folder=INBOX]').click();
  await page.getByTestId('archive-row').nth(1).click();
  await page.getByTestId('action-restore').click();
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    expect(await violations(page), `archive folder view ${colorScheme}`).toEqual([]);
    await page.screenshot({ path: test.info().outputPath(`archive-folder-${colorScheme}.png`) });
  }
  expect(tracker.requests).toEqual([]);
});

/** The n-th finished item of the browser's downloads (the archive page saves each by itself). */
async function downloaded(p: Page, n: number): Promise<{ filename: string; mime: string }> {
  let found: chrome.downloads.DownloadItem | undefined;
  await expect
    .poll(
      async () => {
        const items = await p.evaluate(() => chrome.downloads.search({ orderBy: ['startTime'] }));
        found = items.filter((i) => i.state === 'complete' || i.state === 'interrupted')[n - 1];
        return found?.state ?? null;
      },
      { timeout: 30_000 },
    )
    .toBe('complete');
  return { filename: found!.filename, mime: found!.mime };
}
