import { describe, expect, it } from 'vitest';
import { ERROR_HINTS } from '@/lib/status/error-hints';
import { CATALOG } from '@/lib/status/catalog';
import { START_RELAY_COMMAND } from '@/lib/background/reconcile';

describe('how the product tells the user to start the relay', () => {
  it('says npm start in the Mailkeep folder, or node bin/mailkeep.js relay, the same way everywhere', () => {
    expect(START_RELAY_COMMAND).toBe('run `npm start` in the Mailkeep folder (or `node bin/mailkeep.js relay`)');
    expect(ERROR_HINTS.RELAY_UNREACHABLE).toBe(`The Mailkeep relay on this computer is not running. Start it: ${START_RELAY_COMMAND}.`);
  });

  it('never says npx mailkeep (outside the repo npx would fetch an unrelated registry package)', () => {
    const texts = [...Object.values(ERROR_HINTS), ...Object.values(CATALOG).flatMap((t) => Object.values(t).map((s) => s.hint)), START_RELAY_COMMAND];
    for (const text of texts) expect(text).not.toMatch(/npx/);
  });
});
