import { describe, expect, it } from 'vitest';
import { addSample, progressView, type ProgressSample } from '../../lib/ui/progress-view.ts';

/** Samples of a run moving at `perSecond` messages a second, one a second from t0 = 1_000_000 (an injected clock). */
function watched(seconds: number, perSecond: number): { samples: ProgressSample[]; now: number; done: number } {
  let samples: ProgressSample[] = [];
  const t0 = 1_000_000;
  for (let s = 0; s <= seconds; s++) samples = addSample(samples, { at: t0 + s * 1000, done: s * perSecond });
  return { samples, now: t0 + seconds * 1000, done: seconds * perSecond };
}

describe('a progress bar shows a real fraction, its counts, and a time estimate only when earned', () => {
  it('shows the fraction of the run with messages and bytes when the relay gave a total', () => {
    const v = progressView({ messagesDone: 120, messagesTotal: 500, bytes: 3 * 1024 * 1024 }, [], 0);
    expect(v.percent).toBe(24);
    expect(v.counts).toBe('120 of 500 messages · 3.0 MB');
    expect(v.valueText).toBe('24 %: 120 of 500 messages · 3.0 MB');
  });

  it('is indeterminate without a total, and says so in words', () => {
    const v = progressView({ messagesDone: 502, messagesTotal: null, bytes: 0 }, watched(60, 5).samples, 1_060_000);
    expect(v.percent).toBeNull();
    expect(v.estimate).toBeNull();
    expect(v.valueText).toMatch(/^Working, total not known yet: 502 messages/);
  });

  it('is full, not indeterminate, for a run with nothing to fetch', () => {
    expect(progressView({ messagesDone: 0, messagesTotal: 0, bytes: 0 }, [], 0).percent).toBe(100);
  });

  it('gives no estimate before the run was watched long enough or over enough messages', () => {
    const short = watched(10, 10); // 10 s only
    expect(progressView({ messagesDone: short.done, messagesTotal: 5000, bytes: 0 }, short.samples, short.now).estimate).toBeNull();
    const few = watched(60, 0.25); // 15 messages in a minute
    expect(progressView({ messagesDone: 15, messagesTotal: 5000, bytes: 0 }, few.samples, few.now).estimate).toBeNull();
  });

  it('estimates the time left from the observed rate: 10 messages a second, 3000 left, about 5 minutes', () => {
    const w = watched(30, 10);
    const v = progressView({ messagesDone: w.done, messagesTotal: w.done + 3000, bytes: 0 }, w.samples, w.now);
    expect(v.estimate).toBe('about 5 minutes left');
    expect(v.valueText).toContain('about 5 minutes left');
  });

  it('lets the estimate grow while the run stalls, instead of keeping a promise the rate no longer supports', () => {
    const w = watched(30, 10);
    const stalled = progressView({ messagesDone: w.done, messagesTotal: w.done + 3000, bytes: 0 }, w.samples, w.now + 30_000);
    expect(stalled.estimate).toBe('about 10 minutes left');
  });

  it('follows the recent rate: samples older than the window are dropped, a restart starts afresh', () => {
    const w = watched(600, 1);
    expect(w.samples[0]!.at).toBeGreaterThanOrEqual(1_000_000 + 600_000 - 121_000);
    expect(addSample(w.samples, { at: w.now + 1000, done: 3 })).toEqual([{ at: w.now + 1000, done: 3 }]);
  });
});
