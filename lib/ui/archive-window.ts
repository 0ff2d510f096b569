/**
 * Which rows of a long list to render. Our own, not a library: every row of the Archive page's list
 * has the same height (one line, ellipsised), so the visible slice is two divisions, and the list
 * keeps its listbox semantics (role, aria-setsize/posinset, keyboard) that a generic virtualizer
 * would have to be taught. Pure, so it is unit-tested without a DOM.
 */
export interface ListWindow {
  /** First and one-past-last row index to render. */
  start: number;
  end: number;
  /** Spacer heights above and below the rendered rows, so the scrollbar spans the whole list. */
  padTop: number;
  padBottom: number;
}

export function listWindow(opts: { count: number; rowPx: number; scrollTop: number; viewportPx: number; overscan: number }): ListWindow {
  const { count, rowPx, overscan } = opts;
  if (count <= 0 || rowPx <= 0) return { start: 0, end: 0, padTop: 0, padBottom: 0 };
  const scrollTop = Math.max(0, opts.scrollTop);
  const viewport = Math.max(0, opts.viewportPx);
  const first = Math.min(count - 1, Math.floor(scrollTop / rowPx));
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowPx));
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, Math.max(last, first + 1) + overscan);
  return { start, end, padTop: start * rowPx, padBottom: (count - end) * rowPx };
}

/**
 * The scrollTop that shows row `index` (keyboard moves): unchanged when it is already in view,
 * else just enough to bring it to the top or bottom edge.
 */
export function scrollToShow(index: number, opts: { rowPx: number; scrollTop: number; viewportPx: number }): number {
  const top = index * opts.rowPx;
  const bottom = top + opts.rowPx;
  if (top < opts.scrollTop) return top;
  if (bottom > opts.scrollTop + opts.viewportPx) return Math.max(0, bottom - opts.viewportPx);
  return opts.scrollTop;
}

/** Arrow keys, Home/End and Page keys over a list of `count` rows; null for any other key. */
export function moveActive(key: string, active: number, count: number, pageRows: number): number | null {
  if (count === 0) return null;
  const clamp = (n: number) => Math.max(0, Math.min(count - 1, n));
  switch (key) {
    case 'ArrowDown':
      return clamp(active + 1);
    case 'ArrowUp':
      return clamp(active - 1);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    case 'PageDown':
      return clamp(active + Math.max(1, pageRows));
    case 'PageUp':
      return clamp(active - Math.max(1, pageRows));
    default:
      return null;
  }
}
