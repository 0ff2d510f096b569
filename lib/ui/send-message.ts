import { browser } from 'wxt/browser';
import type { Message, Reply } from '../background/messages.ts';

/**
 * Pages change the store only through the service worker, which validates and recomputes the badge.
 * Always an answer: a worker that could not answer (stopped while handling, or an extension
 * reloaded under an open page) is a refusal with its words, so no click is left without one.
 */
export async function sendMessage<T = unknown>(message: Message): Promise<Reply<T>> {
  try {
    return (await browser.runtime.sendMessage(message)) as Reply<T>;
  } catch (err) {
    return { ok: false, code: 'UNKNOWN', message: `The extension's background did not answer: ${err instanceof Error ? err.message : String(err)}` };
  }
}
