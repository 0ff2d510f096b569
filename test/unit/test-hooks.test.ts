import { beforeEach, describe, expect, it } from 'vitest';
import type { MailkeepDb } from '@/lib/storage/db';
import { handleMessage } from '@/lib/background/messages';
import type { BackgroundPorts } from '@/lib/background/ports';
import { TEST_HOOKS_BUILD } from '@/lib/background/test-hooks';
import { ACCOUNT_FORM, freshDb } from './helpers/fresh-db';

let db: MailkeepDb;
const ports: BackgroundPorts = { setBadge: async () => undefined, notify: async () => undefined, openPage: async () => undefined };
const meta = { extensionVersion: '0.1.0', userAgent: 'test' };

beforeEach(() => {
  db = freshDb();
});

const DEV_MESSAGES = [
  { type: 'dev:seed', accounts: [{ form: ACCOUNT_FORM, jobs: [{ kind: 'backup', status: 'completed' }] }] },
  { type: 'dev:history', events: 10 },
];

describe('test-only service-worker messages', () => {
  it('a production build refuses every dev:* message and changes nothing', async () => {
    for (const msg of DEV_MESSAGES) {
      expect(await handleMessage(db, ports, meta, msg, undefined, { testHooks: false }), msg.type).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    }
    expect(await db.accounts.count()).toBe(0);
    expect(await db.jobs.count()).toBe(0);
    // The product's own messages still work.
    expect(await handleMessage(db, ports, meta, { type: 'ping' }, undefined, { testHooks: false })).toEqual({ ok: true, value: null });
  });

  it('a build with test hooks (wxt build --mode test, vitest) answers them', async () => {
    expect(TEST_HOOKS_BUILD).toBe(true);
    expect(await handleMessage(db, ports, meta, DEV_MESSAGES[0])).toMatchObject({ ok: true });
    expect(await db.accounts.count()).toBe(1);
  });
});
