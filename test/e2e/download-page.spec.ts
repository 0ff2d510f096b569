/// <reference types="chrome" />
/**
 * Download from the dashboard, end to end: the built extension in Chromium, the real relay and a
 * real Dovecot. Pair, add the mailbox (its first backup runs), then in the dashboard's Download
 * tab prepare an export (a download job in the store, run by the service worker), see its row in
 * the tab's table reach Completed / Link, click its Download button: the browser's download
 * manager fetches it from the relay with the pairing token and the zip arrives whole.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { test, expect } from '@playwright/test';
import { addMailbox, pairedOptions, relayWorldPerFile, worldMailbox } from './relay-world';
import { stopServiceWorkers } from './fixtures';
import { relayJobRecords } from '../support/relay-jobs-record.ts';

test.describe.configure({ mode: 'serial' });
const INITIAL = 15;
const shared = relayWorldPerFile({ initialMessages: INITIAL, testTimeoutMs: 120_000, setupTimeoutMs: 90_000 });

test('prepare a download, see Completed / Link, click Download, and the file arrives', async () => {
  const options = await pairedOptions(shared.world);
  await addMailbox(options, worldMailbox(shared.world));

  const dashboard = await shared.world.open('dashboard.html#tab=backup');
  await expect(dashboard.getByTestId('job-row').first()).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  await dashboard.getByRole('tab', { name: 'Download' }).click();
  const panel = dashboard.getByTestId('download-panel');
  await panel.getByTestId('download-account').selectOption({ label: 'alice@example.org' });
  await panel.getByTestId('download-format').selectOption('eml-zip');
  await panel.getByTestId('download-ttl').selectOption({ label: '1 hour' });
  await panel.getByTestId('download-start').click();
  await expect(panel.getByTestId('download-queued')).toBeVisible();
  const row = dashboard.getByTestId('job-row');
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute('data-status', 'completed_link', { timeout: 30_000 });
  await expect(row.getByTestId('status-label')).toHaveText('Completed / Link');
  await expect(row.getByTestId('hint-text')).toHaveText('Click "Download" to save the archive before the link expires.');
  await expect(row.getByTestId('job-scope')).toContainText('.eml files, all folders: ');
  await dashboard.screenshot({ path: test.info().outputPath('download-completed-link.png') });

  // The link lives as long as chosen: the relay's record of the job says so.
  const dl = relayJobRecords(shared.world.dataDir).find((j) => j.kind === 'download')!;
  expect((Date.parse(dl.outcome!.link!.expiresAt) - Date.parse(dl.updatedAt)) / 60_000).toBeCloseTo(60, 0);

  await row.locator('[data-action=download]').click();
  const item = await expect
    .poll(
      async () => {
        const items = await dashboard.evaluate(() => chrome.downloads.search({}));
        return items.find((i) => i.state === 'complete' || i.state === 'interrupted') ?? null;
      },
      { timeout: 20_000 },
    )
    .not.toBeNull()
    .then(() => dashboard.evaluate(() => chrome.downloads.search({})).then((items) => items[0]!));
  expect(item.state, item.error ?? '').toBe('complete');
  // Playwright stores downloads under a generated name; the relay's URL and type identify it.
  expect(item.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/download\/[0-9a-f]{64}$/);
  expect(item.mime).toBe('application/zip');
  expect(fs.existsSync(item.filename)).toBe(true);
  const py = spawnSync('python3', ['-c', 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(len(z.infolist()))', item.filename], { encoding: 'utf8' });
  expect(py.stdout.trim(), py.stderr).toBe(String(INITIAL));

  // The row says what Chrome did, not what was hoped: saved, how much, and where to find it.
  const state = row.getByTestId('download-state');
  await expect(state).toHaveAttribute('data-state', 'saved');
  await expect(state.getByTestId('download-state-text')).toHaveText(/^Saved as .+ \(\d+(\.\d)? (bytes|KB|MB)\)\.$/);
  await expect(state.getByRole('button', { name: 'Show in folder' })).toBeVisible();
  await expect(row.getByText('Saving to your downloads folder')).toHaveCount(0);
  // Offered under the account's address and the day (Playwright saves it under a generated name,
  // so the relay's Content-Disposition is where the name is read).
  const link = dl.outcome!.link!;
  expect(link.fileName).toMatch(/^alice@example\.org-\d{4}-\d{2}-\d{2}\.eml\.zip$/);
  const head = await dashboard.evaluate(async (url) => {
    const pairing = (await chrome.storage.local.get('mailkeepPairing')).mailkeepPairing as { port: number; token: string };
    const r = await fetch(`http://127.0.0.1:${pairing.port}${url}`, { headers: { authorization: `Bearer ${pairing.token}` } });
    return r.headers.get('content-disposition');
  }, link.url);
  expect(head).toContain(`filename="${link.fileName}"`);
  await dashboard.screenshot({ path: test.info().outputPath('download-saved.png') });
});

test('with the relay down, Download says Chrome could not reach it and offers Try again; with the relay back, Try again saves; a reopened page, after a service-worker restart, says the same', async () => {
  const dashboard = await shared.world.open('dashboard.html#tab=download');
  const row = dashboard.getByTestId('job-row');
  await expect(row).toHaveAttribute('data-status', 'completed_link', { timeout: 30_000 });
  const downloadsBefore = (await dashboard.evaluate(() => chrome.downloads.search({}))).length;

  await shared.world.relay.stop();
  await row.locator('[data-action=download]').click();
  const state = row.getByTestId('download-state');
  await expect(state).toHaveAttribute('data-state', 'failed', { timeout: 20_000 });
  await expect(state.getByTestId('download-state-text')).toHaveText('Not saved: the relay could not be reached (is it running?).');
  await expect(row.getByText('Saving to your downloads folder')).toHaveCount(0);
  // Chrome's own record says the same.
  const failed = (await dashboard.evaluate(() => chrome.downloads.search({ orderBy: ['-startTime'] })))[0]!;
  expect(failed).toMatchObject({ state: 'interrupted', error: 'NETWORK_FAILED' });
  await dashboard.screenshot({ path: test.info().outputPath('download-relay-down.png') });

  await shared.world.restartRelay();
  await state.getByRole('button', { name: 'Try again' }).click();
  await expect(state).toHaveAttribute('data-state', 'saved', { timeout: 20_000 });
  await expect(state.getByTestId('download-state-text')).toHaveText(/^Saved as /);
  expect((await dashboard.evaluate(() => chrome.downloads.search({}))).length).toBe(downloadsBefore + 2);

  // Nothing of it lived in the page or the worker: both gone, the reopened page asks Chrome.
  await stopServiceWorkers(shared.world.context, dashboard);
  await dashboard.close();
  const again = await shared.world.open('dashboard.html#tab=download');
  const reopened = again.getByTestId('job-row').getByTestId('download-state');
  await expect(reopened).toHaveAttribute('data-state', 'saved', { timeout: 20_000 });
  await again.screenshot({ path: test.info().outputPath('download-saved-reopened.png') });
});
