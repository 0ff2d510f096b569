import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import type { MailkeepDb } from '@/lib/storage/db';
import { saveAccount } from '@/lib/storage/accounts';
import { createJob } from '@/lib/storage/jobs';
import { driveRuns } from '@/lib/background/relay-runs';
import { staleNotificationIds, takeNotifications } from '@/lib/background/notifications';
import { chromePorts } from '@/lib/background/chrome-ports';
import { listenForNotificationClicks } from '@/lib/background/service-worker';
import { ACCOUNT_FORM, freshDb } from './helpers/fresh-db';
import { FakeRelay } from './helpers/fake-relay';

let db: MailkeepDb;
let relay: FakeRelay;
let source: string;
let destination: string;

async function addAccount(displayName: string, email: string): Promise<string> {
  const saved = await saveAccount(db, { ...ACCOUNT_FORM, displayName, email });
  if (!saved.ok) throw new Error('seed failed');
  relay.accounts.add(saved.account.id);
  return saved.account.id;
}

/** A migration from Alice to Bob that the relay ends at Authentication Error on `side`. */
async function migrationFailedOn(side: 'source' | 'destination', destinationAccountId = destination): Promise<void> {
  const row = await createJob(db, { kind: 'migrate', accountId: source, params: { destinationAccountId } });
  await driveRuns(db, relay);
  const relayJobId = (await db.jobs.get(row.id))!.relayJobId!;
  relay.set(relayJobId, { status: 'authentication_error', phase: 'finished', errorCode: 'AUTH_FAILED', outcome: { side } });
  await driveRuns(db, relay);
}

/** Shows what the store owes through the real ports (fakeBrowser), then clicks its first button. */
async function showAndClickEdit(): Promise<{ title: string; openedUrls: string[] }> {
  const ports = chromePorts();
  ports.setBadge = async () => undefined; // fakeBrowser has no action API; the badge is not what this tests
  listenForNotificationClicks(db, ports);
  const notes = await takeNotifications(db);
  expect(notes).toHaveLength(1);
  await ports.notify(notes[0]!);
  const shown = await fakeBrowser.notifications.getAll();
  const [id] = Object.keys(shown);
  await fakeBrowser.notifications.onButtonClicked.trigger(id!, 0);
  const tabs = await fakeBrowser.tabs.query({});
  return { title: (shown[id!] as { title: string }).title, openedUrls: tabs.map((t) => t.url ?? '').filter((u) => u.includes('options.html')) };
}

const optionsUrl = (accountId: string) => fakeBrowser.runtime.getURL(`/options.html#account=${encodeURIComponent(accountId)}`);

beforeEach(async () => {
  fakeBrowser.reset();
  db = freshDb();
  relay = new FakeRelay();
  source = await addAccount('Alice Work', 'alice@example.org');
  destination = await addAccount('Bob Home', 'bob@example.org');
});

describe('the notification of a migration that failed at Authentication Error', () => {
  it('names the destination account and its Edit button opens the destination when the destination server refused the password', async () => {
    await migrationFailedOn('destination');
    const { title, openedUrls } = await showAndClickEdit();
    expect(title).toBe('Bob Home · bob@example.org: Migrate Authentication Error');
    expect(openedUrls).toEqual([optionsUrl(destination)]);
  });

  it('names the source account and its Edit button opens the source when the source server refused the password', async () => {
    await migrationFailedOn('source');
    const { title, openedUrls } = await showAndClickEdit();
    expect(title).toBe('Alice Work · alice@example.org: Migrate Authentication Error');
    expect(openedUrls).toEqual([optionsUrl(source)]);
  });

  it('says Sign in again (with the words of OAUTH_REVOKED) when the failing side is an account signed in with OAuth2, and opens it', async () => {
    const row = (await db.accounts.get(destination))!;
    await db.accounts.put({ ...row, relay: { hasPassword: true, oauthProvider: 'google', nextRunAt: null, retryAt: null, lastSuccessAt: null, archive: null } });
    const job = await createJob(db, { kind: 'migrate', accountId: source, params: { destinationAccountId: destination } });
    await driveRuns(db, relay);
    relay.set((await db.jobs.get(job.id))!.relayJobId!, { status: 'authentication_error', phase: 'finished', errorCode: 'OAUTH_REVOKED', outcome: { side: 'destination' } });
    await driveRuns(db, relay);
    const notes = await takeNotifications(db);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ title: 'Bob Home · bob@example.org: Migrate Authentication Error', buttons: ['Sign in again'] });
    expect(notes[0]!.message).toContain('Sign in again');
    // The source, a password account, keeps Edit.
    await migrationFailedOn('source');
    expect((await takeNotifications(db))[0]).toMatchObject({ buttons: ['Edit'] });
  });

  it('still opens the destination when this browser does not hold that account, naming it as the source account\'s migration destination', async () => {
    await migrationFailedOn('destination', 'relay-only-account');
    const { title, openedUrls } = await showAndClickEdit();
    expect(title).toBe("Alice Work · alice@example.org's migration destination: Migrate Authentication Error");
    expect(openedUrls).toEqual([optionsUrl('relay-only-account')]);
  });

  it('stays on screen while the migration is in that error, though its account is one this browser does not hold', async () => {
    await migrationFailedOn('destination', 'relay-only-account');
    const notes = await takeNotifications(db);
    expect(await staleNotificationIds(db, notes.map((n) => n.id))).toEqual([]);
  });
});
