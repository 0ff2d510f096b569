import Dexie from 'dexie';
import { IDBFactory } from 'fake-indexeddb';
import { MailkeepDb } from '@/lib/storage/db';

/** A database of its own for each test: a fresh fake IndexedDB, so tests never see each other's rows. */
export function freshDb(): MailkeepDb {
  Dexie.dependencies.indexedDB = new IDBFactory();
  return new MailkeepDb(`test-${Math.random().toString(36).slice(2)}`);
}

export const ACCOUNT_FORM = {
  displayName: 'Alice Work',
  email: 'alice@example.org',
  username: '',
  host: 'imap.example.org',
  port: '993',
  security: 'tls',
  scheduleEnabled: true,
  everyHours: '24',
} as const;
