import { beforeEach, describe, expect, it } from 'vitest';
import type { AccountState } from '@/lib/protocol/account-state';
import type { JobSnapshot } from '@/lib/protocol/common';
import { mirrorAccount } from '@/lib/background/mirror';
import type { MailkeepDb } from '@/lib/storage/db';
import { backupJobOf } from '@/lib/storage/jobs';
import { pacedForecast, pauseCondition } from '@/lib/status/pause-condition';
import { progressView } from '@/lib/ui/progress-view';
import { freshDb } from './helpers/fresh-db';

const T0 = Date.parse('2026-11-26T13:00:00Z');
const MB = 1024 * 1024;
let db: MailkeepDb;
beforeEach(() => {
  db = freshDb();
});

const resumeAt = new Date(T0 + 20 * 3600_000 + 40 * 60_000).toISOString();
const paused: JobSnapshot = {
  id: 'j_000000000001',
  kind: 'backup',
  accountId: 'gm',
  idempotencyKey: 'schedule-gm',
  status: 'retrying',
  phase: 'finished',
  errorCode: 'PROVIDER_LIMIT_PAUSED',
  progress: { folder: 'INBOX', messagesDone: 9000, messagesTotal: 40000, bytes: 2400 * MB, bytesTotal: 15_565 * MB, dailyBudgetBytes: 2400 * MB, budgetName: "Gmail's daily download limit" },
  outcome: { counts: { messages: 9000, bytes: 2400 * MB, disappeared: 0 }, pause: { reason: 'budget', provider: 'gmail', resumeAt } },
  createdAt: new Date(T0).toISOString(),
  updatedAt: new Date(T0 + 3600_000).toISOString(),
};
const state: AccountState = {
  account: { id: 'gm', host: 'imap.gmail.com', port: 993, security: 'tls', user: 'ada@gmail.com' },
  hasPassword: true,
  schedule: { kind: 'every', hours: 24 },
  status: 'retrying',
  nextRunAt: resumeAt,
  retryAt: resumeAt,
  lastSuccessAt: null,
  latestBackup: paused,
  archive: null,
};

describe('a paused backup as the popup and dashboard get it from the relay', () => {
  it('the row keeps the pause and the progress with its bytes total, so the pages say why, when it resumes and when it will be done', async () => {
    await mirrorAccount(db, state, T0 + 3600_000);
    const row = await backupJobOf(db, 'gm');
    expect(row).toMatchObject({ status: 'retrying', lastErrorCode: 'PROVIDER_LIMIT_PAUSED', outcome: { pause: { reason: 'budget', resumeAt } } });
    expect(row!.progress).toMatchObject({ bytes: 2400 * MB, bytesTotal: 15_565 * MB, dailyBudgetBytes: 2400 * MB });
    expect(pauseCondition(row!.outcome!.pause!, 'UTC', T0 + 3600_000)).toBe("Gmail's daily download limit reached; resumes at 09:40");
    // 15.2 GB at 2,400 MB a day: this day's share is done, five more days from the resume.
    expect(pacedForecast(row!.progress, row!.outcome!.pause, T0 + 3600_000)!.text).toBe("about 6 days at Gmail's daily limit; 2.3 GB of 15.2 GB so far");
    expect(progressView(row!.progress, [], T0).counts).toBe('9000 of 40000 messages · 2.3 GB of 15.2 GB');
  });
});
