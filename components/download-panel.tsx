import { useState } from 'preact/hooks';
import type { DownloadParams } from '@/lib/protocol/download-params';
import type { AccountRow } from '@/lib/storage/rows';
import { errorHint } from '@/lib/status/error-hints';
import { sendMessage } from '@/lib/ui/send-message';
import { accountLabel } from '@/lib/account-label';

/** How long the link may live: the relay deletes the file then (default a day). */
const LINK_TTL_CHOICES = [
  { label: '1 hour', minutes: 60 },
  { label: '24 hours', minutes: 24 * 60 },
  { label: '7 days', minutes: 7 * 24 * 60 },
] as const;

/**
 * The dashboard's Download tab: export an account's archive (mbox or .eml files, one folder or
 * all). "Prepare download" queues a download job in the store (`start-job`); the service worker
 * runs it on the relay and follows it like any job, so it is in the table below (with its status,
 * hint, Retry now / Copy diagnostics / Download buttons), on the badge and in the popup.
 */
export function DownloadPanel({ accounts }: { accounts: AccountRow[] }) {
  const [accountId, setAccountId] = useState('');
  const [format, setFormat] = useState<'mbox' | 'eml-zip'>('mbox');
  const [folder, setFolder] = useState('');
  const [ttlMinutes, setTtlMinutes] = useState<number>(LINK_TTL_CHOICES[1].minutes);
  const [sending, setSending] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);

  const start = async (): Promise<void> => {
    if (!accountId) return;
    setNote(null);
    setSending(true);
    const params: DownloadParams = { format, linkTtlMinutes: ttlMinutes, ...(folder.trim() ? { folder: folder.trim() } : {}) };
    const reply = await sendMessage({ type: 'start-job', job: { kind: 'download', accountId, params } });
    setSending(false);
    setNote(reply.ok ? { ok: true, text: 'Queued: follow it in the list below and in the toolbar popup.' } : { ok: false, text: errorHint(reply.code) ?? reply.message });
  };

  return (
    <section class="download-panel" data-testid="download-panel">
      <div class="filters">
        <label>
          Account{' '}
          <select data-testid="download-account" value={accountId} onChange={(e) => { setAccountId(e.currentTarget.value); setNote(null); }}>
            <option value="">Choose…</option>
            {accounts.map((a) => <option value={a.id}>{accountLabel(a)}</option>)}
          </select>
        </label>
        <label>
          Format{' '}
          <select data-testid="download-format" value={format} onChange={(e) => setFormat(e.currentTarget.value as 'mbox' | 'eml-zip')}>
            <option value="mbox">mbox (one file per folder)</option>
            <option value="eml-zip">.eml files in folders</option>
          </select>
        </label>
        <label>
          Folder{' '}
          <input data-testid="download-folder" placeholder="all folders" value={folder} onInput={(e) => setFolder(e.currentTarget.value)} />
        </label>
        <label>
          Link valid for{' '}
          <select data-testid="download-ttl" value={String(ttlMinutes)} onChange={(e) => setTtlMinutes(Number(e.currentTarget.value))}>
            {LINK_TTL_CHOICES.map((c) => <option value={String(c.minutes)}>{c.label}</option>)}
          </select>
        </label>
        <button class="primary" data-testid="download-start" disabled={!accountId || sending} onClick={() => void start()}>
          Prepare download
        </button>
      </div>
      {note && (
        <p class={note.ok ? 'small' : 'error-text'} role={note.ok ? 'status' : 'alert'} data-testid={note.ok ? 'download-queued' : 'download-problem'}>
          {note.text}
        </p>
      )}
    </section>
  );
}
