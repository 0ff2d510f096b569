import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ARCHIVE_BROWSE_LIMITS } from '@/lib/limits';
import type { ArchiveHit } from '@/lib/protocol/archive-browse';
import { SNIPPET_MARK_END, SNIPPET_MARK_START } from '@/lib/protocol/archive-browse';
import { formatAbsolute, formatBytes, formatDay } from '@/lib/format';
import { senderName } from '@/lib/ui/archive-link';
import { listWindow, moveActive, scrollToShow } from '@/lib/ui/archive-window';
import { gestureOf, nextSelection, type SelectGesture } from '@/lib/ui/archive-selection';
import { AttachmentIcon, GoneOnServerIcon } from './icons';

const ROW = ARCHIVE_BROWSE_LIMITS.listRowPx;

/**
 * The message list: a listbox (WAI-ARIA) of which only the visible rows exist in the DOM
 * (archive-window.ts), so 100,000 results scroll like 100. Keyboard: arrows, Page Up/Down,
 * Home/End move; Enter shows the message; Space adds it to or takes it from the selection.
 * Shift+arrows extend the selection from the anchor. Mouse: a click shows the message and selects it
 * alone (the anchor); Ctrl/Cmd-click adds or removes one; Shift-click selects from the anchor to the
 * row (lib/ui/archive-selection.ts).
 */
export function ArchiveMessageList(props: {
  hits: ArchiveHit[];
  label: string;
  selected: ReadonlySet<string>;
  previewId: string | null;
  timeZone: string;
  /** The deleted-on-server mark's words ("… as of the backup of …"). */
  goneTitle: string;
  /** A search spans folders: each row names its folder (one message in three label folders is three rows). */
  showFolder?: boolean;
  /** What an empty list says (null while it loads). */
  empty: { title: string; hints: string[] } | null;
  onPreview: (hit: ArchiveHit) => void;
  onSelect: (ids: Set<string>) => void;
  /** Called when the rendered rows come near the end of what is loaded (the next page is wanted). */
  onNearEnd: () => void;
}) {
  const { hits, selected } = props;
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(ROW * 12);
  const [active, setActive] = useState(0);
  const [anchor, setAnchor] = useState<string | null>(null);
  const select = (g: SelectGesture) => {
    const next = nextSelection(hits.map((h) => h.id), { selected, anchor }, g);
    setAnchor(next.anchor);
    props.onSelect(new Set(next.selected));
  };
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setViewport(el.clientHeight);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  // A new list (another folder, another query) starts at its top.
  useEffect(() => {
    setActive(0);
    setAnchor(null);
    if (box.current) box.current.scrollTop = 0;
    setScrollTop(0);
  }, [props.label]);
  const win = listWindow({ count: hits.length, rowPx: ROW, scrollTop, viewportPx: viewport, overscan: ARCHIVE_BROWSE_LIMITS.listOverscanRows });
  useEffect(() => {
    if (hits.length > 0 && win.end >= hits.length - ARCHIVE_BROWSE_LIMITS.listOverscanRows) props.onNearEnd();
  }, [win.end, hits.length]);

  const activeIndex = Math.min(active, Math.max(0, hits.length - 1));
  const show = (i: number) => {
    setActive(i);
    const el = box.current;
    if (!el) return;
    const next = scrollToShow(i, { rowPx: ROW, scrollTop: el.scrollTop, viewportPx: el.clientHeight });
    if (next !== el.scrollTop) {
      el.scrollTop = next;
      setScrollTop(next);
    }
  };
  const onKey = (e: KeyboardEvent) => {
    const hit = hits[activeIndex];
    if (e.key === 'Enter' && hit) {
      e.preventDefault();
      props.onPreview(hit);
      if (!selected.has(hit.id)) props.onSelect(new Set([hit.id]));
      return;
    }
    if (e.key === ' ' && hit) {
      e.preventDefault();
      select({ kind: e.shiftKey ? 'range' : 'toggle', index: activeIndex });
      return;
    }
    if (e.key === 'a' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      props.onSelect(new Set(hits.map((h) => h.id)));
      return;
    }
    const next = moveActive(e.key, activeIndex, hits.length, Math.floor(viewport / ROW) - 1);
    if (next === null) return;
    e.preventDefault();
    // Shift+arrow: the selection runs from the anchor (the row the move started on, if none yet).
    if (e.shiftKey) {
      const from = anchor ?? hits[activeIndex]?.id ?? null;
      const ranged = nextSelection(hits.map((h) => h.id), { selected, anchor: from }, { kind: 'range', index: next });
      setAnchor(ranged.anchor);
      props.onSelect(new Set(ranged.selected));
    }
    show(next);
  };
  const rowId = (i: number) => `archive-row-${i}`;
  const empty = hits.length === 0 ? props.empty : null;
  return (
    <>
    {empty && (
      <div class="archive-empty" role="status" data-testid="archive-empty">
        <p class="archive-empty-title" data-testid="archive-empty-title">{empty.title}</p>
        {empty.hints.map((h) => (
          <p class="small muted">{h}</p>
        ))}
      </div>
    )}
    <div
      ref={box}
      class={`archive-list${empty ? ' is-empty' : ''}`}
      role="listbox"
      aria-label={props.label}
      aria-multiselectable="true"
      aria-activedescendant={hits.length ? rowId(activeIndex) : undefined}
      tabIndex={0}
      data-testid="archive-list"
      data-count={hits.length}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      onKeyDown={onKey}
    >
      <div style={{ height: `${win.padTop}px` }} aria-hidden="true" />
      {hits.slice(win.start, win.end).map((h, k) => {
        const i = win.start + k;
        const unread = !h.flags.some((f) => f.toLowerCase() === '\\seen');
        const flagged = h.flags.some((f) => f.toLowerCase() === '\\flagged');
        return (
          <div
            id={rowId(i)}
            key={h.id}
            role="option"
            aria-selected={selected.has(h.id)}
            aria-setsize={hits.length}
            aria-posinset={i + 1}
            class={`archive-row${i === activeIndex ? ' active' : ''}${h.id === props.previewId ? ' previewed' : ''}${unread ? ' unread' : ''}`}
            data-testid="archive-row"
            data-id={h.id}
            onMouseDown={(e) => {
              // Shift-click selects a range, not the page's text.
              if (e.shiftKey) e.preventDefault();
            }}
            onClick={(e) => {
              setActive(i);
              const g = gestureOf(e, i);
              select(g);
              if (g.kind === 'click') props.onPreview(h);
            }}
          >
            <span class="col-date" title={h.date ? formatAbsolute(Date.parse(h.date), props.timeZone) : undefined}>{h.date ? formatDay(Date.parse(h.date), props.timeZone) : '—'}</span>
            <span class="col-from" title={h.from}>{senderName(h.from) || '(no sender)'}</span>
            <span class="col-subject" title={h.subject}>
              {props.showFolder && (
                <span class="folder-tag" data-testid="row-folder" title={h.folder}>
                  {h.folder}
                  <span class="visually-hidden">: </span>
                </span>
              )}
              {h.subject || '(no subject)'}
              {h.snippet && <span class="snippet"> — <Snippet text={h.snippet} /></span>}
            </span>
            <span class="col-size">{formatBytes(h.size)}</span>
            <span class="col-flags">
              {flagged && <span class="flag" title="Flagged">★<span class="visually-hidden"> flagged</span></span>}
              {unread && <span class="visually-hidden">unread</span>}
              {h.hasAttachment && <span class="flag" title="Has attachments"><AttachmentIcon /><span class="visually-hidden"> attachment</span></span>}
              {/* An icon, not a pill: a fixed narrow column, never cut, leaves the subject its room. */}
              {h.goneOnServer && (
                <span class="flag gone" data-testid="gone-mark" title={`In the archive, ${props.goneTitle}`}>
                  <GoneOnServerIcon />
                  <span class="visually-hidden"> deleted on server</span>
                </span>
              )}
            </span>
          </div>
        );
      })}
      <div style={{ height: `${win.padBottom}px` }} aria-hidden="true" />
    </div>
    </>
  );
}

/** A search snippet with its matching words marked: plain text split at the marks, never HTML. */
export function Snippet({ text }: { text: string }) {
  const parts = text.split(SNIPPET_MARK_START);
  return (
    <>
      {parts.map((part, i) => {
        if (i === 0) return part;
        const [hit, rest] = part.split(SNIPPET_MARK_END, 2);
        return (
          <>
            <mark>{hit}</mark>
            {rest ?? ''}
          </>
        );
      })}
    </>
  );
}
