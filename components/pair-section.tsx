import { useState } from 'preact/hooks';
import { sendMessage } from '@/lib/ui/send-message';
import { errorHint } from '@/lib/status/error-hints';
import { DEFAULT_RELAY_PORT } from '@/lib/protocol/http';
import { START_RELAY_COMMAND } from '@/lib/status/hint-phrases';
import { useFreshness } from '@/lib/ui/use-freshness';

/**
 * The relay link. Normally nothing to do: the service worker asks the Mailkeep host (native
 * messaging, registered by `mailkeep install`) where the relay is, starting it if needed, and shows
 * "Connected". Browsers that cannot launch hosts (Flatpak and Snap builds) fall back to the typed
 * code: the user starts the relay, types the port and the one-time code it printed, and the worker
 * exchanges them for a token (POST /pair) kept in storage.local; the token never reaches this page.
 */
export function PairSection() {
  const { freshness } = useFreshness();
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
  const hostMissing = !freshness.live && freshness.nativeHost === 'missing';
  const form = (
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
  );
  return (
    <section data-testid="pair-section">
      <h2 style={{ marginTop: '20px' }}>Relay</h2>
      <p class="small" data-testid="relay-state" data-state={freshness.live ? 'connected' : freshness.reason} data-via={freshness.live ? (freshness.via ?? '') : ''}>
        {freshness.live
          ? `Connected${freshness.relayVersion ? ` (relay ${freshness.relayVersion})` : ''}${freshness.via === 'native' ? ', found through the Mailkeep host: no code needed.' : ', paired with a code.'}`
          : 'Not connected: see above.'}
      </p>
      {hostMissing ? (
        <>
          <p class="small" data-testid="host-missing">
            This browser could not start the Mailkeep host. Either it is not installed yet (run <code>npm start</code> in the Mailkeep folder, then reopen this page), or this
            browser cannot launch programs at all (Flatpak and Snap builds of Chromium or Firefox): pair with a code instead.
          </p>
          {form}
        </>
      ) : (
        <details data-testid="pair-fallback">
          <summary class="small">Pair with a code instead (browsers that cannot launch the Mailkeep host, such as Flatpak and Snap builds)</summary>
          {form}
        </details>
      )}
    </section>
  );
}
