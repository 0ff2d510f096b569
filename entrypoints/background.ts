import { getDb } from '@/lib/storage/db';
import { chromePorts } from '@/lib/background/chrome-ports';
import { browserCoordinator, listenForNotificationClicks, startServiceWorker } from '@/lib/background/service-worker';

// Thin on purpose: all logic is in lib/background and reads its state from the stores.
export default defineBackground(() => {
  const db = getDb();
  const ports = chromePorts();
  const coordinator = browserCoordinator(db);
  startServiceWorker(db, ports, coordinator);
  // A "Retry now" from a notification asks the relay (a backup) or queues the job; the pass right after starts it.
  listenForNotificationClicks(db, ports, () => coordinator.pump(), coordinator);
});
