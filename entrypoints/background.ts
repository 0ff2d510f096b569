import { browser } from 'wxt/browser';
import { getDb } from '@/lib/storage/db';
import { chromePorts } from '@/lib/background/chrome-ports';
import { onNotificationAction, startServiceWorker } from '@/lib/background/service-worker';

// Thin on purpose: all logic is in lib/background and reads its state from the store.
export default defineBackground(() => {
  const db = getDb();
  const ports = chromePorts();
  startServiceWorker(db, ports);
  browser.notifications.onButtonClicked.addListener((id, index) => void onNotificationAction(db, ports, id, index));
  browser.notifications.onClicked.addListener((id) => void onNotificationAction(db, ports, id, null));
});
