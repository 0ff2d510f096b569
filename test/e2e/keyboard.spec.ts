/// <reference types="chrome" />
/**
 * Everything works from the keyboard: on every page (seeded with every status, no relay), each
 * element that reacts to a click can take the focus, Tab reaches every control that can, in one
 * cycle with no trap, and a focused control shows that it is.
 */
import type { Page } from '@playwright/test';
import { test, expect, sendToWorker } from './fixtures';
import { allStatusesSeed } from './seed-all-statuses';

const CLICKS = new Set(['click', 'mousedown', 'mouseup', 'pointerdown', 'pointerup', 'dblclick']);

/**
 * Visible elements with a click listener of their own (Preact puts listeners on the element) that
 * the keyboard cannot reach: not a control, no tabindex. Read from Chromium's own listener list.
 */
async function clickableButNotFocusable(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { result } = await cdp.send('Runtime.evaluate', { expression: 'Array.from(document.querySelectorAll("body *"))' });
    const { result: items } = await cdp.send('Runtime.getProperties', { objectId: result.objectId!, ownProperties: true });
    const bad: string[] = [];
    for (const item of items) {
      if (!/^\d+$/.test(item.name) || !item.value?.objectId) continue;
      const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: item.value.objectId });
      if (!listeners.some((l) => CLICKS.has(l.type))) continue;
      const { result: found } = await cdp.send('Runtime.callFunctionOn', {
        objectId: item.value.objectId,
        returnByValue: true,
        functionDeclaration: `function () {
          const e = this;
          if (!e.getClientRects().length || getComputedStyle(e).visibility === 'hidden' || e.disabled) return null;
          const focusable = e.matches('button, a[href], input, select, textarea, summary, label, [tabindex]:not([tabindex="-1"])');
          return focusable ? null : e.outerHTML.slice(0, 160);
        }`,
      });
      if (found.value) bad.push(found.value as string);
    }
    return bad;
  } finally {
    await cdp.detach();
  }
}

/** Marks every visible control the Tab key should reach (roving-tabindex members at -1 excepted). */
async function markTabbable(page: Page): Promise<number> {
  return page.evaluate(() => {
    let n = 0;
    for (const e of Array.from(document.querySelectorAll<HTMLElement>('button, a[href], input, select, textarea, summary, [tabindex]'))) {
      const hidden = !e.getClientRects().length || getComputedStyle(e).visibility === 'hidden' || (e as HTMLButtonElement).disabled || e.closest('[inert]');
      if (hidden || e.getAttribute('tabindex') === '-1' || (e instanceof HTMLInputElement && e.type === 'hidden')) continue;
      // A group of radios is one Tab stop (its checked member, or the first); arrows move within it.
      if (e instanceof HTMLInputElement && e.type === 'radio' && e.name) {
        const group = Array.from(document.querySelectorAll<HTMLInputElement>(`input[type=radio][name="${CSS.escape(e.name)}"]`));
        if (e !== (group.find((r) => r.checked) ?? group[0])) continue;
      }
      e.dataset.kb = String(n);
      n += 1;
    }
    return n;
  });
}

/** Presses Tab from the top until the focus comes back round; what it stopped on, and whether each showed focus. */
async function tabThrough(page: Page, expected: number): Promise<{ stops: string[]; unmarked: string[]; noRing: string[] }> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const stops: string[] = [];
  const unmarked: string[] = [];
  const noRing: string[] = [];
  for (let i = 0; i < expected + 5; i += 1) {
    await page.keyboard.press('Tab');
    const at = await page.evaluate(() => {
      const e = document.activeElement as HTMLElement | null;
      if (!e || e === document.body) return null;
      const s = getComputedStyle(e);
      const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
      return { kb: e.dataset.kb ?? null, html: e.outerHTML.slice(0, 120), ring };
    });
    if (at === null) continue; // the browser's own UI between two rounds
    if (at.kb === null) unmarked.push(at.html);
    else if (stops.includes(at.kb)) break;
    else stops.push(at.kb);
    if (!at.ring) noRing.push(at.html);
  }
  return { stops, unmarked, noRing };
}

async function checkPage(page: Page, label: string): Promise<void> {
  expect(await clickableButNotFocusable(page), `${label}: clickable but not reachable by keyboard`).toEqual([]);
  const expected = await markTabbable(page);
  expect(expected, `${label}: has controls`).toBeGreaterThan(0);
  const { stops, unmarked, noRing } = await tabThrough(page, expected);
  expect(unmarked, `${label}: Tab stopped on something that is not a visible control`).toEqual([]);
  expect(noRing, `${label}: focused without a visible focus ring`).toEqual([]);
  const missed = await page.evaluate((reached) => Array.from(document.querySelectorAll<HTMLElement>('[data-kb]')).filter((e) => !reached.includes(e.dataset.kb!)).map((e) => e.outerHTML.slice(0, 120)), stops);
  expect(missed, `${label}: controls Tab never reached`).toEqual([]);
  test.info().annotations.push({ type: 'tab stops', description: `${label}: ${stops.length}` });
}

test('every page with every status works from the keyboard: each clickable thing takes the focus, Tab reaches every control in one cycle, focus shows', async ({ openExtensionPage }) => {
  const popup = await openExtensionPage('popup.html');
  const reply = await sendToWorker<{ ok: boolean }>(popup, { type: 'dev:seed', accounts: allStatusesSeed() });
  expect(reply).toMatchObject({ ok: true });
  await popup.reload();
  await expect(popup.locator('[data-testid=account-card]').first()).toBeVisible();
  await checkPage(popup, 'popup');

  const dashboard = await openExtensionPage('dashboard.html');
  await expect(dashboard.locator('[data-testid=job-row]').first()).toBeVisible();
  const tabs = dashboard.getByRole('tab');
  for (let i = 0; i < (await tabs.count()); i += 1) {
    await tabs.nth(i).click();
    await expect(tabs.nth(i)).toHaveAttribute('aria-selected', 'true');
    await checkPage(dashboard, `dashboard, ${await tabs.nth(i).innerText()} tab`);
  }

  const options = await openExtensionPage('options.html');
  await options.locator('[data-testid=account-list] a').first().click();
  await expect(options.getByRole('heading', { name: /^Edit / })).toBeVisible();
  await checkPage(options, 'options, editing an account');

  for (const page of ['migrate.html', 'welcome.html', 'archive.html']) {
    const p = await openExtensionPage(page);
    await expect(p.locator('main, #app > *').first()).toBeVisible();
    await checkPage(p, page);
  }
});

test('the keyboard checks catch what they look for: a clickable div, a button Tab skips, a focus ring taken away', async ({ openExtensionPage }) => {
  const popup = await openExtensionPage('popup.html');
  await expect(popup.getByRole('button', { name: 'System Status' })).toBeVisible();
  await popup.evaluate(() => {
    const div = document.createElement('div');
    div.textContent = 'click me';
    div.addEventListener('click', () => undefined);
    document.body.append(div);
  });
  expect(await clickableButNotFocusable(popup)).toEqual(['<div>click me</div>']);

  const expected = await markTabbable(popup);
  // A control the marking counted that Tab then cannot reach, and a ring removed from all.
  await popup.evaluate(() => {
    const b = document.querySelector<HTMLElement>('[data-kb="0"]')!;
    b.tabIndex = -1;
    const style = document.createElement('style');
    style.textContent = '*:focus, *:focus-visible { outline: none !important; box-shadow: none !important; }';
    document.head.append(style);
  });
  const { stops, noRing } = await tabThrough(popup, expected);
  expect(stops).not.toContain('0');
  expect(stops.length).toBe(expected - 1);
  expect(noRing.length).toBeGreaterThan(0);
});
