import { describe, expect, it } from 'vitest';
import { tabIndexForKey } from '../../lib/ui/tab-keys.ts';

describe('the dashboard tabs answer the WAI-ARIA tabs keys', () => {
  it('moves right and left, wrapping at both ends', () => {
    expect(tabIndexForKey('ArrowRight', 0, 4)).toBe(1);
    expect(tabIndexForKey('ArrowRight', 3, 4)).toBe(0);
    expect(tabIndexForKey('ArrowLeft', 2, 4)).toBe(1);
    expect(tabIndexForKey('ArrowLeft', 0, 4)).toBe(3);
  });

  it('goes to the first tab with Home and the last with End', () => {
    expect(tabIndexForKey('Home', 2, 4)).toBe(0);
    expect(tabIndexForKey('End', 1, 4)).toBe(3);
  });

  it('leaves every other key (Tab, Enter, letters, up and down) to the browser', () => {
    for (const key of ['Tab', 'Enter', ' ', 'a', 'ArrowUp', 'ArrowDown']) expect(tabIndexForKey(key, 1, 4)).toBeNull();
  });
});
