import { describe, expect, it } from 'vitest';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { emlEntryName, subjectOf } from '../../relay/export/eml-entry-name.ts';

const at = new Date(Date.UTC(2024, 4, 14, 21, 30));
const name = (subject: string | null, taken = new Set<string>(), date: Date | null = at, zone = 'UTC'): string => emlEntryName({ subject, internalDate: date }, taken, zone);
const bytes = (s: string): number => Buffer.byteLength(s);

describe('an eml-zip entry is named by the day the message arrived and its subject', () => {
  it('reads as the day and the subject', () => {
    expect(name('Hotel booking LX-4471')).toBe('2024-05-14 Hotel booking LX-4471.eml');
  });

  it('takes the day in the zone it is given, not the machine\'s', () => {
    expect(name('x', new Set(), at, 'Europe/Zurich')).toBe('2024-05-14 x.eml');
    expect(name('x', new Set(), at, 'Asia/Tokyo')).toBe('2024-05-15 x.eml');
  });

  it('says "no subject" for a message without one, and leaves out the day when the server gave none', () => {
    expect(name(null)).toBe('2024-05-14 no subject.eml');
    expect(name('   ')).toBe('2024-05-14 no subject.eml');
    expect(name('Hello', new Set(), null)).toBe('Hello.eml');
  });

  it('replaces what Windows, macOS or zip tools refuse (controls, < > : " / \\ | ? *) and collapses white space', () => {
    expect(name('Re: a/b\\c <d> "e" |f| ?g* \t\r\nh\u0007')).toBe('2024-05-14 Re_ a_b_c _d_ _e_ _f_ _g_ h_.eml');
  });

  it('drops bidi and zero-width controls that would disguise the name', () => {
    expect(name('invoice\u202Egpj.exe')).toBe('2024-05-14 invoicegpj.exe.eml');
    expect(name('a\u200Bb\uFEFFc')).toBe('2024-05-14 abc.eml');
  });

  it('never starts with a dot nor ends with a dot or a space, and never is a Windows device name', () => {
    expect(name('.profile', new Set(), null)).toBe('_profile.eml');
    expect(name('...', new Set(), null)).toBe('___.eml');
    for (const d of ['CON', 'nul', 'Com1', 'LPT9', 'aux.txt']) expect(name(d, new Set(), null)).toBe(`_${d}.eml`);
    expect(name('The end...')).toBe('2024-05-14 The end.eml');
  });

  it('is one Unicode spelling (NFC): a subject in decomposed form gives the same name as the composed one', () => {
    expect(name('Entwu\u0308rfe')).toBe(name('Entw\u00fcrfe'));
  });

  it(`is at most ${RELAY_LIMITS.emlNameMaxBytes} UTF-8 bytes, cut between whole characters (no half letter, no half emoji)`, () => {
    for (const s of ['x'.repeat(500), 'ü'.repeat(300), '日本語'.repeat(100), '👨‍👩‍👧'.repeat(40), `a${'é'.repeat(200)}`]) {
      const n = name(s);
      expect(bytes(n)).toBeLessThanOrEqual(RELAY_LIMITS.emlNameMaxBytes);
      expect(n.endsWith('.eml')).toBe(true);
      expect(n).not.toContain('\uFFFD');
      const stem = n.slice('2024-05-14 '.length, -'.eml'.length);
      const unit = [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(s)][0]!.segment;
      expect(stem.length % unit.length, s.slice(0, 5)).toBe(0);
    }
  });

  it('is unique in its folder ignoring case, the number fitting inside the length bound', () => {
    const taken = new Set<string>();
    expect([name('Hello', taken), name('hello', taken), name('HELLO', taken)]).toEqual(['2024-05-14 Hello.eml', '2024-05-14 hello (2).eml', '2024-05-14 HELLO (3).eml']);
    const long = new Set<string>();
    const a = name('y'.repeat(300), long);
    const b = name('y'.repeat(300), long);
    expect(b).toMatch(/ \(2\)\.eml$/);
    expect(bytes(b)).toBeLessThanOrEqual(RELAY_LIMITS.emlNameMaxBytes);
    expect(a.toLowerCase()).not.toBe(b.toLowerCase());
  });
});

describe('the subject is read from the message\'s header block', () => {
  it('decodes encoded words and unfolds a folded header', () => {
    expect(subjectOf(Buffer.from('From: a\r\nSubject: =?UTF-8?B?SG90ZWwgYm9va2luZyDinJM=?=\r\n =?ISO-8859-1?Q?Z=FCrich?=\r\n\r\nbody'))).toBe('Hotel booking ✓Zürich');
    expect(subjectOf(Buffer.from('subject: one\r\n\ttwo\r\n\r\n'))).toBe('one\ttwo');
  });

  it('takes raw UTF-8 as UTF-8, and finds no subject in the body or where there is none', () => {
    expect(subjectOf(Buffer.from('Subject: Grüße\n\n'))).toBe('Grüße');
    expect(subjectOf(Buffer.from('Subject: Gr\xfc\xdfe\n\n', 'latin1'))).toBe('Grüße');
    expect(subjectOf(Buffer.from('From: a\r\n\r\nSubject: not a header\r\n'))).toBeNull();
    expect(subjectOf(Buffer.from('X-Subject: no\r\n\r\n'))).toBeNull();
  });
});
