/**
 * Test connection says how far it got against a real Dovecot: the address answered, the connection
 * is encrypted, the login was accepted, the folders were listed; a failure stops at its step.
 * Under CI a missing Dovecot fails (the support helper throws).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testImapConnection } from '../../relay/server/test-connection.ts';
import { dovecotAvailable, freePort, startDovecot, type Dovecot } from '../support/dovecot.ts';

const USER = { name: 'tess', password: 'Tess-Test-pw-42' };

describe.runIf(dovecotAvailable())('Test connection reports each step it checked', () => {
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await startDovecot({ users: [USER] });
  }, 60_000);
  afterAll(async () => {
    await dovecot?.stop();
  });
  const account = (over: Partial<{ port: number; security: 'tls' | 'starttls' | 'none' }> = {}) => ({
    id: 'tess', host: '127.0.0.1', port: dovecot.port, security: 'none' as const, user: USER.name, ...over,
  });

  it('the right password: reached, signed in, folders listed (plaintext here, so not encrypted)', async () => {
    const r = await testImapConnection(account(), USER.password);
    expect(r).toMatchObject({ ok: true, checks: { reached: true, secure: false, signedIn: true } });
    expect(r.checks?.folders).toBeGreaterThanOrEqual(1);
  });

  it('a wrong password: reached, not signed in, folders not listed', async () => {
    const r = await testImapConnection(account(), 'Not-the-pw-1');
    expect(r).toMatchObject({ ok: false, errorCode: 'AUTH_FAILED', checks: { reached: true, signedIn: false, folders: null } });
  });

  it('a port where nothing listens: not reached, nothing else tried', async () => {
    const port = await freePort();
    const r = await testImapConnection(account({ port }), USER.password);
    expect(r).toMatchObject({ ok: false, errorCode: 'CONNECTION_REFUSED', checks: { reached: false, secure: false, signedIn: false, folders: null } });
  });

  it('TLS asked of a plaintext port: reached, but no secure connection', async () => {
    const r = await testImapConnection(account({ security: 'tls' }), USER.password);
    expect(r).toMatchObject({ ok: false, errorCode: 'TLS_WRONG_PORT', checks: { reached: true, secure: false, signedIn: false, folders: null } });
  });
});
