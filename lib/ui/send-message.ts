import { browser } from 'wxt/browser';
import type { Message, Reply } from '../background/messages.ts';

/** Pages change the store only through the service worker, which validates and recomputes the badge. */
export async function sendMessage<T = unknown>(message: Message): Promise<Reply<T>> {
  return (await browser.runtime.sendMessage(message)) as Reply<T>;
}
