import { accountLabel } from '@/lib/account-label';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ArchiveFolder, ArchiveHit, ArchiveMessageView, ArchiveRun } from '@/lib/protocol/archive-browse';
import { getDb } from '@/lib/storage/db';
import { listAccounts, listJobs } from '@/lib/storage/queries';
import { errorHint } from '@/lib/status/error-hints';
import { systemClock, type Clock } from '@/lib/clock';
import { ARCHIVE_BROWSE_LIMITS } from '@/lib/limits';
import { formatAbsolute } from '@/lib/format';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { archiveCall, type ArchiveReply } from '@/lib/ui/archive-call';
import { archiveHash, parseArchiveHash, type ArchiveView } from '@/lib/ui/archive-link';
import { latestOnly } from '@/lib/ui/archive-search';
import { folderTree } from '@/lib/ui/archive-folder-tree';
import { emptyListText, listSummaryText } from '@/lib/ui/archive-list-words';
import { ArchiveMessageList } from './archive-message-list';
import { ArchivePreview } from './archive-preview';
import { ArchiveActions } from './archive-actions';
import { PageHeader } from './page-header';
import { RelayLinkBanner } from './relay-link-banner';

type ListState = { hits: ArchiveHit[]; nextCursor?: string; total?: number; totalAtLeast?: boolean; loading: boolean };
type QueryError = { message: string; position?: number };

const problemOf = (reply: Extract<ArchiveReply<never>, { ok: false }>) => errorHint(reply.code) ?? reply.message;

/**
 * The Archive page (issue 15): an account's archive as a mail client shows a mailbox. Folders with
 * counts on the left, the messages of one folder (or the hits of a search, as you type) in the
 * middle, the message on the right; restore, download or link what is selected. The point-in-time
 * switch shows the account as it was at any backup run. Everything comes from the relay through the
 * service worker; the URL's hash says what is shown, so a copied link opens the same message.
 */
export function ArchiveApp({ clock = systemClock }: { clock?: Clock }) {
  const db = getDb();
  const accounts = useLiveQuery(() => listAccounts(db)) ?? [];
  const initial = useMemo(() => parseArchiveHash(location.hash), []);
  const [accountId, setAccountId] = useState(initial.account ?? '');
  const [atRun, setAtRun] = useState<number | undefined>(initial.atRun);
  const [runs, setRuns] = useState<ArchiveRun[]>([]);
  const [folders, setFolders] = useState<ArchiveFolder[] | null>(null);
  const [folder, setFolder] = useState<string | null>(initial.folder ?? null);
  const [query, setQuery] = useState(initial.query ?? '');
  const [queryError, setQueryError] = useState<QueryError | null>(null);
  const [list, setList] = useState<ListState>({ hits: [], loading: false });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [preview, setPreview] = useState<ArchiveMessageView | null>(null);
  const [previewId, setPreviewId] = useState<string | null>(initial.message ?? null);
  const [problem, setProblem] = useState<string | null>(null);
  const timeZone = clock.timeZone();
  // A backup of the account that ends (the one the relay starts right after a restore into it, or
  // any other) changes what is on the server: folders, list, preview and runs are asked for again,
  // so "deleted on server" clears by the server's truth, not by a guess (docs/search.md).
  const lastBackup = useLiveQuery(async () => {
    if (!accountId) return '';
    const [latest] = await listJobs(db, 'backup', { accountId });
    return latest && latest.status !== 'running' && latest.status !== 'preparing' ? `${latest.id}:${latest.status}:${latest.updatedAt}` : '';
  }, [accountId]);
  const [refresh, setRefresh] = useState(0);
  const seenBackup = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (lastBackup === undefined) return;
    if (seenBackup.current !== undefined && seenBackup.current !== lastBackup) setRefresh((n) => n + 1);
    seenBackup.current = lastBackup;
  }, [lastBackup]);
  const viewKey = `${accountId}|${atRun ?? ''}|${query.trim() ? `q:${query.trim()}` : `f:${folder ?? ''}`}`;
  const listKey = `${viewKey}|${refresh}`;
  const currentKey = useRef(listKey);
  currentKey.current = listKey;

  // The first account, once the mirror has them, when the link named none.
  useEffect(() => {
    if (!accountId && accounts.length) setAccountId(accounts[0]!.id);
  }, [accounts.length]);

  // What is shown is in the hash (Back works; Copy link copies it).
  useEffect(() => {
    const view: ArchiveView = { account: accountId || undefined, folder: folder ?? undefined, message: previewId ?? undefined, query: query.trim() || undefined, atRun };
    history.replaceState(null, '', archiveHash(view) || location.pathname);
  }, [accountId, folder, previewId, query, atRun]);

  // Runs and folders of the account (at the chosen run).
  useEffect(() => {
    if (!accountId) return;
    setProblem(null);
    void archiveCall('archive.runs', { accountId }).then((r) => (r.ok ? setRuns(r.value.runs) : setProblem(problemOf(r))));
  }, [accountId, refresh]);
  const [poll, setPoll] = useState(0);
  useEffect(() => {
    if (!accountId) return;
    if (poll === 0) setFolders(null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    void archiveCall('archive.folders', { accountId, ...(atRun ? { atRun } : {}) }).then((r) => {
      if (!r.ok) return setProblem(problemOf(r));
      setFolders(r.value.folders);
      if (folder === null && r.value.folders.length) setFolder(r.value.folders.find((f) => f.specialUse === '\\Inbox' || f.name.toUpperCase() === 'INBOX')?.name ?? r.value.folders[0]!.name);
      // A first index of a large archive: ask again while mail is still being indexed, and show the
      // folder's list as it grows (the selection stays).
      if (r.value.folders.some((f) => (f.notIndexed ?? 0) > 0)) {
        timer = setTimeout(() => setPoll((n) => n + 1), ARCHIVE_BROWSE_LIMITS.indexPollMs);
        if (poll > 0 && !query.trim()) void loadPage(currentKey.current);
      }
    });
    return () => clearTimeout(timer);
  }, [accountId, atRun, poll, refresh]);
  const notIndexed = (folders ?? []).reduce((n, f) => n + (f.notIndexed ?? 0), 0);

  // One page of the current list (folder or search); `cursor` continues it.
  const loadPage = async (key: string, cursor?: string): Promise<void> => {
    const q = query.trim();
    const common = { accountId, limit: ARCHIVE_BROWSE_LIMITS.pageDefault, ...(atRun ? { atRun } : {}), ...(cursor ? { cursor } : {}) };
    // Untrimmed: a parse error's position is the search box's (the relay ignores the spaces).
    const reply = q ? await archiveCall('archive.search', { ...common, query, timeZone }) : folder ? await archiveCall('archive.messages', { ...common, folder }) : null;
    if (!reply || currentKey.current !== key) return;
    deliver(key, reply, !!cursor);
  };
  const deliver = (key: string, reply: ArchiveReply<'archive.search'>, append: boolean) => {
    if (currentKey.current !== key) return;
    if (!reply.ok) {
      setList({ hits: [], loading: false });
      if (reply.position !== undefined || reply.code === 'INVALID_INPUT') setQueryError({ message: reply.message, ...(reply.position !== undefined ? { position: reply.position } : {}) });
      else setProblem(problemOf(reply));
      return;
    }
    setQueryError(null);
    setList((prev) => ({
      hits: append ? [...prev.hits, ...reply.value.hits] : reply.value.hits,
      nextCursor: reply.value.nextCursor,
      // A later page is not counted again: the first page's count stands.
      ...(append ? { total: prev.total, totalAtLeast: prev.totalAtLeast } : { total: reply.value.total, totalAtLeast: reply.value.totalAtLeast === true }),
      loading: false,
    }));
  };
  // Typing: debounced, and only the latest query's answer is shown (archive-search.ts).
  const typed = useMemo(
    () =>
      latestOnly(
        (p: { key: string; run: () => Promise<ArchiveReply<'archive.search'> | null> }) => p.run().then((reply) => ({ key: p.key, reply })),
        ({ key, reply }) => reply && deliver(key, reply, false),
      ),
    [],
  );
  const lastViewKey = useRef('');
  useEffect(() => {
    if (!accountId) return;
    // The same view asked again (after a backup): the selection stays, the list is replaced in place.
    const firstView = lastViewKey.current === '';
    const sameView = lastViewKey.current === viewKey;
    lastViewKey.current = viewKey;
    if (!sameView) {
      setSelected(new Set());
      // Another search, folder or run: the message shown belonged to the list that went (a link's
      // message, on the first view, stays: it is what the link opened).
      if (!firstView) setPreviewId(null);
    }
    setList((l) => ({ hits: sameView ? l.hits : [], loading: true }));
    const key = listKey;
    const q = query.trim();
    if (q) {
      // The page's zone: before:/after: are days as the list shows them (formatDay in `timeZone`);
      // the query untrimmed, so a parse error's position is the search box's.
      typed.push({ key, run: () => archiveCall('archive.search', { accountId, query, limit: ARCHIVE_BROWSE_LIMITS.pageDefault, timeZone, ...(atRun ? { atRun } : {}) }) });
    } else {
      typed.cancel();
      setQueryError(null);
      void loadPage(key);
    }
  }, [listKey]);
  useEffect(() => () => typed.cancel(), []);

  // The message shown: from a click, Enter, or a link.
  useEffect(() => {
    if (!accountId || !previewId) return setPreview(null);
    let gone = false;
    void archiveCall('archive.show', { accountId, id: previewId }).then((r) => {
      if (gone) return;
      if (r.ok) setPreview(r.value);
      else setProblem(problemOf(r));
    });
    return () => {
      gone = true;
    };
  }, [accountId, previewId, refresh]);

  const chooseAccount = (id: string) => {
    setAccountId(id);
    setAtRun(undefined);
    setFolder(null);
    setPreviewId(null);
    setRuns([]);
  };
  const loadMore = () => {
    if (list.nextCursor && !list.loading) {
      setList((l) => ({ ...l, loading: true }));
      void loadPage(listKey, list.nextCursor);
    }
  };
  const label = query.trim() ? `Search results for ${query.trim()}` : `Messages in ${folder ?? ''}`;
  const folderShown = query.trim() ? undefined : folders?.find((f) => f.name === folder);
  // A narrow window puts the preview below the list: a message chosen there scrolls it into view.
  const previewPane = useRef<HTMLElement>(null);
  useEffect(() => {
    const el = previewPane.current;
    if (!preview || !el) return;
    const box = el.getBoundingClientRect();
    if (box.top >= window.innerHeight || box.bottom <= 0) el.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }, [preview?.id]);
  return (
    <main class="archive-page">
      <PageHeader current="archive" title="Archive" />
      <RelayLinkBanner />
      {problem && <p class="error-text" role="alert" data-testid="archive-page-problem">{problem}</p>}
      <div class="archive-layout">
        <nav class="archive-side" aria-label="Accounts and folders">
          <label class="stacked">
            Account
            <select data-testid="archive-account" value={accountId} onChange={(e) => chooseAccount(e.currentTarget.value)}>
              {!accountId && <option value="">Choose…</option>}
              {accounts.map((a) => <option value={a.id}>{accountLabel(a)}</option>)}
            </select>
          </label>
          <label class="stacked">
            As it was
            <select
              data-testid="archive-at-run"
              value={atRun === undefined ? '' : String(atRun)}
              title={atRun === undefined ? 'Everything archived' : runLabel(runs.find((r) => r.id === atRun), atRun, timeZone)}
              onChange={(e) => { const v = e.currentTarget.value; setAtRun(v ? Number(v) : undefined); setPreviewId(null); }}
            >
              <option value="">Everything archived</option>
              {runs.map((r) => <option value={String(r.id)} title={runLabel(r, r.id, timeZone)}>{runTime(r, timeZone)}</option>)}
            </select>
          </label>
          <ul class="folder-tree" data-testid="folder-tree">
            {folderTree(folders ?? []).map(({ path, label, depth, folder: f }) => (
              <li style={{ paddingLeft: `${depth * 14}px` }}>
                {f ? (
                  <button class="folder" data-testid="folder" data-folder={f.name} title={f.name} aria-current={!query.trim() && f.name === folder ? 'true' : undefined} onClick={() => { setQuery(''); setFolder(f.name); }}>
                    <span class="folder-name">{label}</span>
                    <span class="count" data-testid="folder-count">{f.messages}</span>
                    {f.goneOnServer > 0 && <span class="visually-hidden">, {f.goneOnServer} deleted on server</span>}
                  </button>
                ) : (
                  // A parent the archive does not hold (\Noselect on the server): its name, nothing to open.
                  <span class="folder folder-parent" data-testid="folder-parent" data-folder={path} title={`${path}: holds folders only, no messages of its own`}>
                    <span class="folder-name">{label}</span>
                  </span>
                )}
              </li>
            ))}
          </ul>
          {folders === null && accountId && <p class="small muted">Loading folders…</p>}
        </nav>
        <section class="archive-main" aria-label="Messages">
          <div class="search-row">
            <input
              type="search"
              class="archive-search"
              aria-label="Search the archive"
              placeholder="Search the archive"
              title={'Words, "a phrase", from:, to:, subject:, folder:, has:attachment, before:2024-03-01, after:, larger:1M, is:deleted-on-server, OR, -word'}
              data-testid="archive-search"
              value={query}
              aria-invalid={queryError ? 'true' : undefined}
              aria-describedby={queryError ? 'archive-query-error' : undefined}
              onInput={(e) => setQuery(e.currentTarget.value)}
            />
          </div>
          {queryError && <QueryProblem id="archive-query-error" query={query} error={queryError} />}
          <ArchiveActions key={accountId} accountId={accountId} viewKey={viewKey} folder={folder} selected={[...selected]} previewId={previewId} accounts={accounts} clock={clock} />
          <p class="small muted list-summary" data-testid="list-summary" aria-live="polite">
            {list.loading && !list.hits.length
              ? 'Loading…'
              : listSummaryText({ query, loaded: list.hits.length, more: !!list.nextCursor, total: list.total, totalAtLeast: list.totalAtLeast, folderCount: folderShown?.messages })}
            {notIndexed > 0 && <span data-testid="not-indexed"> · indexing: {notIndexed} not searchable yet</span>}
          </p>
          <ArchiveMessageList
            hits={list.hits}
            label={label}
            selected={selected}
            previewId={previewId}
            timeZone={timeZone}
            goneTitle={goneWords(runs[0], timeZone)}
            showFolder={!!query.trim()}
            empty={list.loading ? null : emptyListText(query, atRun)}
            onPreview={(h) => setPreviewId(h.id)}
            onSelect={setSelected}
            onNearEnd={loadMore}
          />
        </section>
        <section class="archive-preview-pane" aria-label="Preview" ref={previewPane}>
          {preview ? (
            <ArchivePreview message={preview} goneWords={atRun !== undefined ? null : goneWords(runs[0], timeZone)} />
          ) : (
            <p class="muted small">Choose a message (click, or arrows and Enter) to see it here.</p>
          )}
        </section>
      </div>
    </main>
  );
}

/** A run of the point-in-time switch, as its title says it: "Backup 3 · 2 Dec 2026, 14:05". */
function runLabel(run: ArchiveRun | undefined, id: number, timeZone: string): string {
  return run ? `Backup ${id} · ${formatAbsolute(Date.parse(run.startedAt), timeZone)}` : `Backup ${id}`;
}

/** The same run in the select: its time only ("2 Dec 2026, 14:05"), which fits the side bar whole; the title names the run. */
function runTime(run: ArchiveRun, timeZone: string): string {
  return formatAbsolute(Date.parse(run.startedAt), timeZone);
}

/**
 * What "deleted on server" says: as of which backup (the latest run is when the archive last looked
 * at the server). A restore puts mail back after that; the backup the relay starts once a restore
 * completes clears the mark by what it finds.
 */
function goneWords(latest: ArchiveRun | undefined, timeZone: string): string {
  return latest ? `deleted on server as of the backup of ${formatAbsolute(Date.parse(latest.startedAt), timeZone)}` : 'deleted on server';
}

/** The parse error under the search box, with a caret under where the query stops making sense. */
function QueryProblem({ id, query, error }: { id: string; query: string; error: QueryError }) {
  const at = error.position;
  return (
    <div class="query-problem" id={id} role="alert" data-testid="query-error" data-position={at ?? ''}>
      <span class="error-text">{error.message}</span>
      {at !== undefined && (
        <pre class="query-caret" aria-hidden="true">
          {query}
          {'\n'}
          {' '.repeat(Math.max(0, Math.min(at, query.length)))}^
        </pre>
      )}
    </div>
  );
}
