import { useState } from 'preact/hooks';
import type { ArchiveMessageView } from '@/lib/protocol/archive-browse';
import { formatBytes } from '@/lib/format';
import { PREVIEW_SANDBOX, previewDocument } from '@/lib/ui/archive-preview-doc';

const SHOWN_HEADERS = ['from', 'to', 'cc', 'date', 'subject'];

/**
 * One archived message: its main headers (all of them one click away), the HTML part in a frame
 * that can neither run scripts nor load anything remote (archive-preview-doc.ts), or the text part,
 * and the attachments with their sizes.
 */
export function ArchivePreview({ message, goneWords }: { message: ArchiveMessageView; /** The deleted-on-server badge's words; null at a past run (all it shows was on the server then). */ goneWords: string | null }) {
  const [asText, setAsText] = useState(false);
  const main = SHOWN_HEADERS.flatMap((name) => message.headers.filter((h) => h.name.toLowerCase() === name).slice(0, 1));
  const html = !asText && message.html !== undefined ? message.html : undefined;
  return (
    <article class="archive-preview" data-testid="archive-preview" data-id={message.id} aria-label="Message preview">
      <dl class="preview-headers">
        {main.map((h) => (
          <>
            <dt>{h.name.charAt(0).toUpperCase() + h.name.slice(1).toLowerCase()}</dt>
            <dd data-header={h.name.toLowerCase()}>{h.value}</dd>
          </>
        ))}
        <dt>Folder</dt>
        <dd>
          {message.folder} · {formatBytes(message.size)}
          {message.goneOnServer && goneWords !== null && <> · <span class="pill tone-warning" data-testid="preview-gone">{goneWords}</span></>}
        </dd>
      </dl>
      {message.parseError && (
        <p class="small muted" data-testid="preview-parse-error">
          This message is not well-formed MIME; it is shown as far as it could be read.
          <details class="technical">
            <summary>Technical details</summary>
            <code>{message.parseError}</code>
          </details>
        </p>
      )}
      <details class="all-headers">
        <summary>All headers</summary>
        <pre>{message.headers.map((h) => `${h.name}: ${h.value}`).join('\n')}</pre>
      </details>
      {message.html !== undefined && (
        <p class="small muted">
          Shown without scripts or remote images.{' '}
          <button class="link-button" data-testid="preview-as-text" onClick={() => setAsText(!asText)}>
            {asText ? 'Show as HTML' : 'Show as text'}
          </button>
        </p>
      )}
      {html !== undefined ? (
        <iframe class="preview-frame" title="Message body" sandbox={PREVIEW_SANDBOX} srcdoc={previewDocument(html)} referrerpolicy="no-referrer" data-testid="preview-frame" />
      ) : (
        <pre class="preview-text" data-testid="preview-text">{message.text}</pre>
      )}
      {message.truncated && <p class="small muted">This message is longer than the preview shows: download it to read all of it.</p>}
      {message.attachments.length > 0 && (
        <section class="attachments" aria-label="Attachments">
          <h3>Attachments</h3>
          <ul data-testid="preview-attachments">
            {message.attachments.map((a) => (
              <li>
                <span class="att-name">{a.filename || '(no name)'}</span> <span class="muted small">{formatBytes(a.size)} · {a.contentType}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </article>
  );
}
