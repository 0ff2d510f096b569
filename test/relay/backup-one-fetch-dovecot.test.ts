/**
 * A first backup asks for envelope and body in one FETCH (a second FETCH of every envelope cost
 * about half as much again as the bodies), and a message at or above the stream threshold, found by
 * SEARCH LARGER, is left out of it and streamed, so its bytes are fetched once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startImapProxy } from '../support/imap-proxy.ts';
import { bigMessage } from '../support/large-message.ts';
import { archiveState, serverState } from '../support/mailbox-state.ts';

const USER = { name: 'olga', password: 'olga-Secret-pw' };

describe.skipIf(!dovecotAvailable())('a first backup of small and large messages', () => {
  let dc: Dovecot;
  const dirs: string[] = [];
  beforeAll(async () => {
    dc = await startDovecot({ users: [USER] });
    const small = generatedMessages(5, 31);
    const c = await dc.client(USER.name, USER.password);
    for (const m of small.slice(0, 2)) await c.append('INBOX', m, ['\\Seen']);
    await c.append('INBOX', bigMessage('From: a@example.org\r\nSubject: big\r\n\r\n', 6), []);
    for (const m of small.slice(2)) await c.append('INBOX', m, ['\\Flagged']);
    await c.logout();
  });
  afterAll(async () => {
    await dc?.stop();
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('fetches envelope and body of the small ones in one FETCH and the large one only in streamed parts, byte-identical', async () => {
    const proxy = await startImapProxy({ host: '127.0.0.1', port: dc.port });
    try {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-onefetch-'));
      dirs.push(dir);
      const r = await runBackup({ archiveDir: dir, account: { host: '127.0.0.1', port: proxy.port, security: 'none', user: USER.name, password: USER.password } });
      expect(r).toMatchObject({ status: 'completed', messages: 6 });
      const fetches = proxy.lines.filter((l) => / UID FETCH /i.test(l));
      expect(proxy.lines.some((l) => new RegExp(`UID SEARCH .*LARGER ${RELAY_LIMITS.streamThresholdBytes - 1}`, 'i').test(l))).toBe(true);
      // One FETCH carries envelope and body of UIDs 1, 2, 4, 5, 6; none asks for envelopes alone of them.
      const combined = fetches.filter((l) => /RFC822\.SIZE/i.test(l) && l.includes(`BODY.PEEK[]<0.${RELAY_LIMITS.streamThresholdBytes}>`));
      expect(combined).toHaveLength(1);
      expect(combined[0]).toMatch(/UID FETCH 1:2,4:6 /i);
      // The large one (UID 3): its envelope, then partial FETCHes in order, each part once.
      const parts = fetches.filter((l) => /UID FETCH 3 /i.test(l)).map((l) => /BODY\.PEEK\[\]<(\d+)\.(\d+)>/i.exec(l)).filter((m) => m !== null);
      const starts = parts.map((m) => Number(m[1]));
      expect(starts[0]).toBe(0);
      expect(starts).toEqual([...new Set(starts)].sort((a, b) => a - b));
      for (let i = 1; i < parts.length; i++) expect(starts[i]).toBe(starts[i - 1]! + Number(parts[i - 1]![2]));
      const c = await dc.client(USER.name, USER.password);
      const server = await serverState(c);
      await c.logout();
      expect(archiveState(dir)).toEqual(server);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
