import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SCHEDULE_LIMITS } from '../../lib/limits.ts';
import { UsageError } from '../../relay/cli/args.ts';
import { idsOf, idsOption, idWordsOfLines, readIdsFromStdin } from '../../relay/cli/restore-ids.ts';

// `restore --ids` / `export --ids`: the ids mailkeep search prints, given as a list or read from
// stdin (`--ids -`), every one checked before anything runs; stdin bounded in size and time.

describe('restore --ids takes the ids mailkeep search prints, and refuses anything else before it runs', () => {
  const id = '0123456789abcdef-12';
  it('takes a comma list, once each', () => {
    expect(idsOf([`${id},fedcba9876543210-3,${id}`])).toEqual([id, 'fedcba9876543210-3']);
  });

  it('takes a line\'s last word from stdin, so search\'s own lines and bare ids both work', () => {
    const lines = `2024-05-14  Reception <desk@hotel.example>  Hotel booking LX-4471  INBOX  ${id}\r\n\nfedcba9876543210-3\n`;
    expect(idsOf(idWordsOfLines(lines))).toEqual([id, 'fedcba9876543210-3']);
  });

  it('refuses a malformed id with INVALID_INPUT naming it, an empty list, and more than a selection holds', () => {
    for (const bad of ['INBOX/1', `${id}x`, id.toUpperCase(), '0123456789abcdef-0', '0123456789abcde-1', '-'])
      expect(() => idsOf([id, bad]), bad).toThrow(/not a message id: .*/);
    expect(() => idsOf([])).toThrow(/names no message/);
    expect(() => idsOf([' , '])).toThrow(/names no message/);
    const many = Array.from({ length: 5_001 }, (_, i) => `0123456789abcdef-${i + 1}`);
    expect(() => idsOf(many)).toThrow(/at most 5000/);
  });
});

describe('--ids - reads stdin within its bounds', () => {
  const id = '0123456789abcdef-12';
  afterEach(() => vi.useRealTimers());

  it('reads ids written in pieces until stdin ends', async () => {
    const input = new PassThrough();
    const ids = idsOption('-', input);
    input.write(`${id.slice(0, 5)}`);
    input.write(`${id.slice(5)}\nfedcba98`);
    input.end('76543210-3\n');
    expect(await ids).toEqual([id, 'fedcba9876543210-3']);
  });

  it(`refuses more than ${SCHEDULE_LIMITS.cliIdsStdinMaxBytes} bytes with INVALID_INPUT, without waiting for the end`, async () => {
    const input = new PassThrough();
    const read = readIdsFromStdin(input);
    input.write(Buffer.alloc(SCHEDULE_LIMITS.cliIdsStdinMaxBytes + 1, 0x61));
    await expect(read).rejects.toThrow(UsageError);
    await expect(read).rejects.toThrow(/not a list of message ids/);
  });

  it('gives up at its deadline however steadily a writer trickles, and on Ctrl-C', async () => {
    vi.useFakeTimers();
    const input = new PassThrough();
    const read = readIdsFromStdin(input);
    const caught = read.catch((e: unknown) => e);
    for (let t = 0; t < SCHEDULE_LIMITS.cliIdsStdinDeadlineMs; t += 60_000) {
      input.write(`${id}\n`);
      await vi.advanceTimersByTimeAsync(60_000);
    }
    expect(await caught).toMatchObject({ message: expect.stringContaining('did not end within') });
    vi.useRealTimers();
    const controller = new AbortController();
    const interrupted = readIdsFromStdin(new PassThrough(), controller.signal);
    controller.abort();
    await expect(interrupted).rejects.toMatchObject({ message: expect.stringContaining('interrupted') });
  });

  it('says what it waits for when stdin is a terminal, and nothing when it is a pipe', async () => {
    const said: string[] = [];
    const err = { write: (s: string) => (said.push(s), true) } as unknown as NodeJS.WritableStream;
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const fromTerminal = idsOption('-', tty, undefined, err);
    tty.end(`${id}\n`);
    expect(await fromTerminal).toEqual([id]);
    expect(said.join('')).toContain('Ctrl-D ends the list');
    said.length = 0;
    const pipe = new PassThrough();
    const fromPipe = idsOption('-', pipe, undefined, err);
    pipe.end(`${id}\n`);
    expect(await fromPipe).toEqual([id]);
    await expect(idsOption(id, tty, undefined, err)).resolves.toEqual([id]);
    expect(said).toEqual([]);
  });
});
