import { HISTORY_LIMITS } from '../limits.ts';
import type { HistoryRun } from '../protocol/account-history.ts';
import { runOutcomeLabel, runSeverity } from './history-text.ts';
import { dateTimeFormat } from '../intl-formats.ts';

/**
 * The model of the history chart (components/history-chart.tsx draws it as inline SVG): where each
 * point of the archive's growth line and each run's outcome mark goes, the axis ticks in the
 * user's zone, and the words of its title and description. Pure: clock-free, zone passed in, so
 * tests fix both. Hand-written rather than a chart library's: one line, one row of marks and two
 * axes are a few dozen lines, while a library would add tens of KB to every page and bring its own
 * colours, fonts and accessibility that we would have to undo (the spec's status colours, the
 * design tokens, dark theme, a table for screen readers).
 */

export type Severity = ReturnType<typeof runSeverity>;

export interface ChartRun {
  /** When the run started (epoch ms). */
  at: number;
  status: HistoryRun['status'];
  archiveMessages: number;
  archiveBytes: number;
  newMessages: number;
  disappeared: number;
}

export interface ChartOptions {
  width: number;
  height: number;
  timeZone: string;
  /** Marks at most; more runs are grouped by time (HISTORY_LIMITS.chartMaxPoints). */
  maxPoints?: number;
  /** Who the chart is about, for its title. */
  name?: string;
}

export interface ChartPoint {
  x: number;
  y: number;
  at: number;
  bytes: number;
  messages: number;
}

export interface ChartMark {
  x: number;
  y: number;
  width: number;
  height: number;
  /** The worst outcome among the runs it stands for (error > warning > info > progress > ok). */
  severity: Severity;
  /** The spec's name of that outcome. */
  label: string;
  runs: number;
  at: number;
}

export interface ChartTick {
  at?: number;
  x?: number;
  y?: number;
  label: string;
}

export interface ChartModel {
  width: number;
  height: number;
  empty: boolean;
  plot: { left: number; right: number; top: number; bottom: number };
  /** The outcome row, under the plot. */
  strip: { top: number; bottom: number };
  points: ChartPoint[];
  /** "M x y L x y ...": the growth line; areaPath closes it down to the axis. */
  linePath: string;
  areaPath: string;
  marks: ChartMark[];
  xTicks: (ChartTick & { at: number; x: number })[];
  yTicks: (ChartTick & { y: number })[];
  /** True when runs were grouped (more runs than maxPoints). */
  grouped: boolean;
  title: string;
  desc: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MARGIN = { left: 64, right: 12, top: 10, xAxis: 20, strip: 16, gap: 6 } as const;
const SEVERITY_RANK: Record<Severity, number> = { ok: 0, progress: 1, info: 2, warning: 3, error: 4 };
/** Marks differ in height too, not only in colour (WCAG 1.4.1): a failure stands out in grey scale. */
const MARK_HEIGHT: Record<Severity, number> = { ok: 0.45, progress: 0.45, info: 0.6, warning: 0.8, error: 1 };

export function historyChart(runsIn: readonly ChartRun[], opts: ChartOptions): ChartModel {
  const { width, height, timeZone } = opts;
  const maxPoints = Math.max(1, opts.maxPoints ?? HISTORY_LIMITS.chartMaxPoints);
  const plot = { left: MARGIN.left, right: width - MARGIN.right, top: MARGIN.top, bottom: height - MARGIN.xAxis - MARGIN.strip - MARGIN.gap };
  const strip = { top: plot.bottom + MARGIN.gap, bottom: plot.bottom + MARGIN.gap + MARGIN.strip };
  const title = `Archive growth and backup outcomes${opts.name ? ` of ${opts.name}` : ''}`;
  const runs = [...runsIn].sort((a, b) => a.at - b.at);
  if (runs.length === 0) {
    return { width, height, empty: true, plot, strip, points: [], linePath: '', areaPath: '', marks: [], xTicks: [], yTicks: [], grouped: false, title, desc: 'No backup runs yet.' };
  }
  const first = runs[0]!.at;
  const last = runs[runs.length - 1]!.at;
  // One run (or all at one instant): a day around it, so it sits in the middle.
  const t0 = last > first ? first : first - DAY / 2;
  const t1 = last > first ? last : first + DAY / 2;
  const x = (t: number): number => plot.left + ((t - t0) / (t1 - t0)) * (plot.right - plot.left);
  const groups = group(runs, t0, t1, maxPoints);
  const maxBytes = Math.max(...runs.map((r) => r.archiveBytes));
  const yAxis = byteAxis(maxBytes);
  const y = (bytes: number): number => plot.bottom - (bytes / yAxis.top) * (plot.bottom - plot.top);
  const points = groups.map((g) => ({ x: round(x(g.at)), y: round(y(g.bytes)), at: g.at, bytes: g.bytes, messages: g.messages }));
  const markWidth = Math.max(2, Math.min(10, ((plot.right - plot.left) / Math.max(groups.length, 1)) * 0.7));
  const marks = groups.map((g): ChartMark => {
    const h = MARGIN.strip * MARK_HEIGHT[g.severity];
    return { x: round(x(g.at) - markWidth / 2), y: round(strip.bottom - h), width: round(markWidth), height: round(h), severity: g.severity, label: g.label, runs: g.runs, at: g.at };
  });
  const linePath = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x} ${p.y}`).join(' ');
  const areaPath = points.length ? `${linePath} L${points[points.length - 1]!.x} ${plot.bottom} L${points[0]!.x} ${plot.bottom} Z` : '';
  // Runs minutes apart have no round hour between them: the axis names the last run's time instead.
  const ticks = timeTicks(t0, t1, timeZone);
  const xTicks = (ticks.length > 0 ? ticks : [{ at: last, label: hourLabel(last, timeZone) }]).map((t) => ({ ...t, x: round(x(t.at)) }));
  const yTicks = yAxis.ticks.map((v) => ({ y: round(y(v)), label: bytesLabel(v, yAxis.unit) }));
  return { width, height, empty: false, plot, strip, points, linePath, areaPath, marks, xTicks, yTicks, grouped: groups.length < runs.length, title, desc: describe(runs, timeZone) };
}

interface Group {
  at: number;
  bytes: number;
  messages: number;
  severity: Severity;
  label: string;
  runs: number;
}

/** Up to maxPoints groups of equal time span; each keeps its latest size and its worst outcome. */
function group(runs: readonly ChartRun[], t0: number, t1: number, maxPoints: number): Group[] {
  const one = (r: ChartRun): Group => ({ at: r.at, bytes: r.archiveBytes, messages: r.archiveMessages, severity: runSeverity(r.status), label: runOutcomeLabel(r.status), runs: 1 });
  if (runs.length <= maxPoints) return runs.map(one);
  const span = (t1 - t0) / maxPoints;
  const out = new Map<number, Group>();
  for (const r of runs) {
    const i = Math.min(maxPoints - 1, Math.floor((r.at - t0) / span));
    const g = out.get(i);
    const next = one(r);
    if (!g) out.set(i, next);
    else {
      const worse = SEVERITY_RANK[next.severity] >= SEVERITY_RANK[g.severity];
      out.set(i, { at: next.at, bytes: next.bytes, messages: next.messages, severity: worse ? next.severity : g.severity, label: worse ? next.label : g.label, runs: g.runs + 1 });
    }
  }
  return [...out.values()];
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** 0 .. a round top in the unit of the largest value (1024-based, as sizes are shown elsewhere). */
export function byteAxis(maxBytes: number): { top: number; ticks: number[]; unit: number } {
  let unit = 0;
  while (unit < UNITS.length - 1 && maxBytes >= 1024 ** (unit + 1)) unit++;
  const scale = 1024 ** unit;
  const v = Math.max(maxBytes / scale, 1);
  const raw = v / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  // Whole bytes at least: "0.5 B" is no size.
  const step = Math.max(unit === 0 ? 1 : 0, [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!);
  const topUnits = Math.max(step, Math.ceil(v / step) * step);
  const ticks: number[] = [];
  for (let t = 0; t <= topUnits + step / 2; t += step) ticks.push(Math.round(t * scale));
  return { top: topUnits * scale, ticks, unit };
}

function bytesLabel(v: number, unit: number): string {
  if (v === 0) return '0';
  const n = v / 1024 ** unit;
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${UNITS[unit]}`;
}

/** The instant's wall clock in `zone`, read as if it were UTC (so differences give the zone's offset). */
function wallClock(t: number, zone: string): number {
  const f = dateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const p = Object.fromEntries(
    f
      .formatToParts(t)
      .map((x) => [x.type, Number(x.value)]),
  ) as Record<string, number>;
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
}

/** The instant of local midnight in `zone` of the day `t` falls on (DST-safe: the offset is re-read there). */
export function startOfLocalDay(t: number, zone: string): number {
  const w = wallClock(t, zone);
  const midnightWall = w - (((w % DAY) + DAY) % DAY);
  let guess = midnightWall - (wallClock(t, zone) - t);
  guess = midnightWall - (wallClock(guess, zone) - guess);
  return guess;
}

const dayLabel = (t: number, zone: string) => dateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short' }).format(t);
const hourLabel = (t: number, zone: string) => dateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(t);

/** At most about 6 ticks: local midnights ("26 Nov") over two days or more, else round local hours ("14:00"). */
export function timeTicks(t0: number, t1: number, zone: string): { at: number; label: string }[] {
  const days: number[] = [];
  for (let d = startOfLocalDay(t0, zone); d <= t1; d = startOfLocalDay(d + 1.5 * DAY, zone)) if (d >= t0) days.push(d);
  if (days.length >= 2) {
    const every = Math.ceil(days.length / 6);
    return days.filter((_, i) => i % every === 0).map((at) => ({ at, label: dayLabel(at, zone) }));
  }
  const step = [1, 2, 3, 6, 12].find((s) => (t1 - t0) / (s * HOUR) <= 6) ?? 12;
  const out: { at: number; label: string }[] = [];
  // Quarter hours: a zone's offset may be :30 or :45 (India, Nepal), so a local hour is not a UTC one.
  const QUARTER = HOUR / 4;
  for (let t = Math.ceil(t0 / QUARTER) * QUARTER; t <= t1; t += QUARTER) {
    const wall = wallClock(t, zone);
    if (wall % HOUR === 0 && new Date(wall).getUTCHours() % step === 0) out.push({ at: t, label: hourLabel(t, zone) });
  }
  return out;
}

function describe(runs: readonly ChartRun[], zone: string): string {
  const first = runs[0]!;
  const last = runs[runs.length - 1]!;
  const when = (t: number) => `${dayLabel(t, zone)} ${hourLabel(t, zone)}`;
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(runOutcomeLabel(r.status), (counts.get(runOutcomeLabel(r.status)) ?? 0) + 1);
  const outcomes = [...counts].map(([label, n]) => `${n} ${label}`).join(', ');
  const size = (r: ChartRun) => `${r.archiveMessages} messages, ${bytesLabel(r.archiveBytes, byteAxis(r.archiveBytes).unit)}`;
  return `${runs.length} backup run${runs.length === 1 ? '' : 's'} from ${when(first.at)} to ${when(last.at)}: the archive grew from ${size(first)} to ${size(last)}. Outcomes: ${outcomes}.`;
}

const round = (v: number): number => Math.round(v * 10) / 10;
