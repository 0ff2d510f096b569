import os from 'node:os';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodeNativeMessage, readNativeMessages, type NativeRead } from '../../relay/service/native-messaging.ts';

const le = os.endianness() === 'LE';
function head(n: number): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(n);
  else b.writeUInt32BE(n);
  return b;
}

async function readAll(chunks: Buffer[], opts: { maxBytes?: number; deadlineMs?: number } = {}, keepOpen = false): Promise<{ reads: NativeRead[]; error?: unknown }> {
  const input = new PassThrough();
  const reads: NativeRead[] = [];
  const done = (async () => {
    for await (const r of readNativeMessages(input, opts)) reads.push(r);
  })().then(
    () => ({ reads }),
    (error: unknown) => ({ reads, error }),
  );
  for (const c of chunks) input.write(c);
  if (!keepOpen) input.end();
  return done;
}

describe('native-messaging framing', () => {
  it('a message is a native-endian 32-bit length then UTF-8 JSON, and reads back whole', async () => {
    const frame = encodeNativeMessage({ type: 'connect', id: 'é1' });
    expect(frame.subarray(0, 4)).toEqual(head(frame.length - 4));
    expect(JSON.parse(frame.subarray(4).toString('utf8'))).toEqual({ type: 'connect', id: 'é1' });
    const { reads, error } = await readAll([frame]);
    expect(error).toBeUndefined();
    expect(reads).toEqual([{ kind: 'message', value: { type: 'connect', id: 'é1' } }]);
  });

  it('messages split at every byte, or several in one chunk, read back the same', async () => {
    const frames = Buffer.concat([encodeNativeMessage({ a: 1 }), encodeNativeMessage({ b: 'two' }), encodeNativeMessage([3])]);
    const byByte = await readAll([...frames].map((b) => Buffer.from([b])));
    const together = await readAll([frames]);
    const expected = [{ a: 1 }, { b: 'two' }, [3]].map((value) => ({ kind: 'message', value }));
    expect(byByte.reads).toEqual(expected);
    expect(together.reads).toEqual(expected);
  });

  it('a body that is not JSON is reported and the next message still reads', async () => {
    const bad = Buffer.from('{nope', 'utf8');
    const { reads, error } = await readAll([head(bad.length), bad, encodeNativeMessage({ ok: true })]);
    expect(error).toBeUndefined();
    expect(reads).toEqual([{ kind: 'unreadable', reason: 'not JSON' }, { kind: 'message', value: { ok: true } }]);
  });

  it('a length over the limit ends reading with INVALID_INPUT before any body is buffered', async () => {
    const { reads, error } = await readAll([head(64 * 1024 * 1024), Buffer.alloc(10)], { maxBytes: 1024 });
    expect(reads).toEqual([]);
    expect(error).toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('input that ends inside a message is an error, not a silent loss', async () => {
    const { error } = await readAll([head(10), Buffer.from('{"a"')]);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('ended inside') });
  });

  it('a body trickled slower than the deadline ends reading with INVALID_INPUT', async () => {
    const { error } = await readAll([head(100), Buffer.from('{"a":')], { deadlineMs: 50 }, true);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('did not complete') });
  });

  it('a reply over 1 MiB is refused before it is written (the browser would drop the port)', () => {
    expect(() => encodeNativeMessage({ big: 'x'.repeat(1024 * 1024) })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
