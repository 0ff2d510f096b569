import { describe, expect, it } from 'vitest';
import { messageIdOf } from '../../relay/archive/message-id.ts';

describe('the Message-ID of a raw message', () => {
  it('is read from the header block of CRLF mail whose body holds bare blank lines and other Message-ID lines', () => {
    const raw = Buffer.from('From: a@b\r\nMessage-ID: <head@x>\r\n\r\nbody\n\nMessage-ID: <body@x>\n');
    expect(messageIdOf(raw)).toBe('<head@x>');
  });

  it('stops at a bare LF blank line that comes before any CRLF one', () => {
    expect(messageIdOf(Buffer.from('Subject: x\n\nMessage-ID: <body@x>\r\n\r\n'))).toBeNull();
    expect(messageIdOf(Buffer.from('Message-ID: <lf@x>\n\nbody\r\n\r\nMessage-ID: <later@x>'))).toBe('<lf@x>');
  });

  it('is found when the header block has no end inside the scanned window', () => {
    expect(messageIdOf(Buffer.from('Message-ID: <only@x>\r\nSubject: no body'))).toBe('<only@x>');
  });
});
