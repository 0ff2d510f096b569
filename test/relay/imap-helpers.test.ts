import { ImapFlowErrorCode } from 'imapflow';
import { describe, expect, it } from 'vitest';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { messageIdOf } from '../../relay/archive/message-id.ts';
import { classifyImapError, isConnectionCode } from '../../relay/imap/classify-error.ts';
import { sessionErrorCode } from '../../relay/imap/session-error-code.ts';
import { uidSet } from '../../relay/jobs/uid-set.ts';

describe('imapflow error classification', () => {
  const cases: [string, object, string][] = [
    ['wrong password (Dovecot)', { authenticationFailed: true, serverResponseCode: 'AUTHENTICATIONFAILED', responseStatus: 'NO' }, 'AUTH_FAILED'],
    ['wrong password without a code (Cyrus)', { authenticationFailed: true, responseStatus: 'NO' }, 'AUTH_FAILED'],
    // RFC 5530 [LIMIT] on LOGIN (Dovecot's connection limit) is a provider limit: paused, not retried as a fault (issue 14).
    ['too many connections is not an auth error', { authenticationFailed: true, serverResponseCode: 'LIMIT' }, 'PROVIDER_LIMIT_PAUSED'],
    ['auth backend down is not an auth error', { authenticationFailed: true, serverResponseCode: 'UNAVAILABLE' }, 'SERVER_BUSY'],
    ['refused', { code: 'ECONNREFUSED' }, 'CONNECTION_REFUSED'],
    ['DNS', { code: 'ENOTFOUND' }, 'HOST_NOT_FOUND'],
    ['self-signed', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'TLS_CERT_UNTRUSTED'],
    ['a self-signed CA in the chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }, 'TLS_CERT_UNTRUSTED'],
    ['an unknown issuer', { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }, 'TLS_CERT_UNTRUSTED'],
    ['an unverifiable leaf', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'TLS_CERT_UNTRUSTED'],
    ['a certificate for another name', { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'TLS_CERT_NAME_MISMATCH'],
    ['an expired certificate', { code: 'CERT_HAS_EXPIRED' }, 'TLS_CERT_EXPIRED'],
    ['a certificate not valid yet', { code: 'CERT_NOT_YET_VALID' }, 'TLS_CERT_EXPIRED'],
    ['TLS to a plain-text port', { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }, 'TLS_WRONG_PORT'],
    ['another handshake failure', { code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' }, 'TLS_FAILED'],
    ['STARTTLS failure', { tlsFailed: true, code: 'X' }, 'TLS_FAILED'],
    ['greeting timeout', { code: ImapFlowErrorCode.GREETING_TIMEOUT }, 'CONNECTION_TIMEOUT'],
    ['socket timeout', { code: 'ETIMEOUT' }, 'CONNECTION_TIMEOUT'],
    ['connection gone mid-FETCH', { code: 'NoConnection' }, 'CONNECTION_LOST'],
    ['BYE after login', { code: 'ClosedAfterConnectText' }, 'CONNECTION_LOST'],
    ['NO to EXAMINE', { responseStatus: 'NO', mailboxMissing: true }, 'FOLDER_UNREADABLE'],
    ['over quota', { responseStatus: 'NO', serverResponseCode: 'OVERQUOTA' }, 'QUOTA_EXCEEDED'],
    ['disk full', { code: 'ENOSPC' }, 'DISK_FULL'],
    ['anything else', { message: 'boom' }, 'UNKNOWN'],
  ];
  for (const [name, props, code] of cases)
    it(`classifies ${name} as ${code}`, () => {
      expect(classifyImapError(Object.assign(new Error('x'), props))).toBe(code);
    });

  it('maps a session-level FOLDER_UNREADABLE to CONNECTION_LOST only when the caller asks (Backup)', () => {
    const err = Object.assign(new Error('x'), { responseStatus: 'NO', mailboxMissing: true });
    expect(sessionErrorCode(err, null)).toBe('FOLDER_UNREADABLE');
    expect(sessionErrorCode(err, null, { folderUnreadableIsLost: true })).toBe('CONNECTION_LOST');
    expect(sessionErrorCode(mailkeepError('AUTH_FAILED', 'no'), null, { folderUnreadableIsLost: true })).toBe('AUTH_FAILED');
  });

  it('keeps the code of an error that is already classified', () => {
    expect(classifyImapError(mailkeepError('ARCHIVE_LOCKED', 'locked'))).toBe('ARCHIVE_LOCKED');
  });

  it('retries connection problems but never an authentication failure', () => {
    expect(isConnectionCode('CONNECTION_REFUSED')).toBe(true);
    expect(isConnectionCode('CONNECTION_TIMEOUT')).toBe(true);
    expect(isConnectionCode('AUTH_FAILED')).toBe(false);
    expect(isConnectionCode('DISK_FULL')).toBe(false);
  });
});

describe('small helpers', () => {
  it('compresses UIDs into short sequence sets', () => {
    expect(uidSet([1, 2, 3, 5, 7, 8, 10])).toBe('1:3,5,7:8,10');
    expect(uidSet([42])).toBe('42');
  });

  it('finds a folded Message-ID in the header only', () => {
    expect(messageIdOf(Buffer.from('Subject: x\r\nMessage-ID:\r\n <a@b>\r\n\r\nMessage-ID: <body@x>'))).toBe('<a@b>');
    expect(messageIdOf(Buffer.from('Subject: x\n\nMessage-ID: <body@x>'))).toBeNull();
  });
});
