/// <reference types="chrome" />
/**
 * The popup's static frame (entrypoints/popup/index.html, painted while the scripts load) is a copy
 * of what components/popup-app.tsx renders: if the two drift apart, the header changes under the
 * user's eyes when the app takes the nodes over. This keeps the copy true.
 */
import { test, expect } from './fixtures';

test('the frame popup.html paints before its scripts run is the header the app then renders, node for node', async ({ openExtensionPage }) => {
  const popup = await openExtensionPage('popup.html');
  await expect(popup.getByRole('button', { name: 'System Status' })).toBeVisible();
  const { shell, live } = await popup.evaluate(async () => {
    // Tag, attributes (sorted) and text of a tree, whatever order each side wrote them in.
    const shape = (n: Node): unknown =>
      n.nodeType === Node.TEXT_NODE
        ? (n.textContent ?? '').trim() || null
        : n instanceof Element
          ? [n.tagName.toLowerCase(), Array.from(n.attributes).map((a) => `${a.name}=${a.value}`).sort(), Array.from(n.childNodes).map(shape).filter((c) => c !== null)]
          : null;
    const raw = new DOMParser().parseFromString(await (await fetch('/popup.html')).text(), 'text/html');
    const frame = raw.querySelector('#app .brand');
    return { shell: frame ? shape(frame) : null, live: shape(document.querySelector('#app .brand')!) };
  });
  expect(shell).not.toBeNull();
  expect(shell).toEqual(live);
  await expect(popup.locator('#app main')).toHaveCount(1);
  await expect(popup.locator('#app h1')).toHaveText('Mailkeep');
});
