import { describe, expect, it } from 'vitest';
import { historyChart, startOfLocalDay, timeTicks, byteAxis, type ChartRun } from '../../lib/ui/history-chart.ts';

// The history chart's model: scales, an empty history, one run, a thousand runs grouped, and the
// axis in the user's zone (DST included). Every time and zone is fixed here.

const T = Date.parse('2026-11-20T08:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const run = (at: number, archiveBytes: number, status: ChartRun['status'] = 'completed', archiveMessages = Math.round(archiveBytes / 1000)): ChartRun => ({ at, status, archiveBytes, archiveMessages, newMessages: 1, disappeared: 0 });
const opts = { width: 600, height: 200, timeZone: 'UTC' };
const localTime = (t: number, zone: string) => new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(t);

describe('the history chart model', () => {
  it('an empty history draws nothing and says there are no runs yet', () => {
    const m = historyChart([], opts);
    expect(m).toMatchObject({ empty: true, points: [], marks: [], xTicks: [], yTicks: [], linePath: '', desc: 'No backup runs yet.' });
    expect(m.title).toContain('Archive growth');
  });

  it('one run sits in the middle of a day-wide axis, its size under the top of a round byte axis', () => {
    const m = historyChart([run(T, 13 * 1024)], opts);
    expect(m.empty).toBe(false);
    expect(m.points).toHaveLength(1);
    expect(m.points[0]!.x).toBeCloseTo((m.plot.left + m.plot.right) / 2, 0);
    expect(m.points[0]!.y).toBeGreaterThanOrEqual(m.plot.top);
    expect(m.points[0]!.y).toBeLessThan(m.plot.bottom);
    expect(m.yTicks.map((t) => t.label)).toEqual(['0', '5 KB', '10 KB', '15 KB']);
    expect(m.marks).toEqual([expect.objectContaining({ severity: 'ok', label: 'Completed', runs: 1 })]);
    expect(m.desc).toBe('1 backup run from 20 Nov 08:00 to 20 Nov 08:00: the archive grew from 13 messages, 13 KB to 13 messages, 13 KB. Outcomes: 1 Completed.');
  });

  it('scales: the first run is at the left edge, the last at the right, sizes grow upwards within the plot', () => {
    const m = historyChart([run(T, 1024 * 1024), run(T + DAY, 3 * 1024 * 1024), run(T + 2 * DAY, 4.5 * 1024 * 1024)], opts);
    expect(m.points.map((p) => p.x)).toEqual([m.plot.left, (m.plot.left + m.plot.right) / 2, m.plot.right]);
    const ys = m.points.map((p) => p.y);
    expect(ys[0]).toBeGreaterThan(ys[1]!);
    expect(ys[1]).toBeGreaterThan(ys[2]!);
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(m.plot.top);
    // The top tick is the first round value at or above the largest size.
    expect(m.yTicks.map((t) => t.label)).toEqual(['0', '2 MB', '4 MB', '6 MB']);
    expect(m.yTicks[0]!.y).toBe(m.plot.bottom);
    expect(m.yTicks[m.yTicks.length - 1]!.y).toBe(m.plot.top);
    expect(m.linePath).toMatch(/^M[\d.]+ [\d.]+ L[\d.]+ [\d.]+ L[\d.]+ [\d.]+$/);
    expect(m.grouped).toBe(false);
  });

  it('an archive that holds nothing yet still has an axis (0 to 1 B), the line on the floor', () => {
    const m = historyChart([run(T, 0, 'authentication_error'), run(T + HOUR, 0, 'authentication_error')], opts);
    expect(byteAxis(0).top).toBe(1);
    expect(m.points.every((p) => p.y === m.plot.bottom)).toBe(true);
    expect(m.marks.every((k) => k.severity === 'error' && k.label === 'Authentication Error')).toBe(true);
  });

  it("an outcome's mark differs in height as well as colour, so a failure stands out without colour", () => {
    const m = historyChart([run(T, 10, 'completed'), run(T + HOUR, 10, 'partially_completed'), run(T + 2 * HOUR, 10, 'connection_error'), run(T + 3 * HOUR, 10, null)], opts);
    const [ok, partial, failed, interrupted] = m.marks;
    expect(ok!.height).toBeLessThan(partial!.height);
    expect(partial!.height).toBeLessThan(failed!.height);
    expect(interrupted).toMatchObject({ severity: 'warning', label: 'Interrupted' });
    for (const k of m.marks) expect(k.y + k.height).toBeCloseTo(m.strip.bottom, 5);
  });

  it('1,000 runs are grouped into at most 120 marks; the last size stays exact and a single failure is not averaged away', () => {
    const runs = Array.from({ length: 1000 }, (_, i) => run(T + i * 6 * HOUR, (i + 1) * 2048, i === 537 ? 'connection_error' : 'completed'));
    const m = historyChart(runs, opts);
    expect(m.grouped).toBe(true);
    expect(m.marks.length).toBeLessThanOrEqual(120);
    expect(m.marks.length).toBeGreaterThan(100);
    expect(m.points).toHaveLength(m.marks.length);
    expect(m.marks.reduce((n, k) => n + k.runs, 0)).toBe(1000);
    expect(m.points[m.points.length - 1]).toMatchObject({ bytes: 1000 * 2048, x: m.plot.right });
    const failed = m.marks.filter((k) => k.severity === 'error');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.label).toBe('Connection Error');
    // The time axis stays readable.
    expect(m.xTicks.length).toBeLessThanOrEqual(6);
    expect(m.desc).toContain('1000 backup runs');
    expect(m.desc).toContain('999 Completed, 1 Connection Error');
  });

  it('the same runs get their day ticks at local midnight of the zone they are shown in', () => {
    const runs = [run(Date.parse('2026-11-20T03:00:00Z'), 1), run(Date.parse('2026-11-23T20:00:00Z'), 2)];
    const berlin = historyChart(runs, { ...opts, timeZone: 'Europe/Berlin' });
    const newYork = historyChart(runs, { ...opts, timeZone: 'America/New_York' });
    for (const t of berlin.xTicks) expect(localTime(t.at, 'Europe/Berlin')).toBe('00:00');
    for (const t of newYork.xTicks) expect(localTime(t.at, 'America/New_York')).toBe('00:00');
    expect(berlin.xTicks.map((t) => t.label)).toEqual(['21 Nov', '22 Nov', '23 Nov']);
    expect(newYork.xTicks.map((t) => t.label)).toEqual(['20 Nov', '21 Nov', '22 Nov', '23 Nov']);
    expect(berlin.xTicks[0]!.x).not.toBe(newYork.xTicks[1]!.x);
  });

  it('across a DST change the day ticks stay on local midnight: the long day is 25 hours wide', () => {
    // New York leaves DST on 1 Nov 2026 (02:00 -> 01:00).
    const ticks = timeTicks(Date.parse('2026-10-30T12:00:00Z'), Date.parse('2026-11-03T12:00:00Z'), 'America/New_York');
    expect(ticks.map((t) => t.label)).toEqual(['31 Oct', '1 Nov', '2 Nov', '3 Nov']);
    const gaps = ticks.slice(1).map((t, i) => (t.at - ticks[i]!.at) / HOUR);
    expect(gaps).toEqual([24, 25, 24]);
    expect(startOfLocalDay(Date.parse('2026-11-01T12:00:00Z'), 'America/New_York')).toBe(Date.parse('2026-11-01T04:00:00Z'));
    expect(startOfLocalDay(Date.parse('2026-11-02T12:00:00Z'), 'America/New_York')).toBe(Date.parse('2026-11-02T05:00:00Z'));
  });

  it("runs minutes apart, with no round hour between them, get the last run's time on the axis", () => {
    const m = historyChart([run(T + 60_000, 10), run(T + 5 * 60_000, 20)], { ...opts, timeZone: 'Europe/Berlin' });
    expect(m.xTicks).toEqual([{ at: T + 5 * 60_000, x: m.plot.right, label: '09:05' }]);
  });

  it('a history of a few hours gets hour ticks in the zone, at most six', () => {
    const ticks = timeTicks(Date.parse('2026-11-20T08:10:00Z'), Date.parse('2026-11-20T13:50:00Z'), 'Asia/Kolkata');
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks.length).toBeLessThanOrEqual(6);
    for (const t of ticks) expect(localTime(t.at, 'Asia/Kolkata')).toMatch(/^\d\d:00$/);
    expect(ticks[0]!.label).toBe('14:00');
  });
});
