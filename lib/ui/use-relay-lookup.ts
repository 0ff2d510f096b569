import { useEffect } from 'preact/hooks';
import { EXTENSION_LIMITS } from '../limits.ts';
import { sendMessage } from './send-message.ts';

/**
 * While `active` (the page's relay is not confirmed), ask the worker to look for the relay at once
 * and every relayLookMs: the worker may be asleep and its own retries stop after a while.
 */
export function useRelayLookup(active: boolean): void {
  useEffect(() => {
    if (!active) return;
    void sendMessage({ type: 'relay-check' });
    const timer = setInterval(() => void sendMessage({ type: 'relay-check' }), EXTENSION_LIMITS.relayLookMs);
    return () => clearInterval(timer);
  }, [active]);
}
