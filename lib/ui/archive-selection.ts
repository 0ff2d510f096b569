/**
 * Which messages are selected after a click or a key, as mail clients do it: a plain click selects
 * one (and makes it the anchor), Ctrl/Cmd-click adds or removes one (the new anchor), Shift-click
 * selects from the anchor to the row (Ctrl/Cmd+Shift adds that range to what was selected).
 * Shift+Arrow extends from the anchor the same way. Pure: the list passes its ids in order.
 */
export interface SelectionState {
  selected: ReadonlySet<string>;
  /** Where a Shift range starts: the last row clicked without Shift (null: none yet). */
  anchor: string | null;
}

export type SelectGesture = { kind: 'click' | 'toggle' | 'range' | 'add-range'; index: number };

export function nextSelection(ids: readonly string[], state: SelectionState, g: SelectGesture): SelectionState {
  const id = ids[g.index];
  if (id === undefined) return state;
  if (g.kind === 'click') return { selected: new Set([id]), anchor: id };
  if (g.kind === 'toggle') {
    const next = new Set(state.selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    return { selected: next, anchor: id };
  }
  // A range: from the anchor (the first row when there is none, or it left the list) to the row.
  const from = state.anchor === null ? -1 : ids.indexOf(state.anchor);
  const start = from < 0 ? g.index : from;
  const [lo, hi] = start <= g.index ? [start, g.index] : [g.index, start];
  const next = g.kind === 'add-range' ? new Set(state.selected) : new Set<string>();
  for (let i = lo; i <= hi; i++) next.add(ids[i]!);
  return { selected: next, anchor: from < 0 ? id : state.anchor };
}

/** The gesture a mouse click with these keys makes. */
export function gestureOf(e: { shiftKey: boolean; ctrlKey: boolean; metaKey: boolean }, index: number): SelectGesture {
  const mod = e.ctrlKey || e.metaKey;
  if (e.shiftKey) return { kind: mod ? 'add-range' : 'range', index };
  return { kind: mod ? 'toggle' : 'click', index };
}
