import { useMemo } from 'preact/hooks';
import type { HistoryRunRow } from '@/lib/storage/history-rows';
import { historyChart } from '@/lib/ui/history-chart';

const WIDTH = 640;
const HEIGHT = 190;

/**
 * The archive's growth over time and each run's outcome, as inline SVG drawn from the model in
 * lib/ui/history-chart.ts (no chart library: see there). For assistive technology the picture is an
 * image with a title and a description that says what it shows; the runs table beside it holds the
 * same data row by row.
 */
export function HistoryChart({ runs, name, timeZone, idPrefix }: { runs: HistoryRunRow[]; name: string; timeZone: string; idPrefix: string }) {
  const m = useMemo(
    () => historyChart(runs.map((r) => ({ at: r.startedAt, status: r.status, archiveBytes: r.archiveBytes, archiveMessages: r.archiveMessages, newMessages: r.newMessages, disappeared: r.disappeared })), { width: WIDTH, height: HEIGHT, timeZone, name }),
    [runs, timeZone, name],
  );
  if (m.empty) return null;
  const titleId = `${idPrefix}-chart-title`;
  const descId = `${idPrefix}-chart-desc`;
  return (
    <figure class="history-chart" data-testid="history-chart" data-marks={m.marks.length} data-grouped={String(m.grouped)}>
      <svg viewBox={`0 0 ${m.width} ${m.height}`} role="img" aria-labelledby={`${titleId} ${descId}`}>
        <title id={titleId}>{m.title}</title>
        <desc id={descId}>{m.desc}</desc>
        <g class="axis" aria-hidden="true">
          {m.yTicks.map((t) => (
            <g>
              <line class="grid" x1={m.plot.left} x2={m.plot.right} y1={t.y} y2={t.y} />
              <text x={m.plot.left - 6} y={t.y + 4} text-anchor="end">
                {t.label}
              </text>
            </g>
          ))}
          {m.xTicks.map((t) => (
            <text x={t.x} y={m.height - 4} text-anchor="middle">
              {t.label}
            </text>
          ))}
        </g>
        <g aria-hidden="true">
          <path class="growth-area" d={m.areaPath} opacity="0.6" />
          <path class="growth-line" d={m.linePath} />
          {m.points.length <= 40 && m.points.map((p) => <circle class="growth-dot" cx={p.x} cy={p.y} r="2.5" />)}
          {m.marks.map((k) => (
            <rect class={`mark sev-${k.severity}`} data-severity={k.severity} x={k.x} y={k.y} width={k.width} height={k.height} rx="1">
              <title>{`${k.label}${k.runs > 1 ? ` (worst of ${k.runs} runs)` : ''}`}</title>
            </rect>
          ))}
        </g>
      </svg>
      <figcaption class="history-legend">
        <span>
          <span class="swatch growth" aria-hidden="true" />
          Size of the archive
        </span>
        <span>
          <span class="swatch sev-ok" aria-hidden="true" />
          Completed
        </span>
        <span>
          <span class="swatch sev-warning" aria-hidden="true" />
          Warning (Partially Completed, Retrying, Interrupted)
        </span>
        <span>
          <span class="swatch sev-error" aria-hidden="true" />
          Error (taller mark)
        </span>
        {m.grouped && <span>{`${runs.length} runs grouped into ${m.marks.length} marks; each shows the worst outcome of its runs`}</span>}
      </figcaption>
    </figure>
  );
}
