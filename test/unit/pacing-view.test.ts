import { describe, expect, it } from 'vitest';
import { budgetForecast, progressView } from '../../lib/ui/progress-view.ts';
import { pauseCondition } from '../../lib/status/pause-condition.ts';

const GB = 1024 ** 3;
const MB = 1024 ** 2;

describe('the forecast and the pause condition a paced backup shows', () => {
  it('a 15.2 GB first backup at Gmail\'s 2,400 MB a day says about 6 days, with the bytes so far of the total', () => {
    const f = budgetForecast({ bytesDone: 3.1 * GB, bytesTotal: 15.2 * GB, dailyBytes: 2400 * MB, leftToday: 0, limitName: "Gmail's daily download limit" }, 0)!;
    expect(f.text).toBe("about 6 days at Gmail's daily limit; 3.1 GB of 15.2 GB so far");
    expect(f.days).toBe(6);
  });

  it('no budget or no total: no forecast (no guess beats a wrong one)', () => {
    expect(budgetForecast({ bytesDone: 1, bytesTotal: 10, dailyBytes: null }, 0)).toBeNull();
    expect(budgetForecast({ bytesDone: 1, bytesTotal: null, dailyBytes: 10 }, 0)).toBeNull();
  });

  it('the bar uses the bytes fraction when the total bytes are known', () => {
    const v = progressView({ messagesDone: 10, messagesTotal: 100, bytes: 3.1 * GB, bytesTotal: 15.2 * GB, dailyBudgetBytes: 2400 * MB, budgetName: "Gmail's daily download limit" }, [], 0);
    expect(v.percent).toBe(20);
    expect(v.counts).toContain('3.1 GB of 15.2 GB');
    expect(v.forecast).toMatch(/^about \d+ days at Gmail's daily limit/);
  });

  it("the paused condition names the limit and the resume time in the user's zone", () => {
    const now = Date.UTC(2026, 0, 5, 12, 0);
    const text = pauseCondition({ reason: 'budget', provider: 'gmail', resumeAt: new Date(Date.UTC(2026, 0, 5, 20, 40)).toISOString() }, 'Europe/Berlin', now);
    expect(text).toBe("Gmail's daily download limit reached; resumes at 21:40");
    const later = pauseCondition({ reason: 'throttled', provider: 'outlook', resumeAt: new Date(now + 30 * 3600_000).toISOString() }, 'UTC', now);
    expect(later).toBe('Outlook asked Mailkeep to slow down; resumes Tue at 18:00');
  });
});
