import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as protocol from '../../lib/protocol/index.ts';
import { ResultByMethod, ResultFrame, type RequestMethod } from '../../lib/protocol/index.ts';

// Every example of docs/relay-protocol.md must parse with the schema its fence names, so the doc
// cannot drift from the contract.
const doc = readFileSync(new URL('../../docs/relay-protocol.md', import.meta.url), 'utf8');
const blocks = [...doc.matchAll(/```json (schema|result)=([\w.]+)\n([\s\S]*?)```/g)].map((m) => ({
  mode: m[1] as 'schema' | 'result',
  name: m[2]!,
  json: m[3]!,
}));

describe('docs/relay-protocol.md examples', () => {
  it('has an example for every request method and every relay frame type', () => {
    const methods = new Set(blocks.filter((b) => b.mode === 'result').map((b) => b.name));
    expect([...methods].sort()).toEqual(Object.keys(ResultByMethod).sort());
    const schemas = new Set(blocks.filter((b) => b.mode === 'schema').map((b) => b.name));
    for (const s of ['HelloFrame', 'WelcomeFrame', 'ErrorFrame', 'EventFrame', 'RequestFrame', 'PairRequest', 'PairResponse', 'HealthResponse', 'HttpErrorBody']) {
      expect(schemas, s).toContain(s);
    }
  });

  it.each(blocks.map((b, i) => [`${i + 1}: ${b.mode}=${b.name}`, b] as const))('example %s parses', (_, b) => {
    const value: unknown = JSON.parse(b.json);
    if (b.mode === 'schema') {
      const schema = (protocol as unknown as Record<string, { parse(v: unknown): unknown }>)[b.name];
      expect(schema, `lib/protocol exports ${b.name}`).toBeDefined();
      schema!.parse(value);
    } else {
      const frame = ResultFrame.parse(value);
      ResultByMethod[b.name as RequestMethod].parse(frame.result);
    }
  });

  it('every request example is also a valid client frame', () => {
    for (const b of blocks.filter((x) => x.name === 'RequestFrame')) protocol.ClientFrame.parse(JSON.parse(b.json));
  });
});
