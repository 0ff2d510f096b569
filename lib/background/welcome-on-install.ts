import type { MailkeepDb } from '../storage/db.ts';
import type { BackgroundPorts } from './ports.ts';

/** The Welcome page (entrypoints/welcome): the first-run steps, lib/ui/first-run-steps.ts. */
export const WELCOME_PAGE = '/welcome.html';

/**
 * A fresh install opens the Welcome page, which leads through connecting the relay, adding a
 * mailbox and the first backup. Only on 'install' (never on an update or a browser update), and
 * never for a user who already has mailboxes (a store kept from before): they find the page in
 * every page's header when they want it.
 */
export async function welcomeOnInstall(db: MailkeepDb, ports: Pick<BackgroundPorts, 'openPage'>, reason: string): Promise<boolean> {
  if (reason !== 'install') return false;
  if ((await db.accounts.count()) > 0) return false;
  await ports.openPage(WELCOME_PAGE);
  return true;
}
