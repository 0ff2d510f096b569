import { describe, expect, it } from 'vitest';
import { listWindow, moveActive, scrollToShow } from '../../lib/ui/archive-window.ts';
import { archiveHash, parseArchiveHash, senderName } from '../../lib/ui/archive-link.ts';
import { latestOnly } from '../../lib/ui/archive-search.ts';

const ROW = 36;

describe('the message list renders only the rows in view', () => {
  it('renders the first screen plus the overscan at the top of a long list, and spacers for the rest', () => {
    const w = listWindow({ count: 100_000, rowPx: ROW, scrollTop: 0, viewportPx: 360, overscan: 5 });
    expect(w).toEqual({ start: 0, end: 15, padTop: 0, padBottom: (100_000 - 15) * ROW });
  });

  it('keeps the total height of the list whatever is scrolled to, so the scrollbar does not jump', () => {
    for (const scrollTop of [0, 35, 36, 3600, 99_990 * ROW, 100_000 * ROW]) {
      const w = listWindow({ count: 100_000, rowPx: ROW, scrollTop, viewportPx: 500, overscan: 8 });
      expect(w.padTop + (w.end - w.start) * ROW + w.padBottom).toBe(100_000 * ROW);
      expect(w.end - w.start).toBeLessThanOrEqual(Math.ceil(500 / ROW) + 1 + 16);
      expect(w.start).toBeLessThan(w.end);
    }
  });

  it('shows the rows under the viewport in the middle of the list, with overscan on both sides', () => {
    const w = listWindow({ count: 1000, rowPx: ROW, scrollTop: 100 * ROW + 10, viewportPx: 10 * ROW, overscan: 3 });
    expect(w.start).toBe(97);
    // Rows 100 to 110 are in view (110 in part): 111 exclusive, plus 3.
    expect(w.end).toBe(114);
  });

  it('renders nothing for an empty list and everything for a list shorter than the viewport', () => {
    expect(listWindow({ count: 0, rowPx: ROW, scrollTop: 0, viewportPx: 500, overscan: 8 })).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0 });
    expect(listWindow({ count: 3, rowPx: ROW, scrollTop: 0, viewportPx: 500, overscan: 8 })).toEqual({ start: 0, end: 3, padTop: 0, padBottom: 0 });
  });

  it('survives a scroll position past the end (the list shrank under it) and a negative one (overscroll)', () => {
    const past = listWindow({ count: 10, rowPx: ROW, scrollTop: 5000, viewportPx: 200, overscan: 2 });
    expect(past.end).toBe(10);
    expect(past.start).toBeLessThan(10);
    expect(listWindow({ count: 10, rowPx: ROW, scrollTop: -50, viewportPx: 200, overscan: 0 }).start).toBe(0);
  });

  it('scrolls only as far as needed to show the row the keyboard moved to', () => {
    expect(scrollToShow(5, { rowPx: ROW, scrollTop: 0, viewportPx: 10 * ROW })).toBe(0);
    expect(scrollToShow(12, { rowPx: ROW, scrollTop: 0, viewportPx: 10 * ROW })).toBe(3 * ROW);
    expect(scrollToShow(2, { rowPx: ROW, scrollTop: 10 * ROW, viewportPx: 10 * ROW })).toBe(2 * ROW);
  });

  it('moves with arrows, Page keys, Home and End, and stays inside the list', () => {
    expect(moveActive('ArrowDown', 0, 10, 5)).toBe(1);
    expect(moveActive('ArrowDown', 9, 10, 5)).toBe(9);
    expect(moveActive('ArrowUp', 0, 10, 5)).toBe(0);
    expect(moveActive('PageDown', 8, 10, 5)).toBe(9);
    expect(moveActive('PageUp', 3, 10, 5)).toBe(0);
    expect(moveActive('End', 0, 10, 5)).toBe(9);
    expect(moveActive('Home', 7, 10, 5)).toBe(0);
    expect(moveActive('x', 7, 10, 5)).toBeNull();
    expect(moveActive('ArrowDown', 0, 0, 5)).toBeNull();
  });
});

describe('the archive page link', () => {
  it('round-trips account, folder, message, query and run, non-ASCII folder names included', () => {
    const view = { account: 'work', folder: 'Entwürfe/2024 & more', message: '42', query: 'from:ann "März"', atRun: 7 };
    expect(parseArchiveHash(archiveHash(view))).toEqual(view);
  });

  it('a row shows the sender\'s name, else the address, else what the header says', () => {
    expect(senderName('"Mallory" <mallory@example.org>')).toBe('Mallory');
    expect(senderName('Ann Example <ann@example.org>')).toBe('Ann Example');
    expect(senderName('<bob@example.org>')).toBe('bob@example.org');
    expect(senderName('carol@example.org')).toBe('carol@example.org');
    expect(senderName('')).toBe('');
  });

  it('leaves out what it cannot trust instead of guessing', () => {
    expect(parseArchiveHash('#account=../x&message=a/b&run=-1')).toEqual({});
    expect(parseArchiveHash('')).toEqual({});
  });
});

describe('results as you type', () => {
  function fakeTimers() {
    const pending = new Map<number, () => void>();
    let n = 0;
    return {
      setTimer: (fn: () => void) => (pending.set(++n, fn), n),
      clearTimer: (t: unknown) => void pending.delete(t as number),
      fire: () => {
        const fns = [...pending.values()];
        pending.clear();
        for (const f of fns) f();
      },
      get size() {
        return pending.size;
      },
    };
  }

  it('sends one request after a pause in typing, for the last text typed', async () => {
    const timers = fakeTimers();
    const sent: string[] = [];
    const shown: string[] = [];
    const s = latestOnly(async (q: string) => (sent.push(q), q.toUpperCase()), (r) => shown.push(r), timers);
    s.push('c');
    s.push('co');
    s.push('con');
    expect(timers.size).toBe(1);
    timers.fire();
    await Promise.resolve();
    await Promise.resolve();
    expect(sent).toEqual(['con']);
    expect(shown).toEqual(['CON']);
  });

  it('drops the answer to a query that was superseded while it ran, even when it arrives last', async () => {
    const timers = fakeTimers();
    const answers = new Map<string, (v: string) => void>();
    const shown: string[] = [];
    const s = latestOnly((q: string) => new Promise<string>((resolve) => answers.set(q, resolve)), (r) => shown.push(r), timers);
    s.push('slow');
    timers.fire();
    s.push('fast');
    timers.fire();
    answers.get('fast')!('fast hits');
    answers.get('slow')!('slow hits');
    await new Promise((r) => setTimeout(r, 0));
    expect(shown).toEqual(['fast hits']);
  });

  it('shows nothing after cancel (the person switched account)', async () => {
    const timers = fakeTimers();
    const shown: string[] = [];
    const s = latestOnly(async (q: string) => q, (r) => shown.push(r), timers);
    s.push('x');
    s.cancel();
    timers.fire();
    await new Promise((r) => setTimeout(r, 0));
    expect(shown).toEqual([]);
  });
});
