/**
 * The document an archived HTML mail is shown in: the Archive page puts it in an <iframe sandbox>
 * (no allow-scripts, no allow-same-origin, no allow-forms, no allow-popups) through `srcdoc`.
 *
 * Three walls, each enough on its own for scripts, together for remote content:
 * - the sandbox: no script runs, no form submits, no popup opens, and automatic navigation (a meta
 *   refresh) is refused in a frame without allow-scripts; the frame is an opaque origin, so nothing
 *   in it can reach the extension's storage or the page around it;
 * - this Content-Security-Policy, the first element the parser meets: nothing is fetched from any
 *   host (images only from data: URLs, inline styles only, no fonts but data:, no frames, no
 *   objects, no form targets, no <base>);
 * - DNS prefetching off, so a link's host is not even looked up.
 * The mail's own HTML is not rewritten: a hand-written sanitizer would be a fourth wall with holes,
 * and the sandbox makes one unnecessary. Remote images show as broken images, as a mail client with
 * "load remote content" off shows them.
 */
export const PREVIEW_CSP = [
  "default-src 'none'",
  'img-src data:',
  "style-src 'unsafe-inline'",
  'font-src data:',
  "form-action 'none'",
  "base-uri 'none'",
  "frame-src 'none'",
  "object-src 'none'",
  "media-src 'none'",
].join('; ');

/** The iframe's sandbox attribute: empty, i.e. every restriction on. */
export const PREVIEW_SANDBOX = '';

export function previewDocument(html: string): string {
  return (
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${PREVIEW_CSP}">` +
    '<meta http-equiv="x-dns-prefetch-control" content="off">' +
    '<meta name="referrer" content="no-referrer">' +
    '<style>html{color-scheme:light}body{margin:8px;font:14px/1.45 system-ui,sans-serif;color:#1f2328;background:#fff;word-wrap:break-word}img{max-width:100%}</style>' +
    `</head><body>${html}</body></html>`
  );
}
