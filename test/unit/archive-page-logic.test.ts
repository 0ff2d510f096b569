import { describe, expect, it } from 'vitest';
import { RequestFrame } from '../../lib/protocol/index.ts';
import type { ArchiveFolder } from '../../lib/protocol/archive-browse.ts';
import { folderTree } from '../../lib/ui/archive-folder-tree.ts';
import { gestureOf, nextSelection, type SelectionState } from '../../lib/ui/archive-selection.ts';
import { emptyListText, listSummaryText } from '../../lib/ui/archive-list-words.ts';
import { restoreCompletedHint, RESTORE_STATUSES } from '../../lib/status/restore-statuses.ts';
import { displayedCondition } from '../../lib/status/spec-conditions.ts';

// The Archive page's logic that a person sees the result of: the folder tree, what a click selects,
// the list's count and empty words, the zone a search is sent with, and what a restore says it did.

const folder = (name: string, over: Partial<ArchiveFolder> = {}): ArchiveFolder => ({ name, delimiter: '/', specialUse: null, messages: 1, goneOnServer: 0, ...over });

describe('the folder tree', () => {
  it('shows a folder whose parent the archive does not hold under that parent, named, never as a child of the folder before it', () => {
    const rows = folderTree([folder('INBOX'), folder('Lists/dev'), folder('Lists/ops'), folder('Archive')]);
    expect(rows.map((r) => [r.path, r.label, r.depth, !!r.folder])).toEqual([
      ['INBOX', 'INBOX', 0, true],
      ['Archive', 'Archive', 0, true],
      ['Lists', 'Lists', 0, false],
      ['Lists/dev', 'dev', 1, true],
      ['Lists/ops', 'ops', 1, true],
    ]);
  });

  it('puts in every missing level of a deep folder once, with the folder\'s own delimiter', () => {
    const rows = folderTree([folder('a.b.c', { delimiter: '.' }), folder('a.b.d', { delimiter: '.' })]);
    expect(rows.map((r) => [r.path, r.depth, !!r.folder])).toEqual([
      ['a', 0, false],
      ['a.b', 1, false],
      ['a.b.c', 2, true],
      ['a.b.d', 2, true],
    ]);
  });

  it('keeps an archived parent clickable and its children right under it, INBOX first', () => {
    const rows = folderTree([folder('Work/2024'), folder('INBOX/Sub'), folder('Work'), folder('INBOX')]);
    expect(rows.map((r) => [r.path, !!r.folder])).toEqual([
      ['INBOX', true],
      ['INBOX/Sub', true],
      ['Work', true],
      ['Work/2024', true],
    ]);
  });

  it('shows a folder without a delimiter by its whole name at the top', () => {
    expect(folderTree([folder('Notes/x', { delimiter: null })]).map((r) => [r.label, r.depth])).toEqual([['Notes/x', 0]]);
  });
});

describe('what a click or a key selects in the message list', () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const none: SelectionState = { selected: new Set(), anchor: null };
  const sel = (s: SelectionState) => [...s.selected].sort();

  it('a click selects one row and makes it the anchor; Shift-click then selects from the anchor to the row, either way', () => {
    const one = nextSelection(ids, none, gestureOf({ shiftKey: false, ctrlKey: false, metaKey: false }, 1));
    expect(sel(one)).toEqual(['b']);
    const down = nextSelection(ids, one, gestureOf({ shiftKey: true, ctrlKey: false, metaKey: false }, 3));
    expect(sel(down)).toEqual(['b', 'c', 'd']);
    expect(down.anchor).toBe('b');
    // A second Shift-click re-draws the range from the same anchor (it does not add to the first).
    const up = nextSelection(ids, down, gestureOf({ shiftKey: true, ctrlKey: false, metaKey: false }, 0));
    expect(sel(up)).toEqual(['a', 'b']);
  });

  it('Ctrl- or Cmd-click toggles one row and moves the anchor; Ctrl+Shift-click adds a range to what is selected', () => {
    const one = nextSelection(ids, none, { kind: 'click', index: 0 });
    const two = nextSelection(ids, one, gestureOf({ shiftKey: false, ctrlKey: false, metaKey: true }, 3));
    expect(sel(two)).toEqual(['a', 'd']);
    const more = nextSelection(ids, two, gestureOf({ shiftKey: true, ctrlKey: true, metaKey: false }, 4));
    expect(sel(more)).toEqual(['a', 'd', 'e']);
    const off = nextSelection(ids, more, { kind: 'toggle', index: 0 });
    expect(sel(off)).toEqual(['d', 'e']);
  });

  it('Shift-click with no anchor yet (or an anchor no longer listed) selects that row and anchors there', () => {
    expect(sel(nextSelection(ids, none, { kind: 'range', index: 2 }))).toEqual(['c']);
    const stale = nextSelection(ids, { selected: new Set(['zz']), anchor: 'zz' }, { kind: 'range', index: 2 });
    expect(sel(stale)).toEqual(['c']);
    expect(stale.anchor).toBe('c');
  });

  it('a gesture past the end of the list changes nothing', () => {
    const s: SelectionState = { selected: new Set(['a']), anchor: 'a' };
    expect(nextSelection(ids, s, { kind: 'range', index: 9 })).toBe(s);
  });
});

describe('the message list\'s count and its empty state', () => {
  it('says the folder\'s real count from the tree, not the loaded page with a plus', () => {
    expect(listSummaryText({ query: '', loaded: 100, more: true, folderCount: 186 })).toBe('186 messages');
    expect(listSummaryText({ query: '', loaded: 1, more: false, folderCount: 1 })).toBe('1 message');
    // Only when nobody counted: what is loaded, with a plus while there is more.
    expect(listSummaryText({ query: '', loaded: 100, more: true })).toBe('100+ messages');
  });

  it('says a search\'s counted total; zero matches say so in words, not "0 found"', () => {
    expect(listSummaryText({ query: 'contract', loaded: 100, more: true, total: 1204 })).toBe('1,204 found');
    // The relay counts up to ARCHIVE_BROWSE_LIMITS.countMax: past it, "at least".
    expect(listSummaryText({ query: 'meeting', loaded: 100, more: true, total: 1000, totalAtLeast: true })).toBe('1,000+ found');
    expect(listSummaryText({ query: 'meeting', loaded: 100, more: true, total: 1000, totalAtLeast: false })).toBe('1,000 found');
    expect(listSummaryText({ query: 'contract', loaded: 0, more: false, total: 0 })).toBe('No messages match');
    expect(listSummaryText({ query: 'x', loaded: 100, more: true, total: undefined, folderCount: 5 })).toBe('100+ found');
  });

  it('an empty search names the query and what to try; filters it used get their own hint', () => {
    const plain = emptyListText('  kontrakt ');
    expect(plain.title).toBe('No messages match kontrakt');
    expect(plain.hints.join(' ')).toMatch(/spelling/);
    expect(plain.hints.join(' ')).toMatch(/fewer words/);
    expect(emptyListText('folder:Work x').hints.join(' ')).toMatch(/folder: filter/);
    expect(emptyListText('after:2025-11-09').hints.join(' ')).toMatch(/time zone/);
    expect(emptyListText('x', 3).hints.join(' ')).toMatch(/backup 3/);
    expect(emptyListText('').title).toMatch(/no archived messages/);
  });
});

describe('the zone an archive search is sent with', () => {
  const frame = (params: Record<string, unknown>) => RequestFrame.safeParse({ type: 'request', id: 'r1', method: 'archive.search', params: { accountId: 'work', query: 'after:2025-11-09', ...params } });

  it('takes an IANA zone the runtime knows, and none at all (the relay\'s zone)', () => {
    expect(frame({ timeZone: 'America/Los_Angeles' }).success).toBe(true);
    expect(frame({ timeZone: 'UTC' }).success).toBe(true);
    expect(frame({}).success).toBe(true);
  });

  it('refuses a zone that is not one, an empty one, and one too long to be a name', () => {
    for (const timeZone of ['Mars/Olympus_Mons', '', '+25:00', 'America/Los Angeles', 'x'.repeat(65), 'local']) expect(frame({ timeZone }).success, timeZone).toBe(false);
  });
});

describe('what a Completed restore says it did', () => {
  it('a selection, a folder, a range or one run\'s deletions say that, not "all archived messages"', () => {
    expect(restoreCompletedHint({ messageIds: ['3f2a9c0d1e2b4a5c-3'] }, 'UTC')).toBe('The selected message is back in the mailbox. Messages this restore did not cover are as they were.');
    expect(restoreCompletedHint({ messageIds: ['3f2a9c0d1e2b4a5c-3', '3f2a9c0d1e2b4a5d-3'], into: 'Restored 2026-12-02' }, 'UTC')).toMatch(/^The 2 selected messages are back in the mailbox \(under "Restored 2026-12-02"\)\./);
    expect(restoreCompletedHint({ folder: 'Projekte' }, 'UTC')).toMatch(/^The messages of "Projekte" are back/);
    expect(restoreCompletedHint({ disappearedInRun: 4, folder: 'INBOX' }, 'UTC')).toMatch(/^The mail deleted from the server in "INBOX" in backup 4 is back/);
    // A range in the reader's zone: 2024-03-01T07:00Z is still 29 Feb in Los Angeles.
    expect(restoreCompletedHint({ since: '2024-03-01T07:00:00.000Z' }, 'America/Los_Angeles')).toMatch(/^The messages from 2024-02-29 are back/);
    for (const p of [{ messageIds: ['3f2a9c0d1e2b4a5c-3'] }, { folder: 'X' }, { since: '2024-03-01T00:00:00.000Z' }]) expect(restoreCompletedHint(p, 'UTC')).not.toMatch(/All archived/);
  });

  it('only a restore of everything says all archived messages are back; a row without params says the generic words', () => {
    expect(restoreCompletedHint({}, 'UTC')).toBe('All archived messages are back in the mailbox.');
    expect(restoreCompletedHint(null, 'UTC')).toBe(RESTORE_STATUSES.completed.hint);
    expect(RESTORE_STATUSES.completed.hint).not.toMatch(/All archived/);
  });

  it('keeps the specification\'s status name and condition', () => {
    expect(RESTORE_STATUSES.completed.label).toBe('Completed');
    expect(RESTORE_STATUSES.completed.condition).toBe(displayedCondition('restore', 'completed'));
  });
});
