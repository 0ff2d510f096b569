import { useState } from 'preact/hooks';
import { getDb } from '@/lib/storage/db';
import { getSetting } from '@/lib/storage/settings';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { sendMessage } from '@/lib/ui/send-message';
import { errorHint } from '@/lib/status/error-hints';
import { DEFAULT_RELAY_PORT } from '@/lib/protocol/http';
import { START_RELAY_COMMAND } from '@/lib/background/reconcile';

const STATE_TEXT = {
  unknown: 'Not checked yet.',
  unpaired: 'Not paired yet.',
  unreachable: `The relay is not running. Start it: ${START_RELAY_COMMAND}.`,
  unauthorized: 'The relay does not accept this browser any more: pair again.',
  connected: 'Paired and connected.',
} as const;

/**
 * Pairing: the user types the port and the one-time code the relay printed; the service worker
 * exchanges them for a token (POST /pair) that it keeps in storage.local. The token never reaches
 * this page.
 */
export function PairSection() {
  const relay = useLiveQuery(() => getSetting(getDb(), 'relayState'));
  const [port, setPort] = useState(String(DEFAULT_RELAY_PORT));
  const [code, setCode] = useState('');
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const pair = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const reply = await sendMessage<{ relayVersion: string }>({ type: 'pair', port: Number(port), code });
    setBusy(false);
    if (!reply.ok) return setNote({ ok: false, text: errorHint(reply.code) ?? reply.message });
    setCode('');
    setNote({ ok: true, text: `Paired with relay ${reply.value.relayVersion}.` });
  };
  return (
    <section data-testid="pair-section">
      <h2 style={{ marginTop: '20px' }}>Relay</h2>
      <p class="small" data-testid="relay-state" data-state={relay?.state ?? 'unknown'}>
        {STATE_TEXT[relay?.state ?? 'unknown']}
        {relay?.relayVersion ? ` (relay ${relay.relayVersion})` : ''}
      </p>
      <form onSubmit={(e) => void pair(e)} noValidate>
        <p class="small muted">Start the relay: {START_RELAY_COMMAND}. It prints a port and a pairing code. Type them here.</p>
        <div class="field">
          <label for="pair-port">Relay port</label>
          <input id="pair-port" name="port" class="narrow" inputMode="numeric" value={port} onInput={(e) => setPort(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="pair-code">Pairing code</label>
          <input id="pair-code" name="code" autocomplete="off" placeholder="K7QM-2XWD" value={code} onInput={(e) => setCode(e.currentTarget.value)} />
        </div>
        <div class="actions">
          <button class="primary" type="submit" disabled={busy || code.trim().length < 4}>Pair</button>
        </div>
        {note && (
          <div class={note.ok ? 'small' : 'error-text'} role="status" data-testid="pair-result" data-ok={String(note.ok)}>
            {note.text}
          </div>
        )}
      </form>
    </section>
  );
}
