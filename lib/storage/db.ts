import Dexie, { type EntityTable } from 'dexie';
import type { AccountRow, JobEventRow, JobRow, PromptRow, RunRow, SettingRow } from './rows.ts';
import { DB_NAME, declareVersion1, declareVersion2, declareVersion3, declareVersion4, declareVersion5 } from './schema-versions.ts';
import type { ArchiveSummaryRow, HistoryRunRow } from './history-rows.ts';

export class MailkeepDb extends Dexie {
  accounts!: EntityTable<AccountRow, 'id'>;
  jobs!: EntityTable<JobRow, 'id'>;
  jobEvents!: EntityTable<JobEventRow, 'id'>;
  prompts!: EntityTable<PromptRow, 'id'>;
  settings!: EntityTable<SettingRow, 'key'>;
  runs!: EntityTable<RunRow, 'id'>;
  archiveSummaries!: EntityTable<ArchiveSummaryRow, 'accountId'>;
  historyRuns!: EntityTable<HistoryRunRow, 'id'>;

  constructor(name: string = DB_NAME) {
    super(name);
    declareVersion1(this);
    declareVersion2(this);
    declareVersion3(this);
    declareVersion4(this);
    declareVersion5(this);
  }
}

let shared: MailkeepDb | undefined;

/**
 * The one connection of this page or worker. A cached handle, not application state: every
 * value is read from IndexedDB, so a restarted service worker sees exactly what was stored.
 */
export function getDb(): MailkeepDb {
  shared ??= new MailkeepDb();
  return shared;
}
