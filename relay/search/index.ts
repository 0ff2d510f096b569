/**
 * Search and browse of an archive (issue 15, docs/search.md): the search index beside the archive
 * (a cache, rebuilt by `mailkeep reindex`), the query language, browse by folder and run, and one
 * message shown or read raw. The relay's archive.* requests and the CLI's search, show and reindex
 * commands use only these.
 */
export { updateSearchIndex, rebuildSearchIndex, type UpdateOptions, type Pacer } from './index-update.ts';
export { searchArchive, SNIPPET_MARK_START, SNIPPET_MARK_END } from './search.ts';
export { listFolders, listMessages } from './browse.ts';
export { showMessage, readRaw } from './show.ts';
export { messageRef, parseRef, resolveRef } from './message-ref.ts';
export { closeSearchSessions } from './search-session.ts';
export { searchFile, openSearchDb, openSearchDb as openSearchIndex } from './search-db.ts';
export type { SearchHit, SearchPage, SearchOptions, FolderCount, ShownMessage, MessageRef, IndexReport, IndexProgress } from './types.ts';
