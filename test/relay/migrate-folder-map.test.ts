import { describe, expect, it } from 'vitest';
import { mapFolders, type ListedFolder } from '../../relay/jobs/migrate-folder-map.ts';

const f = (path: string, delimiter: string, specialUse: string | null = null, selectable = true): ListedFolder => ({ path, delimiter, specialUse, selectable });

describe('migrate folder mapping', () => {
  it('maps path segments between delimiters, never passing a name through', () => {
    const src = [f('INBOX', '/'), f('Projekte/2024/Q1', '/'), f('a.b', '/'), f('Parent', '/', null, false)];
    const dst = [f('INBOX', '.')];
    expect(mapFolders(src, dst, '.')).toEqual([
      { source: 'INBOX', destination: 'INBOX', specialUse: null, exists: true },
      { source: 'Projekte/2024/Q1', destination: 'Projekte.2024.Q1', specialUse: null, exists: false },
      // A destination delimiter inside a source segment would split the folder: it is replaced.
      { source: 'a.b', destination: 'a_b', specialUse: null, exists: false },
    ]);
  });

  it('follows special use into differently named folders, subfolders included', () => {
    const src = [f('Sent Items', '/', '\\Sent'), f('Sent Items/2023', '/'), f('Gelöscht', '/', '\\Trash'), f('Entwürfe', '/', '\\Drafts'), f('Spam', '/', '\\Junk')];
    const dst = [f('INBOX.Sent', '.', '\\Sent'), f('INBOX.Trash', '.', '\\Trash'), f('INBOX.Drafts', '.', '\\Drafts'), f('INBOX', '.')];
    expect(mapFolders(src, dst, '.').map((m) => [m.source, m.destination, m.specialUse, m.exists])).toEqual([
      ['Sent Items', 'INBOX.Sent', '\\Sent', true],
      ['Sent Items/2023', 'INBOX.Sent.2023', '\\Sent', false],
      ['Gelöscht', 'INBOX.Trash', '\\Trash', true],
      ['Entwürfe', 'INBOX.Drafts', '\\Drafts', true],
      // No \Junk on the destination: kept by name.
      ['Spam', 'Spam', null, false],
    ]);
  });

  it('treats INBOX case-insensitively', () => {
    expect(mapFolders([f('inbox', '/')], [f('INBOX', '/')], '/')).toEqual([{ source: 'inbox', destination: 'INBOX', specialUse: null, exists: true }]);
  });
});
