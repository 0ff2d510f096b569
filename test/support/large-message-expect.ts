/** What the restore and migrate large-message tests both assert (vitest only: the benches import large-message.ts). */
import type { ImapFlow } from 'imapflow';
import { expect } from 'vitest';
import { type ExpectedMessage, peakGrowth, RSS_GROWTH_BUDGET_MB } from './large-message.ts';
import { serverState, sha256 } from './mailbox-state.ts';
import type { CliResult } from './run-cli.ts';

/**
 * A restore or migrate of `src-small` / `src-large` into fresh accounts (`dst-small-N`,
 * `dst-large-N`), twice: the first run copies everything, the second finds it all present (the
 * large message has no Message-ID, so it is found by hashing its content on the server in partial
 * FETCHes, not whole). Each time the peak RSS growth stays under RSS_GROWTH_BUDGET_MB.
 */
export async function expectStreamedTwice(
  job: string,
  run: (from: string, to: string) => Promise<CliResult & { peak: number }>,
  bigMb: number,
  results: { first: Record<string, unknown>; again: Record<string, unknown> },
): Promise<void> {
  const first = await peakGrowth((i) => run('src-small', `dst-small-${i}`), (i) => run('src-large', `dst-large-${i}`));
  console.log(`${job} peak RSS: small messages ${first.small.toFixed(1)} MB, with the ${bigMb} MB message ${first.large.toFixed(1)} MB (+${first.growth.toFixed(1)} MB)`);
  expect(first.last.json).toMatchObject(results.first);
  expect(first.growth, `small ${first.small.toFixed(1)} MB, large ${first.large.toFixed(1)} MB`).toBeLessThan(RSS_GROWTH_BUDGET_MB);
  const again = await peakGrowth((i) => run('src-small', `dst-small-${i}`), (i) => run('src-large', `dst-large-${i}`));
  expect(again.last.json).toMatchObject(results.again);
  console.log(`second ${job} (all present) peak RSS: small ${again.small.toFixed(1)} MB, large ${again.large.toFixed(1)} MB (+${again.growth.toFixed(1)} MB)`);
  expect(again.growth, `small ${again.small.toFixed(1)} MB, large ${again.large.toFixed(1)} MB`).toBeLessThan(RSS_GROWTH_BUDGET_MB);
}

/** The INBOX of the logged-in `client` holds exactly the fixture: content, flags, INTERNALDATE. */
export async function expectInboxHoldsFixture(client: ImapFlow, fixture: { big: Buffer; expected: ExpectedMessage[] }): Promise<void> {
  try {
    const inbox = (await serverState(client)).get('INBOX')!;
    expect(inbox.map(({ hash, flags, internalDate }) => ({ hash, flags, internalDate })).sort((a, b) => a.internalDate.localeCompare(b.internalDate))).toEqual(fixture.expected);
    expect(inbox.map((m) => m.hash)).toContain(sha256(fixture.big));
  } finally {
    await client.logout();
  }
}
