import { EXTENSION_LIMITS } from '../limits.ts';
import type { RestorePrompt } from '../protocol/restore-params.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { PromptRow } from '../storage/rows.ts';
import { getSetting, setSetting, type SettingValue } from '../storage/settings.ts';
import type { NotificationSpec } from './ports.ts';
import { notificationId } from './notification-ids.ts';
import type { RelayCaller } from './relay-runs.ts';
import { formatDay } from '../format.ts';
import { accountLabel } from '../account-label.ts';
import { dateTimeFormat } from '../intl-formats.ts';

/** Backup statuses after which the run's deletions are known (a partial run still compared what it read). */
const SETTLED = new Set(['completed', 'partially_completed']);

export function isBulkDeletion(messages: number): boolean {
  return messages >= EXTENSION_LIMITS.bulkDeletionMessages;
}

/** Whether the user's setting (any deletion | only bulk deletions | never) wants this one shown. */
export function promptWanted(setting: SettingValue<'restorePrompts'>, messages: number): boolean {
  return setting === 'any' ? messages > 0 : setting === 'bulk' ? isBulkDeletion(messages) : false;
}

/**
 * "today 09:15", "Tuesday 14:02" within the last week, else "3 November 2026 14:02": what a person
 * recalls. "Today" and the weekday are the calendar's in `timeZone` (the user's), never the machine's
 * by accident.
 */
export function whenText(iso: string, now: number, timeZone: string): string {
  const at = Date.parse(iso);
  if (formatDay(at, timeZone) === formatDay(now, timeZone)) {
    const time = dateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone });
    return `today ${time.format(at)}`;
  }
  const recent = now - at < 6 * 24 * 60 * 60 * 1000;
  const fmt = dateTimeFormat('en-GB', {
    ...(recent ? { weekday: 'long' } : { day: 'numeric', month: 'long', year: 'numeric' }),
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone,
  });
  return fmt.format(at).replace(',', '').replace(' at ', ' ');
}

/** "37 messages were removed from INBOX since Tuesday 14:02. Restore them?" */
export function promptText(p: RestorePrompt, now: number, timeZone: string): string {
  const what = p.messages === 1 ? '1 message was' : `${p.messages} messages were`;
  const since = p.since ? `since ${whenText(p.since, now, timeZone)}` : 'since the previous backup';
  return `${what} removed from ${p.folder || 'the account'} ${since}. Restore ${p.messages === 1 ? 'it' : 'them'}?`;
}

/** One prompt per account, run and folder: asking again (a restarted worker) never adds a second. */
export function promptIdOf(accountId: string, p: Pick<RestorePrompt, 'runId' | 'folder'>): string {
  return `restore|${accountId}|${p.runId}|${p.folder}`;
}

/**
 * After a backup run settles, asks the relay what disappeared from the server in it (per folder)
 * and turns what the user's setting wants into prompts. Durable: the end of the last run looked at
 * is stored per account, so a worker stopped in between asks again on its next pass, and prompt
 * ids are deterministic, so asking twice adds nothing and a dismissed prompt does not come back.
 */
export async function collectRestorePrompts(db: MailkeepDb, relay: RelayCaller, now: number, timeZone: string): Promise<number> {
  const checked = await getSetting(db, 'restorePromptsCheckedAt');
  const backups = (await db.jobs.where('kind').equals('backup').toArray()).filter(
    (j) => SETTLED.has(j.status) && !j.relayJobId && j.finishedAt !== null && j.finishedAt > (checked[j.accountId] ?? 0),
  );
  let added = 0;
  for (const backup of backups) {
    // The run this backup made (its outcome says, from relays that report it): the account's
    // latest run may already be a newer one by now.
    const runId = backup.outcome?.counts?.runId;
    const { prompts } = await relay.call('restore.prompts', { accountId: backup.accountId, ...(runId ? { runId } : {}) });
    const setting = await getSetting(db, 'restorePrompts');
    added += await db.transaction('rw', [db.prompts, db.settings], async () => {
      let n = 0;
      for (const p of prompts) {
        if (!promptWanted(setting, p.messages)) continue;
        const id = promptIdOf(backup.accountId, p);
        if (await db.prompts.get(id)) continue;
        await db.prompts.add(
          PromptRow.parse({
            id,
            accountId: backup.accountId,
            jobId: backup.id,
            topic: 'messages_disappeared',
            text: promptText(p, now, timeZone),
            createdAt: now,
            resolvedAt: null,
            resolution: null,
            restore: p,
            notifiedAt: null,
          }),
        );
        n++;
      }
      const latest = await getSetting(db, 'restorePromptsCheckedAt');
      await setSetting(db, 'restorePromptsCheckedAt', { ...latest, [backup.accountId]: backup.finishedAt ?? now });
      return n;
    });
    await withdrawPromptsOfMailBack(db, relay, backup.accountId, runId, now);
  }
  return added;
}

/**
 * After a backup, the account's open prompts about earlier runs are asked about again: the relay
 * leaves out what this backup found on the server again (restored from the CLI, another browser or
 * another mail client), and a prompt whose folder has nothing left is answered "restored".
 */
async function withdrawPromptsOfMailBack(db: MailkeepDb, relay: RelayCaller, accountId: string, currentRun: number | undefined, now: number): Promise<void> {
  const open = (await db.prompts.where('accountId').equals(accountId).toArray()).filter((p) => p.resolvedAt === null && p.restore && p.restore.runId !== currentRun);
  for (const runId of new Set(open.map((p) => p.restore!.runId))) {
    const { prompts } = await relay.call('restore.prompts', { accountId, runId });
    const stillMissing = new Set(prompts.map((p) => p.folder));
    await db.transaction('rw', db.prompts, async () => {
      for (const p of open.filter((o) => o.restore!.runId === runId && !stillMissing.has(o.restore!.folder))) {
        const row = await db.prompts.get(p.id);
        if (row && row.resolvedAt === null) await db.prompts.put(PromptRow.parse({ ...row, resolvedAt: now, resolution: 'restored' }));
      }
    });
  }
}

/**
 * Notifications owed for bulk deletions: an open prompt of at least EXTENSION_LIMITS.
 * bulkDeletionMessages messages, not yet notified, and recent (a stale one waits in the popup).
 * Marked in the same transaction, so a restarted worker does not repeat it.
 */
export async function takePromptNotifications(db: MailkeepDb, now = Date.now()): Promise<NotificationSpec[]> {
  return db.transaction('rw', [db.prompts, db.accounts], async () => {
    const owed = (await db.prompts.toArray()).filter(
      (p) => p.resolvedAt === null && !p.notifiedAt && p.restore && isBulkDeletion(p.restore.messages) && p.createdAt >= now - EXTENSION_LIMITS.notifyMaxAgeMs,
    );
    const notes: NotificationSpec[] = [];
    for (const p of owed) {
      await db.prompts.put(PromptRow.parse({ ...p, notifiedAt: now }));
      const account = await db.accounts.get(p.accountId);
      if (!account) continue;
      notes.push({
        id: notificationId({ action: 'restore', accountId: p.accountId, jobId: p.id, cause: 'prompt' }),
        title: `${accountLabel(account)}: mail disappeared from the server`,
        message: p.text,
        buttons: [],
      });
    }
    return notes;
  });
}
