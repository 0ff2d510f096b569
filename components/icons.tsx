import type { JobKind } from '@/lib/protocol/status-ids';

/* Inline SVG (no remote asset, no icon font), drawn on a 24px grid with the text's colour. Decorative:
   every icon stands next to words that say the same, so it is hidden from assistive technology. */
const KIND_PATHS: Record<JobKind, string> = {
  // An archive box: mail kept
  backup: 'M3 4h18v4H3zM5 8v11a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1V8M10 12h4',
  // Into the tray
  download: 'M12 3v12M7 10l5 5 5-5M4 17v2a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-2',
  // Back where it was: a turning arrow
  restore: 'M4 4v6h6M4.5 10A8 8 0 1 1 6 17.5',
  // From one server to another
  migrate: 'M4 8h13M13 4l4 4-4 4M20 16H7M11 12l-4 4 4 4',
};

export function KindIcon({ kind }: { kind: JobKind }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false" data-icon={kind}>
      <path d={KIND_PATHS[kind]} />
    </svg>
  );
}

/** Mailkeep's mark: an envelope inside a shield. */
export function Logo() {
  return (
    <svg class="icon logo" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
      <path d="M12 2l8 3v6c0 5-3.4 9.3-8 11-4.6-1.7-8-6-8-11V5z" />
      <path d="M8 9.5h8v5H8zM8 9.5l4 3 4-3" />
    </svg>
  );
}

/** A paper clip: the message has attachments (the row's hidden text says so in words). */
export function AttachmentIcon() {
  return (
    <svg class="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false" data-icon="attachment">
      <path d="M21 11.5l-8.5 8.5a5 5 0 0 1-7-7L14 4.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4L15.5 7.6" />
    </svg>
  );
}

/** "Deleted on the server, kept in the archive": a bin; the caller gives it its words (title, hidden text). */
export function GoneOnServerIcon() {
  return (
    <svg class="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false" data-icon="gone-on-server">
      <path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6" />
    </svg>
  );
}
