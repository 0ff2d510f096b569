import { describe, expect, it } from 'vitest';
import type { ListResponse } from 'imapflow';
import { archivedNamespace, fallbackName, listedDestinations, mapFolders, pathKey, type ListedFolder, type Namespace } from '../../relay/jobs/folder-map.ts';

/** The personal namespaces of the servers in the tests (docs/testing.md). */
const NS: Record<string, Namespace> = {
  'Dovecot ("" "/")': { prefix: '', delimiter: '/' },
  'Cyrus default ("INBOX." ".")': { prefix: 'INBOX.', delimiter: '.' },
  'Cyrus altnamespace ("" "/")': { prefix: '', delimiter: '/' },
  'Courier ("INBOX." ".")': { prefix: 'INBOX.', delimiter: '.' },
};

const f = (path: string, delimiter: string, specialUse: string | null = null, selectable = true): ListedFolder => ({ path, delimiter, specialUse, selectable });

/** How a folder tree of segments is spelled on a server with this namespace. */
const spell = (segments: string[], ns: Namespace): string => (segments.length === 1 && segments[0] === 'INBOX' ? 'INBOX' : ns.prefix + segments.join(ns.delimiter));

/** Logical trees of the account: INBOX, nested non-ASCII folders, an emoji, Sent and Trash. */
const TREE = [['INBOX'], ['Projekte'], ['Projekte', 'Grüße Ünïcödé'], ['Projekte', 'Grüße Ünïcödé', '日本語'], ['Ünïcödé ✓ 📧'], ['Sent'], ['Trash'], ['Leer']];

const map = (src: { ns: Namespace; folders: ListedFolder[] }, dst: { ns: Namespace; folders: ListedFolder[] }, into?: string) =>
  mapFolders({ namespace: src.ns, folders: src.folders }, { namespace: dst.ns, folders: dst.folders }, { into }).map((m) => [m.source, m.destination, m.exists]);

describe('folder mapping through the namespaces of both servers', () => {
  for (const [from, sns] of Object.entries(NS))
    for (const [to, dns] of Object.entries(NS))
      it(`maps every folder from ${from} to ${to}: prefix stripped, delimiter and prefix of the destination applied, INBOX kept`, () => {
        const src = TREE.map((t) => f(spell(t, sns), sns.delimiter));
        const got = map({ ns: sns, folders: src }, { ns: dns, folders: [f('INBOX', dns.delimiter)] });
        expect(got).toEqual(TREE.map((t) => [spell(t, sns), spell(t, dns), t[0] === 'INBOX']));
      });

  it('strips the source prefix: INBOX.Projects on Courier is Projects on Dovecot, INBOX.Sent is Sent beside no INBOX/Sent', () => {
    const got = map({ ns: NS['Courier ("INBOX." ".")']!, folders: [f('INBOX', '.'), f('INBOX.Projects', '.'), f('INBOX.Sent', '.', '\\Sent')] }, { ns: NS['Dovecot ("" "/")']!, folders: [f('INBOX', '/'), f('Sent', '/')] });
    expect(got).toEqual([
      ['INBOX', 'INBOX', true],
      ['INBOX.Projects', 'Projects', false],
      ['INBOX.Sent', 'Sent', true],
    ]);
  });

  it('puts a child of INBOX on a server without prefix under INBOX once, not INBOX.INBOX', () => {
    expect(map({ ns: NS['Dovecot ("" "/")']!, folders: [f('INBOX/Sub', '/')] }, { ns: NS['Courier ("INBOX." ".")']!, folders: [] })).toEqual([['INBOX/Sub', 'INBOX.Sub', false]]);
    expect(map({ ns: NS['Dovecot ("" "/")']!, folders: [f('inbox/Sub', '/')] }, { ns: NS['Dovecot ("" "/")']!, folders: [] })).toEqual([['inbox/Sub', 'INBOX/Sub', false]]);
  });

  it('sends special-use folders to the destination folder flagged with that use, subfolders included, whatever either is called', () => {
    const src = [f('Sent Items', '/', '\\Sent'), f('Sent Items/2023', '/'), f('Gelöscht', '/', '\\Trash'), f('Entwürfe', '/', '\\Drafts'), f('Spam', '/', '\\Junk')];
    const dst = [f('INBOX.Gesendet', '.', '\\Sent'), f('INBOX.Papierkorb', '.', '\\Trash'), f('INBOX.Drafts', '.', '\\Drafts'), f('INBOX', '.')];
    const got = mapFolders({ namespace: NS['Dovecot ("" "/")']!, folders: src }, { namespace: NS['Courier ("INBOX." ".")']!, folders: dst });
    expect(got.map((m) => [m.source, m.destination, m.specialUse, m.exists])).toEqual([
      ['Sent Items', 'INBOX.Gesendet', '\\Sent', true],
      ['Sent Items/2023', 'INBOX.Gesendet.2023', '\\Sent', false],
      ['Gelöscht', 'INBOX.Papierkorb', '\\Trash', true],
      ['Entwürfe', 'INBOX.Drafts', '\\Drafts', true],
      // No \Junk on the destination: mapped by name, under the prefix.
      ['Spam', 'INBOX.Spam', null, false],
    ]);
  });

  it('does not redirect a special-use folder under --into: the whole tree goes below the new folder', () => {
    const got = map({ ns: NS['Dovecot ("" "/")']!, folders: [f('INBOX', '/'), f('Sent', '/', '\\Sent')] }, { ns: NS['Courier ("INBOX." ".")']!, folders: [f('INBOX.Sent', '.', '\\Sent')] }, 'Restored 2026-11-25');
    expect(got).toEqual([
      ['INBOX', 'INBOX.Restored 2026-11-25.INBOX', false],
      ['Sent', 'INBOX.Restored 2026-11-25.Sent', false],
    ]);
  });

  it('replaces a destination delimiter inside one source name segment with "_" instead of making a level', () => {
    expect(map({ ns: NS['Dovecot ("" "/")']!, folders: [f('v1.2 notes', '/'), f('a.b/c', '/')] }, { ns: NS['Courier ("INBOX." ".")']!, folders: [] })).toEqual([
      ['v1.2 notes', 'INBOX.v1_2 notes', false],
      ['a.b/c', 'INBOX.a_b.c', false],
    ]);
    expect(map({ ns: NS['Courier ("INBOX." ".")']!, folders: [f('INBOX.x/y', '.')] }, { ns: NS['Dovecot ("" "/")']!, folders: [] })).toEqual([['INBOX.x/y', 'x_y', false]]);
    expect(map({ ns: NS['Dovecot ("" "/")']!, folders: [f('Sent', '/', '\\Sent'), f('Sent/a.b', '/')] }, { ns: NS['Courier ("INBOX." ".")']!, folders: [f('INBOX.Sent', '.', '\\Sent')] })).toEqual([
      ['Sent', 'INBOX.Sent', true],
      ['Sent/a.b', 'INBOX.Sent.a_b', false],
    ]);
  });

  it('finds on a rerun every folder an earlier run created, for every pair, so nothing is created twice', () => {
    for (const sns of Object.values(NS))
      for (const dns of Object.values(NS)) {
        const src = TREE.map((t) => f(spell(t, sns), sns.delimiter));
        const first = mapFolders({ namespace: sns, folders: src }, { namespace: dns, folders: [f('INBOX', dns.delimiter)] });
        // The destination as LIST shows it after the first run (INBOX spelled in lower case by some servers).
        const after = [f('inbox', dns.delimiter), ...first.filter((m) => m.destination !== 'INBOX').map((m) => f(m.destination, dns.delimiter))];
        const second = mapFolders({ namespace: sns, folders: src }, { namespace: dns, folders: after });
        expect(second.filter((m) => !m.exists)).toEqual([]);
        expect(second.map((m) => pathKey(m.destination, dns.delimiter))).toEqual(first.map((m) => pathKey(m.destination, dns.delimiter)));
      }
  });

  it('creates a folder the destination lists only as a \\Noselect parent', () => {
    expect(map({ ns: NS['Dovecot ("" "/")']!, folders: [f('A', '/'), f('A/B', '/')] }, { ns: NS['Courier ("INBOX." ".")']!, folders: [f('INBOX.A', '.', null, false), f('INBOX.A.B', '.')] })).toEqual([
      ['A', 'INBOX.A', false],
      ['A/B', 'INBOX.A.B', true],
    ]);
  });

  it('leaves out source folders that cannot be selected', () => {
    expect(map({ ns: NS['Dovecot ("" "/")']!, folders: [f('Parent', '/', null, false), f('Parent/Kind', '/')] }, { ns: NS['Dovecot ("" "/")']!, folders: [] })).toEqual([['Parent/Kind', 'Parent/Kind', false]]);
  });

  it('keeps non-ASCII names as Unicode (the session encodes them in modified UTF-7)', () => {
    expect(map({ ns: NS['Courier ("INBOX." ".")']!, folders: [f('INBOX.日本語.フォルダ', '.')] }, { ns: NS['Dovecot ("" "/")']!, folders: [f('日本語/フォルダ', '/')] })).toEqual([['INBOX.日本語.フォルダ', '日本語/フォルダ', true]]);
  });
});

describe('the namespace of an archived account, derived from its stored folder names', () => {
  it('is "INBOX." when every folder but INBOX starts with INBOX and the delimiter (Courier, Cyrus default)', () => {
    expect(archivedNamespace([{ name: 'INBOX', delimiter: '.' }, { name: 'INBOX.Sent', delimiter: '.' }, { name: 'INBOX.a.b', delimiter: '.' }])).toEqual({ prefix: 'INBOX.', delimiter: '.' });
  });

  it('is "" when any folder lies outside INBOX (Dovecot, Cyrus altnamespace), or there is only INBOX', () => {
    expect(archivedNamespace([{ name: 'INBOX', delimiter: '/' }, { name: 'INBOX/Sub', delimiter: '/' }, { name: 'Sent', delimiter: '/' }])).toEqual({ prefix: '', delimiter: '/' });
    expect(archivedNamespace([{ name: 'INBOX', delimiter: '.' }])).toEqual({ prefix: '', delimiter: '.' });
    expect(archivedNamespace([])).toEqual({ prefix: '', delimiter: '/' });
  });
});

describe('special use of the destination folders', () => {
  const l = (path: string, specialUse?: string, specialUseSource?: 'extension' | 'name'): ListResponse => ({ path, delimiter: '/', flags: new Set<string>(), specialUse, specialUseSource }) as unknown as ListResponse;

  it('takes the server\'s flags, not imapflow\'s guess from a name, when the server flags any folder', () => {
    const got = listedDestinations([l('Sent', '\\Sent', 'name'), l('Gesendet', '\\Sent', 'extension'), l('Trash', '\\Trash', 'name')]);
    expect(got.map((f) => [f.path, f.specialUse])).toEqual([['Sent', null], ['Gesendet', '\\Sent'], ['Trash', null]]);
  });

  it('falls back to the name guess on a server that flags nothing, so "Sent Messages" joins an existing "Sent"', () => {
    const dst = listedDestinations([l('INBOX'), l('Sent', '\\Sent', 'name')]);
    expect(mapFolders({ namespace: { prefix: '', delimiter: '/' }, folders: [f('Sent Messages', '/', '\\Sent')] }, { namespace: { prefix: '', delimiter: '/' }, folders: dst })).toEqual([
      { source: 'Sent Messages', destination: 'Sent', specialUse: '\\Sent', exists: true },
    ]);
  });
});

describe('the fallback name of a folder the destination refuses', () => {
  it('replaces characters outside the BMP (an emoji Courier cannot store in modified UTF-7) and "." (Dovecot Maildir) segment by segment', () => {
    expect(fallbackName('INBOX.Projekte.日本語 ✓ 📧', '.')).toBe('INBOX.Projekte.日本語 ✓ _');
    expect(fallbackName('v1.2 notes/Unter', '/')).toBe('v1_2 notes/Unter');
    expect(fallbackName('INBOX', '.')).toBe('INBOX');
  });

  it('is found by the next run, so the refused name is not tried again', () => {
    const ns = { prefix: 'INBOX.', delimiter: '.' };
    const got = mapFolders({ namespace: NS['Dovecot ("" "/")']!, folders: [f('日本語 ✓ 📧', '/')] }, { namespace: ns, folders: [f('INBOX.日本語 ✓ _', '.')] });
    expect(got).toEqual([{ source: '日本語 ✓ 📧', destination: 'INBOX.日本語 ✓ _', specialUse: null, exists: true }]);
  });
});
