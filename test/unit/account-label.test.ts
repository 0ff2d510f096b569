import { describe, expect, it } from 'vitest';
import { accountLabel, relayAccountLabel } from '../../lib/account-label.ts';

describe('how pages and notifications name an account', () => {
  it('by its address when the display name adds nothing (empty, the address, or its local part)', () => {
    expect(accountLabel({ displayName: '', email: 'alice@example.org' })).toBe('alice@example.org');
    expect(accountLabel({ displayName: 'alice@example.org', email: 'alice@example.org' })).toBe('alice@example.org');
    expect(accountLabel({ displayName: 'Alice', email: 'alice@example.org' })).toBe('alice@example.org');
  });

  it('a chosen name that says more comes first, the address always follows', () => {
    expect(accountLabel({ displayName: 'Work', email: 'alice@example.org' })).toBe('Work · alice@example.org');
  });

  it('a relay account (migrate page) by its email, else its login, never "alice (127.0.0.1)"', () => {
    expect(relayAccountLabel({ user: 'alice', email: 'alice@example.org' })).toBe('alice@example.org');
    expect(relayAccountLabel({ user: 'bob@example.net' })).toBe('bob@example.net');
    expect(relayAccountLabel({ user: 'alice', name: 'Alice', email: 'alice@example.org' })).toBe('alice@example.org');
    expect(relayAccountLabel({ user: 'alice' })).not.toContain('127.0.0.1');
  });
});
