import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImapAccount } from '../../lib/protocol/common.ts';
import { JobManager } from '../../relay/server/job-manager.ts';
import { migrateRunner } from '../../relay/jobs/migrate/migrate-runner.ts';
import { tempDataDir } from './relay-harness.ts';

const source: ImapAccount = { id: 'src', host: '127.0.0.1', port: 1, security: 'none', user: 'ada' };
const destination: ImapAccount = { id: 'dst', host: '127.0.0.1', port: 2, security: 'none', user: 'bob' };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('a migration whose destination has no stored password', () => {
  it('ends Authentication Error with PASSWORD_NOT_STORED on the destination side (its "Edit" is the destination\'s), touching neither server', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const accounts = { get: (id: string) => (id === 'src' ? { account: source, password: 'pw' } : id === 'dst' ? { account: destination } : undefined) };
    const m = new JobManager({ dataDir, runners: { migrate: migrateRunner(accounts) }, accounts });
    const { job } = m.start({ kind: 'migrate', accountId: 'src', idempotencyKey: 'key-migrate-nopw-1', params: { destinationAccountId: 'dst' } });
    const deadline = Date.now() + 5_000;
    while (m.get(job.id).phase !== 'finished' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(m.get(job.id)).toMatchObject({ phase: 'finished', status: 'authentication_error', errorCode: 'PASSWORD_NOT_STORED', outcome: { side: 'destination' } });
    await m.stop();
  });
});
