import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { readPairing, relaySocketUrl, type Pairing } from '../background/pairing-store.ts';
import { errorCodeOf } from '../protocol/error-codes.ts';
import { connectRelay, type RelayConnection } from '../protocol/relay-client.ts';
import { errorHint } from '../status/error-hints.ts';

/**
 * A page's own connection to the paired relay (the Migrate and Download panels start and follow
 * their jobs directly). The token stays in browser.storage.local; the socket closes with the page.
 */
export function useRelay(clientName: string): { relay: RelayConnection | null; pairing: Pairing | null; problem: string | null } {
  const [relay, setRelay] = useState<RelayConnection | null>(null);
  const [pairing, setPairing] = useState<Pairing | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    let conn: RelayConnection | null = null;
    let gone = false;
    void (async () => {
      const p = await readPairing(browser.storage.local);
      if (!p) return setProblem('Mailkeep is not connected to its relay yet: open the options page (it connects by itself where the Mailkeep host is installed, else pair with a code).');
      setPairing(p);
      try {
        conn = await connectRelay({ url: relaySocketUrl(p.port), token: p.token, client: { name: clientName, version: browser.runtime.getManifest().version }, openSocket: (url) => new WebSocket(url) });
        if (gone) conn.close();
        else setRelay(conn);
      } catch (err) {
        setProblem(`${errorHint(errorCodeOf(err)) ?? 'The relay cannot be reached.'} (${errorCodeOf(err)})`);
      }
    })();
    return () => {
      gone = true;
      conn?.close();
    };
  }, [clientName]);
  return { relay, pairing, problem };
}
