import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CREDENTIALS_FILE, CredentialStore, KEY_FILE } from '../../relay/secrets/credential-store.ts';
import { tempDataDir } from './relay-harness.ts';

const account = { id: 'work', host: 'imap.example.org', port: 993, security: 'tls' as const, user: 'ada@example.org' };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const dir = () => {
  const d = tempDataDir();
  dirs.push(d);
  return d;
};

describe('credential store', () => {
  it('keeps the password encrypted in 0600 files and reads it back after reopening', () => {
    const d = dir();
    const secret = 'store-secret-91c2e7';
    expect(CredentialStore.open(d).upsert(account, secret)).toEqual({ hasPassword: true });
    for (const f of [CREDENTIALS_FILE, KEY_FILE]) {
      expect((fs.statSync(path.join(d, f)).mode & 0o777).toString(8), f).toBe('600');
    }
    for (const f of fs.readdirSync(d)) {
      const bytes = fs.readFileSync(path.join(d, f));
      expect(bytes.includes(Buffer.from(secret)), f).toBe(false);
      expect(bytes.includes(Buffer.from(account.user)), f).toBe(false);
    }
    expect(CredentialStore.open(d).get('work')).toEqual({ account, password: secret });
  });

  it('an upsert without a password keeps the stored one; delete forgets both', () => {
    const d = dir();
    const s = CredentialStore.open(d);
    expect(s.upsert(account)).toEqual({ hasPassword: false });
    s.upsert(account, 'first');
    expect(s.upsert({ ...account, port: 143, security: 'starttls' })).toEqual({ hasPassword: true });
    expect(CredentialStore.open(d).get('work')?.password).toBe('first');
    expect(s.delete('work')).toBe(true);
    expect(CredentialStore.open(d).get('work')).toBeUndefined();
  });

  it('a modified credential file or a different key file is refused, not silently emptied', () => {
    const d = dir();
    CredentialStore.open(d).upsert(account, 'x');
    const file = path.join(d, CREDENTIALS_FILE);
    const env = JSON.parse(fs.readFileSync(file, 'utf8')) as { data: string };
    const flipped = Buffer.from(env.data, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    fs.writeFileSync(file, JSON.stringify({ ...env, data: flipped.toString('base64') }));
    expect(() => CredentialStore.open(d)).toThrow(expect.objectContaining({ code: 'CREDENTIALS_UNREADABLE', message: expect.stringMatching(/cannot be decrypted/) }));
    fs.writeFileSync(file, '{"not": "an envelope"}');
    expect(() => CredentialStore.open(d)).toThrow(expect.objectContaining({ code: 'CREDENTIALS_UNREADABLE' }));
  });
});
