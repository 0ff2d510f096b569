/// <reference types="chrome" />
/**
 * Accessibility of every page in both themes: axe (the WCAG A/AA rules and best practices) finds no
 * violation on the popup, the dashboard's every tab, the options, the migrate, the archive and the
 * Welcome page, light and dark (the Welcome page's steps with a live relay: first-run.spec.ts); the
 * dashboard's tabs follow the WAI-ARIA tabs pattern from the keyboard; every full page
 * has a way back to the others; an empty tab says what to do.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { test, expect, sendToWorker } from './fixtures';
import { allStatusesSeed } from './seed-all-statuses';

const THEMES = ['light', 'dark'] as const;
const TABS = ['Backup', 'Download', 'Restore', 'Migrate'] as const;

/** Axe's findings as short lines (rule, impact, the first elements), so a failure says what to fix. */
async function violations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

async function seed(page: Page): Promise<void> {
  const reply = await sendToWorker<{ ok: boolean; message?: string }>(page, { type: 'dev:seed', accounts: allStatusesSeed() });
  expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true });
}

for (const colorScheme of THEMES) {
  test.describe(`axe finds nothing on any page in the ${colorScheme} theme`, () => {
    test(`the popup, the dashboard's every tab, the options, the migrate and the Welcome page (${colorScheme})`, async ({ openExtensionPage }) => {
      const popup = await openExtensionPage('popup.html');
      await seed(popup);
      await popup.emulateMedia({ colorScheme });
      await popup.setViewportSize({ width: 420, height: 600 });
      await popup.reload();
      await expect(popup.locator('[data-testid=account-card]').first()).toBeVisible();
      expect(await violations(popup), 'popup').toEqual([]);

      const dashboard = await openExtensionPage('dashboard.html');
      await dashboard.emulateMedia({ colorScheme });
      for (const tab of TABS) {
        await dashboard.getByRole('tab', { name: tab }).click();
        await expect(dashboard.locator('[data-testid=job-row]').first()).toBeVisible();
        expect(await violations(dashboard), `dashboard ${tab}`).toEqual([]);
      }

      const options = await openExtensionPage('options.html#new');
      await options.emulateMedia({ colorScheme });
      await expect(options.getByRole('heading', { name: 'Add a mailbox' })).toBeVisible();
      // With the form's errors showing, too: they are tied to their fields.
      await options.getByRole('button', { name: 'Save' }).click();
      await expect(options.getByTestId('error-email')).toBeVisible();
      expect(await violations(options), 'options').toEqual([]);
      await options.locator('[data-testid=account-list] a').first().click();
      await expect(options.getByRole('heading', { name: /^Edit / })).toBeVisible();
      expect(await violations(options), 'options, editing an account').toEqual([]);

      const migrate = await openExtensionPage('migrate.html');
      await migrate.emulateMedia({ colorScheme });
      await expect(migrate.getByRole('heading', { name: 'Migrate a mailbox' })).toBeVisible();
      await expect(migrate.getByTestId('migrate-problem')).toBeVisible(); // no relay here: it says so
      expect(await violations(migrate), 'migrate').toEqual([]);

      // The Welcome page with mailboxes and no relay: step 1 to do, the first backup last known.
      const welcome = await openExtensionPage('welcome.html');
      await welcome.emulateMedia({ colorScheme });
      await expect(welcome.getByTestId('step-mailbox')).toHaveAttribute('data-state', 'done');
      await expect(welcome.getByTestId('step-backup')).toHaveAttribute('data-state', /^(done|waiting)$/);
      expect(await violations(welcome), 'welcome with mailboxes').toEqual([]);
      // The Archive page without a relay (with one, and a preview open: archive-page.spec.ts).
      const archive = await openExtensionPage('archive.html');
      await archive.emulateMedia({ colorScheme });
      await expect(archive.getByRole('heading', { name: 'Archive' })).toBeVisible();
      await expect(archive.getByTestId('archive-page-problem')).toBeVisible();
      expect(await violations(archive), 'archive').toEqual([]);
    });

    test(`the empty dashboard, popup and Welcome page of a first run (${colorScheme})`, async ({ openExtensionPage }) => {
      const dashboard = await openExtensionPage('dashboard.html');
      await dashboard.emulateMedia({ colorScheme });
      for (const tab of TABS) {
        await dashboard.getByRole('tab', { name: tab }).click();
        await expect(dashboard.getByTestId('no-jobs')).toBeVisible();
        expect(await violations(dashboard), `empty dashboard ${tab}`).toEqual([]);
      }
      const popup = await openExtensionPage('popup.html');
      await popup.emulateMedia({ colorScheme });
      await expect(popup.getByTestId('empty-state')).toBeVisible();
      expect(await violations(popup), 'empty popup').toEqual([]);
      const welcome = await openExtensionPage('welcome.html');
      await welcome.emulateMedia({ colorScheme });
      await expect(welcome.getByTestId('step-relay')).toHaveAttribute('data-state', 'current');
      await expect(welcome.getByTestId('install-command')).toBeVisible();
      expect(await violations(welcome), 'welcome at step 1').toEqual([]);
    });
  });
}

test('the theme follows prefers-color-scheme: dark pages are dark, light pages light', async ({ openExtensionPage }) => {
  const page = await openExtensionPage('dashboard.html');
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: 'light' });
  expect(await background()).toBe('rgb(243, 245, 248)');
  await page.emulateMedia({ colorScheme: 'dark' });
  expect(await background()).toBe('rgb(13, 17, 23)');
});

test('the dashboard tabs work from the keyboard as WAI-ARIA tabs: arrows, Home and End select, Tab leaves for the panel', async ({ openExtensionPage }) => {
  const page = await openExtensionPage('dashboard.html');
  await seed(page);
  await page.reload();
  const tab = (name: string) => page.getByRole('tab', { name });
  // Only the selected tab is in the Tab order, and it controls the panel that names it.
  await expect(page.locator('[role=tab][tabindex="0"]')).toHaveCount(1);
  await expect(page.getByRole('tabpanel', { name: 'Backup' })).toBeVisible();
  await tab('Backup').focus();
  await page.keyboard.press('ArrowRight');
  await expect(tab('Download')).toBeFocused();
  await expect(tab('Download')).toHaveAttribute('aria-selected', 'true');
  await expect(tab('Backup')).toHaveAttribute('aria-selected', 'false');
  await expect(page.getByRole('tabpanel', { name: 'Download' })).toBeVisible();
  await page.keyboard.press('End');
  await expect(tab('Migrate')).toBeFocused();
  await expect(tab('Migrate')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowRight'); // wraps
  await expect(tab('Backup')).toBeFocused();
  await page.keyboard.press('ArrowLeft'); // wraps back
  await expect(tab('Migrate')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Home');
  await expect(tab('Backup')).toBeFocused();
  await expect(tab('Backup')).toHaveAttribute('aria-selected', 'true');
  await expect(page).toHaveURL(/#tab=backup$/);
  // Tab leaves the tab list for the panel's first control (the account filter), not the next tab.
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('filter-account')).toBeFocused();
});

test('every full page has a way back: the migrate page leads to System Status and the options, and back', async ({ openExtensionPage }) => {
  const page = await openExtensionPage('migrate.html');
  const nav = page.getByRole('navigation', { name: 'Mailkeep pages' });
  await expect(nav.getByRole('link', { name: 'Migrate' })).toHaveAttribute('aria-current', 'page');
  await nav.getByRole('link', { name: 'System Status' }).click();
  await expect(page.getByRole('heading', { name: 'System Status' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Mailkeep pages' }).getByRole('link', { name: 'Mailboxes & settings' }).click();
  await expect(page.getByRole('heading', { name: 'Mailkeep options' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Mailkeep pages' }).getByRole('link', { name: 'Migrate' }).click();
  await expect(page.getByRole('heading', { name: 'Migrate a mailbox' })).toBeVisible();
});

test('the Welcome page works from the keyboard: Tab reaches the page links, then the copy button of step 1, which copies', async ({ openExtensionPage }) => {
  const page = await openExtensionPage('welcome.html');
  await expect(page.getByTestId('first-run')).toHaveAttribute('data-current', 'relay');
  await expect(page.getByTestId('step-relay')).toHaveAttribute('aria-current', 'step');
  const nav = page.getByRole('navigation', { name: 'Mailkeep pages' });
  await expect(nav.getByRole('link', { name: 'Getting started' })).toHaveAttribute('aria-current', 'page');
  for (let i = 0; i < 5; i++) await page.keyboard.press('Tab'); // System Status, Archive, Mailboxes & settings, Migrate, Getting started
  await expect(nav.getByRole('link', { name: 'Getting started' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Copy the command npm start' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('copy-result')).toHaveText('Copied.');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'pair with its code on the options page' })).toBeFocused();
});

test('an empty tab says what to do instead of "No jobs match.", and a filter that hides everything offers to show all', async ({ openExtensionPage }) => {
  const page = await openExtensionPage('dashboard.html');
  // No relay here: the first thing to do is to connect it (first-run.spec.ts has the next steps).
  await expect(page.getByTestId('no-jobs')).toHaveAttribute('data-reason', 'no-accounts');
  await expect(page.getByTestId('no-jobs')).toHaveAttribute('data-next', 'connect-relay');
  await expect(page.getByTestId('no-jobs')).toContainText('Connect the relay first');
  await expect(page.getByTestId('no-jobs').getByRole('button', { name: 'Connect the relay' })).toBeVisible();
  await seed(page);
  await page.reload();
  await page.getByRole('tab', { name: 'Download' }).click();
  // Listed by address after the chosen name ("Backup Completed · userN@example.org").
  await page.getByTestId('filter-account').selectOption((await page.locator('[data-testid=filter-account] option', { hasText: 'Backup Completed · ' }).getAttribute('value'))!);
  const empty = page.getByTestId('no-jobs');
  await expect(empty).toHaveAttribute('data-reason', 'filtered');
  await expect(empty).not.toContainText('No jobs match.');
  await empty.getByRole('button', { name: 'Show all' }).click();
  await expect(page.locator('[data-testid=job-row]').first()).toBeVisible();
});

test('a bar without a total is indeterminate and animated, and still (striped, not moving) for a user who asks for less motion', async ({ openExtensionPage }) => {
  const page = await openExtensionPage('dashboard.html');
  // The classes ProgressBar renders when the relay has no total yet (a live one: progress-live.spec.ts).
  const animation = () =>
    page.evaluate(() => {
      const bar = document.createElement('div');
      bar.className = 'progress indeterminate';
      bar.innerHTML = '<div class="progress-fill"></div>';
      document.body.append(bar);
      const name = getComputedStyle(bar.firstElementChild!).animationName;
      bar.remove();
      return name;
    });
  await page.emulateMedia({ reducedMotion: 'no-preference' });
  expect(await animation()).toBe('mk-indeterminate');
  await page.emulateMedia({ reducedMotion: 'reduce' });
  expect(await animation()).toBe('none');
});
