import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DOOR_LIMITS } from '../../lib/limits.ts';
import { consumePairingCode, createPairingCode, PAIRING_CODES_DIR } from '../../relay/server/pairing.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-pair-'));
  dirs.push(d);
  return d;
}
const T0 = Date.UTC(2030, 0, 1);

describe('pending pairing codes', () => {
  it('codes minted one after another (mailkeep pair, the native host for two pages) are each good, once', () => {
    const dir = tmp();
    const a = createPairingCode(dir, T0);
    const b = createPairingCode(dir, T0 + 1);
    const c = createPairingCode(dir, T0 + 2);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(consumePairingCode(dir, b, T0 + 10)).toBe(true);
    expect(consumePairingCode(dir, b, T0 + 10)).toBe(false);
    expect(consumePairingCode(dir, a.toLowerCase().replace('-', ' '), T0 + 10)).toBe(true); // typed loosely
    expect(consumePairingCode(dir, c, T0 + 10)).toBe(true);
    expect(fs.readdirSync(path.join(dir, PAIRING_CODES_DIR))).toEqual([]);
  });

  it('an expired code is refused (and spent), a wrong or malformed one finds nothing', () => {
    const dir = tmp();
    const code = createPairingCode(dir, T0);
    expect(consumePairingCode(dir, code, T0 + DOOR_LIMITS.pairingCodeTtlMs + 1)).toBe(false);
    expect(consumePairingCode(dir, code, T0)).toBe(false);
    const other = createPairingCode(dir, T0);
    for (const wrong of ['AAAA-AAAA', '', 'x'.repeat(32), '../../auth', other.slice(0, 7)]) expect(consumePairingCode(dir, wrong, T0), wrong).toBe(false);
    expect(consumePairingCode(dir, other, T0)).toBe(true);
  });

  it('the files hold only a digest and an expiry, privately, never the code', () => {
    const dir = tmp();
    const code = createPairingCode(dir, T0);
    const codes = path.join(dir, PAIRING_CODES_DIR);
    expect((fs.statSync(codes).mode & 0o777).toString(8)).toBe('700');
    const [name] = fs.readdirSync(codes);
    expect(name).toMatch(/^[0-9a-f]{64}\.json$/);
    const text = fs.readFileSync(path.join(codes, name!), 'utf8');
    expect(text).toBe(JSON.stringify({ expiresAt: T0 + DOOR_LIMITS.pairingCodeTtlMs }));
    expect(text + name).not.toContain(code.replace('-', ''));
    expect((fs.statSync(path.join(codes, name!)).mode & 0o777).toString(8)).toBe('600');
  });

  it('at most the pending maximum stay good: minting past it drops the oldest, and expired ones are swept', () => {
    const dir = tmp();
    const max = DOOR_LIMITS.pairingCodesPendingMax;
    const codes = Array.from({ length: max + 1 }, (_, i) => createPairingCode(dir, T0 + i));
    expect(fs.readdirSync(path.join(dir, PAIRING_CODES_DIR))).toHaveLength(max);
    expect(consumePairingCode(dir, codes[0]!, T0 + max + 1)).toBe(false);
    for (const c of codes.slice(1)) expect(consumePairingCode(dir, c, T0 + max + 1)).toBe(true);
    createPairingCode(dir, T0);
    createPairingCode(dir, T0 + 2 * DOOR_LIMITS.pairingCodeTtlMs); // the first is expired by then
    expect(fs.readdirSync(path.join(dir, PAIRING_CODES_DIR))).toHaveLength(1);
  });
});
