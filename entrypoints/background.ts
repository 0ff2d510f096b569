import { browser } from 'wxt/browser';
import { getDb } from '@/lib/storage/db';
import { chromePorts } from '@/lib/background/chrome-ports';
import { browserCoordinator, onNotificationAction, startServiceWorker } from '@/lib/background/service-worker';

// Thin on purpose: all logic is in lib/background and reads its state from the stores.
export default defineBackground(() => {
  const db = getDb();
  const ports = chromePorts();
  const coordinator = browserCoordinator(db);
  startServiceWorker(db, ports, coordinator);
  // A "Retry now" from a notification queues the job; the pass right after starts it on the relay.
  const act = (id: string, index: number | null) => void onNotificationAction(db, ports, id, index).then(() => coordinator.pump()).catch(() => undefined);
  browser.notifications.onButtonClicked.addListener((id, index) => act(id, index));
  browser.notifications.onClicked.addListener((id) => act(id, null));
});
