/**
 * Every numeric limit of Mailkeep, each with its reason. Shared by the extension and the relay;
 * platform-free. Add new limits here, never as literals at the call site.
 */
/**
 * The relay's door and server (issue 4): sizes, deadlines and rates of the loopback channel between
 * the extension and the relay, and of the relay's own bookkeeping.
 */
export const DOOR_LIMITS = {
  /** The largest legitimate body is an account upsert (< 2 KiB); 64 KiB leaves room and stops floods. */
  relayMaxBodyBytes: 64 * 1024,
  /** Request headers: the extension sends a few hundred bytes; Node's default is 16 KiB too. */
  relayMaxHeaderBytes: 16 * 1024,
  /** WebSocket frames are requests of the same size class as HTTP bodies. */
  relayMaxFrameBytes: 64 * 1024,
  /** A loopback client sends its headers in microseconds; 10 s only lets slow-loris sockets starve. */
  relayHeadersTimeoutMs: 10_000,
  /** Whole request including body: generous for loopback, still bounded. */
  relayRequestTimeoutMs: 15_000,
  /** Idle keep-alive sockets are closed soon: the service worker reconnects cheaply. */
  relayKeepAliveTimeoutMs: 5_000,
  /** A WebSocket that has not sent `hello` (with its token) by then is closed. */
  relayHelloTimeoutMs: 5_000,
  /** Bad tokens or pairing codes tolerated per window before the door answers 429. A person
   * mistyping a code needs 1-2 tries; 5 per minute makes guessing a 40-bit code hopeless. */
  authFailuresPerWindow: 5,
  /** The window of the failure count above. */
  authFailureWindowMs: 60_000,
  /** A printed pairing code stays valid this long: time to open the options page and type it. */
  pairingCodeTtlMs: 10 * 60_000,
  /** Random bytes of a pairing token: 256 bits, beyond guessing even without the rate limit. */
  pairingTokenBytes: 32,
  /** Characters of a pairing code (8 from a 32-letter alphabet = 40 bits; typed by a person). */
  pairingCodeLength: 8,
  /** Codes pending at once: the native host may mint one for the service worker and one for the
   * options page while a person runs `mailkeep pair`; each must stay good. Past this the oldest
   * goes: more would only widen a guesser's target (8 codes: 2^-37 per guess, 5 guesses a minute). */
  pairingCodesPendingMax: 8,
  /** scrypt cost for the credential file's key (N = 2^15, r = 8, p = 1: ~32 MiB, ~100 ms). */
  scryptN: 2 ** 15,
  scryptR: 8,
  scryptP: 1,
  /** scrypt needs 128*N*r bytes; Node's default cap (32 MiB) is exactly that, so allow double. */
  scryptMaxMem: 64 * 1024 * 1024,
  /** WebSockets get this long to answer our close frame before they are cut at shutdown. */
  relaySocketCloseGraceMs: 500,
  /** Running jobs get this long to checkpoint after SIGTERM before the relay exits anyway. */
  relayShutdownDeadlineMs: 10_000,
  /** Job records kept (state.sqlite's jobs table) and listed: enough history for the dashboard and
   * `mailkeep status`, a bounded table whose oldest finished rows are deleted as new jobs start. */
  jobHistoryMax: 500,
  /** Progress events per job are throttled: the popup's bar needs no more than 4 per second. */
  jobProgressIntervalMs: 250,
  /** An account.test login gets its own short deadline: the user is waiting on a button. */
  testConnectionTimeoutMs: 15_000,
  /** Client side (lib/protocol/relay-client.ts): the loopback relay answers in milliseconds, so
   * no answer to connect + hello, /health or /pair in 5 s means it is not running or hung. */
  relayClientConnectTimeoutMs: 5_000,
  /** Client side, one request: above testConnectionTimeoutMs, so a slow login reports its own
   * classified error rather than a client-side timeout. */
  relayClientCallTimeoutMs: 20_000,
} as const;

export const LIMITS = {
  /** Mail servers take seconds to answer a login under load; 20 s is generous yet still bounded. */
  imapConnectTimeoutMs: 20_000,
  /** Dovecot greets in ~65 ms here; a server that has not greeted in 15 s is not going to. */
  imapGreetingTimeoutMs: 15_000,
  /** A stalled server (no byte for this long mid-command) is treated as a lost connection. */
  imapSocketTimeoutMs: 60_000,
  /** An account's trusted CA certificates (PEM): a chain of a few certificates is under 16 KiB;
   * 32 KiB leaves room yet keeps account.upsert inside one relay frame (relayMaxFrameBytes). */
  accountCaMaxChars: 32 * 1024,
} as const;

/**
 * Provider pacing (issue 14): what Gmail and Microsoft 365 allow an IMAP account, and how long a
 * job pauses for each limit signal (relay/imap/provider-limits.ts, relay/state/transfer-budget.ts).
 */
export const PROVIDER_LIMITS = {
  /** Gmail documents 2,500 MB/day of IMAP downloads (Workspace; free accounts unpublished): 4 % under it, so the
   * relay stops before Gmail locks IMAP for about a day. */
  gmailDownloadBytesPerDay: 2_400 * 1024 * 1024,
  /** Gmail documents 500 MB/day of IMAP uploads: 10 % under it (an APPEND's literal is counted once sent). */
  gmailUploadBytesPerDay: 450 * 1024 * 1024,
  /** Under a daily budget a backup asks for bodies in FETCHes of at most 1/50 of a day's bytes (48 MB at Gmail's):
   * the server sends a FETCH's whole answer after the run stops at the budget, so a pause wastes at most 2 % of a day. */
  pacedFetchesPerDay: 50,
  /** Gmail allows 15 simultaneous IMAP connections per account, shared with phones and mail apps: Mailkeep takes 2. */
  gmailMaxConnections: 2,
  /** Microsoft 365 documents no daily byte budget for IMAP, only throttling (Suggested Backoff Time) and 20 connections. */
  outlookMaxConnections: 4,
  /** The budget is a rolling window, as Gmail's is. */
  budgetWindowMs: 24 * 60 * 60 * 1000,
  /** Transfer is tallied in buckets of this width (one row per account, direction and bucket): a refill time is
   * at most this early or late. */
  budgetBucketMs: 10 * 60 * 1000,
  /** Bytes tallied in memory before they are written to state.sqlite: a crash forgets at most this
   * much of the day's use, and a fast download does not write a row per message. */
  budgetFlushBytes: 4 * 1024 * 1024,
  /** Highest connection cap `mailkeep account pacing --max-connections` accepts: far above any
   * provider's limit (Gmail 15), low enough that a typo cannot open a connection storm. */
  maxConnectionsSetting: 100,
  /** An [OVERQUOTA] bandwidth answer the budget did not foresee (mail apps share the quota): Gmail's lock lasts up
   * to a day; looking again after 6 hours costs one refused LOGIN at most. */
  bandwidthPauseMs: 6 * 60 * 60 * 1000,
  /** [THROTTLED] or [LIMIT] without a suggested wait: a quarter of an hour, far above any per-minute rate window. */
  throttledPauseMs: 15 * 60 * 1000,
  /** Too many simultaneous connections (other apps hold them): they are usually closed within minutes. */
  connectionsPauseMs: 10 * 60 * 1000,
  /** `* BYE Session expired` / `System Error`: the session ended on the server's side, not a limit on the account;
   * a new login is what the server asks for. Two seconds keep a server in a BYE loop from being hammered, and
   * pausesInRunMax bounds the loop. */
  sessionExpiredPauseMs: 2 * 1000,
  /** Waits up to this long happen inside the running job (status Retrying, then Running again); longer ones end the
   * run as Retrying and the scheduler starts the next run at the resume time (a minute: a session the server ended
   * comes back at once, while Microsoft's usual 5-minute backoff should not hold the job open idle). */
  pauseInRunMaxMs: 60 * 1000,
  /** In-run pauses per run: a server that keeps ending sessions still ends the run (then paused for throttledPauseMs). */
  pausesInRunMax: 5,
  /** The longest wait a server's own Suggested Backoff Time is believed for: Microsoft's are minutes and Gmail's lock
   * lasts at most a day, so a longer (or garbled, 40-digit) number is a day: never a resume years away, nor a time
   * past what a Date can hold (which made the pause itself throw). */
  serverWaitMaxMs: 24 * 60 * 60 * 1000,
} as const;

/**
 * Relay engine (issue 3): backup job, archive and IMAP session limits. Kept apart from the rest so
 * each number sits next to its reason.
 */
export const RELAY_LIMITS = {
  /** A server's text kept in an error or a diagnostic: a reply is a line or two; a hostile or
   * broken server's endless reply must not fill a status card or the history. */
  serverTextMaxChars: 300,
  /** An error's message in one relay.log line: enough for the cause; the line stays readable. */
  logDetailMaxChars: 200,
  /** An exported file name's stem (the account's address): long enough for any real address,
   * short of every file system's 255-byte name limit with the date and suffixes. */
  exportStemMaxChars: 120,
  /** One message's file name in an eml-zip ("2024-05-14 Hotel booking.eml"), in UTF-8 bytes: every
   * file system allows 255 per name, but Windows Explorer's 260-character path limit counts the
   * unpack directory and the folder tree too; 100 keeps a date and a readable subject. */
  emlNameMaxBytes: 100,
  /** Bytes read of a message to find its Subject for that name: real header blocks (long Received
   * chains included) fit; a subject past this is not looked for (the file is named by its date). */
  emlNameHeadBytes: 64 * 1024,
  /** Messages at or above this size are streamed with partial FETCHes instead of imapflow's
   * buffered fetch, so the relay's memory does not grow with message size. 4 MiB keeps 99% of
   * real mail on the fast bulk path while capping a buffered message well below the RSS budget. */
  streamThresholdBytes: 4 * 1024 * 1024,
  /** Pack records are gathered up to this many bytes and written with one writev: one syscall per
   * message cost a measurable share of a full backup's CPU. Measured here (20,000 records, 517 MiB,
   * CPU of the writes): one writev per message ~310 ms, batches of 128 KiB ~190, 256 KiB ~165,
   * 1 MiB ~340, 8 MiB ~650 (larger batches no longer fit the CPU caches while the kernel copies). */
  packWriteBatchBytes: 256 * 1024,
  /** Pack batches may be written in the thread pool while the main thread goes on hashing and
   * parsing, up to this many bytes at once; past it the next batch is written on the main thread,
   * so a slow disk holds back the fetch instead of growing memory (at most one group's 64 MiB). */
  packWriteInflightBytes: 32 * 1024 * 1024,
  /** Chunk of one partial FETCH (BODY.PEEK[]<start.len>) when streaming a large message: big enough
   * that round trips do not dominate, small enough to be a fixed, small memory cost. Measured here,
   * 100 MB message, peak RSS growth of the backup (minor GC every MiB, below): 2 MiB +24 MB,
   * 1 MiB +16-19, 768 KiB +15-16, 512 KiB +12-15, 256 KiB +16-17 (more, smaller GCs). Loopback
   * wall time did not move; the price is one round trip per 512 KiB, ~200 for 100 MB. */
  streamChunkBytes: 512 * 1024,
  /** Backup's streamed download asks for a minor GC after every this many bytes written to the pack
   * (relay/imap/append-reclaim.ts): each MiB fetched leaves 2-3 MiB of dead socket, literal and
   * pipeline buffers that V8 otherwise lets pile up. Measured here, 100 MB message, 1 MiB chunks,
   * peak RSS growth over a small-message run: none +45 MB, every 16 MiB +46, 4 MiB +24, 2 MiB +16,
   * 1 MiB +17, 256 KiB +16; with 512 KiB chunks every 1 MiB +13-15, every 512 KiB +12-13. A
   * scavenge costs about a millisecond. Below the stream threshold nothing is reclaimed: small
   * messages never pay for it. */
  streamReclaimEveryBytes: 1024 * 1024,
  /** A group commit (pack fsync, then one SQLite transaction) covers at most this many messages:
   * one fsync per message is what makes mbsync slow here; a few hundred amortise it to nothing
   * while a crash re-downloads at most this many. */
  groupCommitMessages: 2_000,
  /** ...or this many bytes, so a crash never costs re-downloading more than this. */
  groupCommitBytes: 64 * 1024 * 1024,
  /** ...or this much time, so progress becomes durable regularly on a slow link. */
  groupCommitMs: 5_000,
  /** UIDs per bulk FETCH command: keeps command lines short (servers cap them near 8 KB-64 KB) */
  fetchBatchUids: 5_000,
  /** A pack file is closed and a new one started beyond this size: keeps files manageable for
   * copying and for filesystems with a 4 GiB file limit (FAT32 USB disks). */
  packMaxBytes: 1024 * 1024 * 1024,
  /** Connection attempts per backup job before it ends in Connection Error (first try + retries). */
  backupMaxAttempts: 3,
  /** A lock takeover guard (`<lock>.takeover`) older than this counts as abandoned: it is held for
   * a few syscalls, so only a taker killed inside it leaves one behind; 10 s is far beyond any
   * takeover and short enough that a crash there does not wedge the next start. */
  lockTakeoverGuardStaleMs: 10_000,
  /** Rounds of a lock acquisition before giving up: each round wins, meets a live owner, or removes
   * a stale lock; only takers racing each other need more than two. */
  lockAcquireRounds: 20,
  /** Names listed in a NOT_FOUND message (e.g. the archived folders for a mistyped --folder): enough
   * to spot the right spelling, short enough for one terminal screen; archive-info lists all. */
  notFoundListMax: 20,
  /** First retry delay; doubled each retry (2 s, 4 s): bounded so the job ends within seconds when
   * the server is really gone, and the scheduler (not the job) retries later in hours. */
  backupRetryBaseDelayMs: 2_000,
  /** Restore: same bounds as backup, for the same reason (the job ends within seconds when the
   * server is gone; a rerun appends only what is missing, so retrying is always safe). */
  restoreMaxAttempts: 3,
  restoreRetryBaseDelayMs: 2_000,
  /** Up to this many messages to restore into one folder, presence is checked with one SEARCH each
   * instead of one FETCH of the whole folder's Message-IDs. Measured on Dovecot, 20,000-message
   * folder: FETCH 1:* (RFC822.SIZE INTERNALDATE Message-ID) 0.65-1.15 s, one SEARCH HEADER
   * Message-ID ~30 ms; both grow with the folder, so the break-even is ~20-35 searches whatever its
   * size. 16 keeps one-click restores of a few messages cheap in a huge INBOX. */
  restoreSearchMaxMessages: 16,
  /** Logging out politely must not hold a finished job hostage to a dead server. */
  imapLogoutTimeoutMs: 3_000,
  /** Progress events are throttled to this interval: a terminal or WebSocket does not need more. */
  progressIntervalMs: 250,
  /** Ops per journal record when an index without a journal is written out as one (bootstrap):
   * keeps each record's JSON a few MB at most while a 100,000-message index needs only ~20 records. */
  journalBootstrapOpsPerRecord: 5_000,
  /** A journal record claiming more bytes than this is damage, not a record: larger than any record
   * Mailkeep writes (a group holds at most 2,000 messages, ~250 bytes each; the largest single op,
   * the gone-marks of one folder, is ~15 bytes per row: 17 million rows), and it bounds what a
   * garbage length field can make a reader allocate. */
  journalRecordMaxBytes: 256 * 1024 * 1024,
  /** Window in which the journal is read and scanned for the next record after damage: memory
   * stays at this (plus one record) whatever the journal's size. */
  journalReadWindowBytes: 4 * 1024 * 1024,
  /** SQLite waits this long for a lock held by a concurrent reader (verify, archive-info). */
  sqliteBusyTimeoutMs: 5_000,
  /** Bytes of a message's head searched for its Message-ID header. */
  messageIdScanBytes: 64 * 1024,
  /** Bloom filter of stored hashes: 16 bits per blob with 4 probes gives ~0.2% false positives
   * (each costing one index query); 1 Mi bits (128 KiB) minimum so small archives never rebuild. */
  knownHashesBitsPerEntry: 16,
  knownHashesMinBits: 1 << 20,
  /** Verify reads blobs in chunks of this size so a 100 MB blob is never held whole. */
  verifyReadChunkBytes: 1024 * 1024,
  /** Verify lists at most this many rows where the index and the journal differ (all are counted):
   * a wholly different index would otherwise list every row, in memory and on screen. */
  verifyMismatchRowsListed: 200,
  /** Migrate: same attempt bounds as backup and restore (a rerun copies only what is missing, so
   * retrying is always safe; the job ends within seconds when a server is really gone). */
  migrateMaxAttempts: 3,
  migrateRetryBaseDelayMs: 2_000,
  /** Migrate fetches source bodies in batches of at most this many messages or bytes: one FETCH
   * per batch keeps round trips few, the byte cap bounds what waits in memory for its APPEND. */
  migrateBatchMessages: 500,
  migrateBatchBytes: 32 * 1024 * 1024,
  /** Folders copied at once, each over its own pair of sessions: imapflow keeps one command in
   * flight per connection, so each APPEND waits its round trip; a second connection overlaps the
   * server's work. Two stays far under Dovecot's 10 connections per user and IP and the limits of
   * large providers (Gmail 15), and parallel by folder keeps each folder's order. */
  migrateParallelFolders: 2,
  /** Balancing lanes by bytes alone would ignore the per-APPEND round trip: each message counts as
   * this many bytes more (about what loopback Dovecot moves in one APPEND's round trip). */
  migrateLaneCostPerMessageBytes: 16 * 1024,
  /** Download links live 24 hours unless the job asks otherwise (spec: the link expires; a day is
   * long enough to come back to it, short enough not to leave a full mail export lying around). */
  downloadLinkTtlMs: 24 * 60 * 60 * 1000,
  /** ...and at least a minute, at most 30 days, whatever the job asks. */
  downloadLinkMinTtlMs: 60_000,
  downloadLinkMaxTtlMs: 30 * 24 * 60 * 60 * 1000,
  /** Random bytes in a download URL: 256 bits, unguessable even without the pairing token. */
  downloadTokenBytes: 32,
  /** Export attempts for transient local errors (a busy index, too many open files) before Cancelled. */
  downloadMaxAttempts: 3,
  downloadRetryBaseDelayMs: 1_000,
  /** Export reads blobs in chunks of this size: memory stays flat whatever the message size. */
  exportReadChunkBytes: 1024 * 1024,
  /** Restore and Migrate send a message at or above this size as a streamed APPEND literal (archive
   * blob read in chunks, or the source's partial FETCHes), never held whole; below it the message
   * is read whole and sent in one write, the fast path. Same threshold as backup's streaming. */
  appendStreamThresholdBytes: 4 * 1024 * 1024,
  /** Chunk of a streamed APPEND (a pack read, or one partial FETCH of the source): 256 KiB keeps
   * the relay's extra memory for a 100 MB message to a few chunks in flight (budget: 20 MB) while
   * one round trip per chunk is still small against its transfer. */
  appendStreamChunkBytes: 256 * 1024,
  /** Literals up to this size go non-synchronizing ({n+}) when the server has LITERAL+: no wait
   * for the "+" continuation (waiting for it before every literal over 4 KB was most of migrate's
   * gap to mbsync). Larger ones wait for "+": the server can still refuse them (quota, size)
   * before we spend the bytes, and one round trip is small against such a transfer. */
  appendNonSyncMaxBytes: 4 * 1024 * 1024,
  /** A streamed APPEND asks for a minor GC after every this many bytes (relay/imap/append-reclaim.ts):
   * the dead chunks of a 100 MB message otherwise pile up to ~64 MB before V8 collects them.
   * Measured in Migrate, 100 MB message, peak RSS growth: none +40 MB, every 8 MB +25, 4 MB +16,
   * 2 MB +10-16, 1 MB +10; a scavenge of the small young generation costs well under 1 ms. */
  appendReclaimEveryBytes: 1024 * 1024,
  /** Restore and Migrate pipeline their APPENDs (relay/imap/append-pipeline.ts): up to this many
   * are sent before the oldest is answered. One at a time left the server idle for a round trip
   * per message (restore took 1.47x mbsync's push, the relay 75 % idle); mbsync is configured in
   * the bench with PipelineDepth 50. 50 keeps a server busy across a 50 ms round trip at ~1 ms of
   * server work per APPEND, and bounds what a quota stop or a lost session leaves unknown. */
  appendPipelineMessages: 50,
  /** ...and at most this many bytes of them unanswered: each is kept in memory until its answer
   * (a refusal of its keywords resends it with the system flags), so this bounds the relay's
   * memory for the window; a message larger than the window goes alone. */
  appendPipelineBytes: 8 * 1024 * 1024,
  /** A cancelled restore or migrate stops sending and waits this long for the answers to the
   * APPENDs in flight, so it can say exactly what was appended: a healthy server answers 50 in well
   * under a second; one that has not answered in 10 s is cut (those messages are then in doubt,
   * and the next run's presence check finds the ones it kept). */
  appendCancelGraceMs: 10_000,
  /** After a session is lost with APPENDs unanswered, the job waits this long before its next plan
   * (retry) or before it returns (so before a rerun's plan): the server may still be storing the
   * APPENDs it had read (Dovecot went on for a few ms; a rerun started at once appended one of them
   * again). Only on that failure path; a server that has not finished in 3 s is very slow indeed. */
  appendInDoubtSettleMs: 3_000,
  /** LITERAL- (RFC 7888, part of IMAP4rev2) allows non-synchronizing literals up to 4096 bytes only. */
  literalMinusMaxBytes: 4096,
  /** An APPEND (literal sent and the tagged answer back) must move at least this fast, whole
   * message over whole time, or the session is cut: a server (or source) that trickles a byte
   * every few seconds restarts a socket idle timeout forever, a rate deadline it cannot defeat.
   * 16 KiB/s is below the slowest uplink still in use (128 kbit/s mobile fallback), so only a
   * stalled peer reaches it. */
  appendMinBytesPerSecond: 16 * 1024,
  /** ...plus this much per APPEND for the server's own work (fsync, quota and index updates) and
   * the round trips; the same as the IMAP socket idle timeout. */
  appendDeadlineBaseMs: 60_000,
  /** Backup deadlines a trickling server cannot defeat (imapflow's socket timeout restarts on every
   * byte). Each message must arrive within base + size / minRate: the base covers a round trip and
   * a server opening a cold file (Dovecot answers in milliseconds; Gmail throttles for seconds), the
   * rate is far below any real link (8 KiB/s is a 64 kbit/s modem) yet far above a trickle of a few
   * bytes a second. A 4 MiB message gets ~9 min; a trickled one ends with MESSAGE_TOO_SLOW. */
  backupMessageDeadlineBaseMs: 60_000,
  backupMinBytesPerSecond: 8 * 1024,
  /** No run lasts longer: a first backup of 50 GB at 2 MB/s takes ~7 h, and whatever is saved stays
   * (the next run resumes from the checkpoints), so a run still going after 12 h is being held by a
   * server that trickles within the per-message deadlines, and ends with RUN_TIME_LIMIT. */
  backupRunDeadlineMs: 12 * 60 * 60 * 1000,
  /** Reconnections per run while narrowing a failed batch down to the message: each unreadable
   * message that drops the connection costs one; past this many the connection, not the messages,
   * is at fault (and servers rate-limit logins), so the run ends as a Connection Error. */
  backupMaxReconnects: 10,
  /** Messages in a row that each take the connection down (dropped, or too slow) while narrowing:
   * one such message is a bad message, skipped with its code; three in a row with nothing readable
   * between is a server going away or a link that trickles, so the run retries as a Connection Error
   * instead of declaring every message unreadable. */
  backupMaxConsecutiveDrops: 3,
} as const;

/** The relay's scheduler (issue 11): it owns every account's schedule and automatic retry. */
export const SCHEDULE_LIMITS = {
  /** "The status will change within a few hours" (spec): the relay retries every status lib/status
   * marks autoRetry (a backup's Connection Error and Partially Completed, the Failed of restore,
   * download and migrate) this long after the run ended. Three hours outlasts most outages and
   * maintenance windows while keeping a missed backup well under a day old. */
  autoRetryDelayMs: 3 * 60 * 60 * 1000,
  /** A new account's first backup does not wait a whole interval: a minute after it is added (time
   * to finish typing its schedule), then on its schedule. */
  firstBackupDelayMs: 60 * 1000,
  /** The scheduler looks at the clocks at least this often, even with nothing due: how late a run
   * can start after the machine wakes (Node's timers do not count suspended time on Linux or macOS),
   * and the period of the clock-jump check. A minute costs nothing and is far below any schedule. */
  tickMs: 60 * 1000,
  /** Wall time advancing this much more than the monotonic clock between two looks is a sleep (or
   * the clock set forward): the missed runs then wait a jittered moment. Far above timer lateness
   * and NTP slews (milliseconds), far below the shortest schedule. */
  clockJumpMs: 2 * 60 * 1000,
  /** A slot that passed more than this before the relay looked was missed (asleep, relay down),
   * not merely reached by a slightly late timer. */
  missedRunGraceMs: 2 * 60 * 1000,
  /** A missed run starts within this random delay after a wake or a start: many machines waking
   * at 08:00 do not all log in to one mail server in the same second, and the network (Wi-Fi, VPN)
   * has a moment to come back. Five minutes is "soon" for a schedule of hours. */
  missedRunJitterMaxMs: 5 * 60 * 1000,
  /** Jobs `state.get` returns unless told: the dashboard's recent history, same as job.list. */
  stateJobsDefault: 100,
  /** `mailkeep account|schedule|status|backup --account` wait this long for a data dir another
   * command holds (no relay runs; one command at a time writes it) or a relay that is starting:
   * those take well under a second; a backup run without the relay takes minutes and is not waited
   * for beyond this (the command says why it gave up). */
  cliDataDirWaitMs: 10_000,
  /** `mailkeep restore --ids -` reads ids from stdin up to this many bytes: a full selection
   * (ARCHIVE_BROWSE_LIMITS.selectionMax) of whole `mailkeep search` lines (~200 bytes each) is
   * ~1 MB; more is not a list of ids, and an endless stream must not grow the command's memory. */
  cliIdsStdinMaxBytes: 2 * 1024 * 1024,
  /** ...and waits this long for stdin to end: the search it reads from may first index an archive
   * of a million messages (minutes on a slow disk); a writer that never closes must not hang it. */
  cliIdsStdinDeadlineMs: 15 * 60 * 1000,
  /** `restore --account` waits for the restore job it started at most this long before saying it
   * may still run in the relay: a restore of a whole large account is hours (paced uploads resume
   * by themselves the next day; the command reports the pause, it does not wait for it). */
  cliRestoreWaitMs: 24 * 60 * 60 * 1000,
} as const;

/** Extension side (issue 2): the status store, badge, notifications and pages. */
export const EXTENSION_LIMITS = {
  /** The options page asks the relay how a sign-in goes this often (oauth.status) until it ends or
   * its flow's deadline passes; an event also mirrors the account, this is for a page whose worker
   * restarted meanwhile. Cheap loopback requests; a person takes tens of seconds to approve. */
  oauthPollMs: 1_000,
  /** A progress bar's time estimate is shown only after the run was watched this long: the first
   * seconds (login, SEARCH, the first small messages) say little about the rate of the rest. */
  progressEstimateMinMs: 15_000,
  /** ... and over at least this many messages, so a few slow large ones do not set the estimate. */
  progressEstimateMinMessages: 20,
  /** The rate is measured over this recent window, so a run that slows down (large mail) is followed. */
  progressRateWindowMs: 120_000,
  /** Events older than this are not turned into notifications on a late wake-up: a stale
   * "Connection Error" popping up a day later helps nobody; the badge still shows it. */
  notifyMaxAgeMs: 60 * 60 * 1000,
  /** While Chrome saves a download, the page re-reads its byte count this often: downloads.onChanged
   * reports state changes, not bytes. A local read of Chrome's own list; fast enough to look alive. */
  downloadProgressPollMs: 500,
  /** Downloads remembered per job (the id Chrome gave it) for a reopened page: the newest ones;
   * older jobs' links have expired anyway. */
  downloadRecordsMax: 200,
  /** Backup schedule bounds: hourly at most (servers rate-limit logins) and weekly at least. */
  scheduleMinHours: 1,
  scheduleMaxHours: 168,
  /** A new account backs up daily unless told otherwise. */
  defaultScheduleHours: 24,
  /** Rows one dashboard tab renders; older jobs stay in the store. Keeps the page fast. */
  dashboardMaxRows: 500,
  /** Job events copied into a diagnostics report: enough history to see a pattern, short enough to paste. */
  diagnosticsMaxEvents: 200,
  /** Display names and the like: long enough for any real name, short enough for a popup card. */
  displayNameMaxChars: 100,
  /** While the worker runs, a dropped relay socket is retried this often: a restarted relay is
   * picked up within seconds, without waiting for the periodic alarm. */
  relayReconnectDelayMs: 2_000,
  /** ...at most this many times per wake, so a relay that is gone for good does not keep an idle
   * worker busy; the periodic check alarm takes over. */
  relayReconnectAttempts: 15,
  /** The periodic relay check (reconnect, refresh the mirror, start queued runs, owed retries of
   * runs the user started) while nothing else wakes the worker: the only alarm the extension keeps
   * (the relay owns backup schedules); once a minute is Chromium's floor for packed extensions. */
  relayCheckAlarmMinutes: 1,
  /** A folder losing at least this many messages between two backups is a "bulk deletion": it
   * prompts under the default setting ("only bulk deletions") and raises a notification. Tidying
   * by hand removes a handful at a time; 20 or more at once is a select-all, a filter rule, a sync
   * client gone wrong or someone else in the account: worth interrupting the user for. */
  bulkDeletionMessages: 20,
  /** The dry run behind a restore's confirmation reads the archive and searches the destination
   * folder; a one-click set takes about a second. Past a minute the user is told to try again,
   * rather than watching a spinner that never ends. */
  restorePlanDeadlineMs: 60_000,
  /** How often that dry run is polled: the relay finishes small plans in well under a second. */
  restorePlanPollMs: 250,
  /** While the worker is linked to the relay it asks for the relay's state this often: the cheap
   * loopback call proves the relay still answers (a hung or suspended relay closes no socket), and
   * its answer re-syncs the mirror. 5 s lets a page notice a dead relay within a few seconds. */
  relayHeartbeatMs: 5_000,
  /** A "connected" older than this is not believed by the pages: the worker confirms it every
   * relayHeartbeatMs, so three missed confirmations mean the worker or the relay is gone (browser
   * just reopened, worker stopped, relay hung) and every status shown becomes "last known". */
  relayStaleAfterMs: 15_000,
  /** How often an open page re-reads its clock to age the "last known" marks and notice a stale
   * link: once a second keeps "as of" honest without measurable cost. */
  pageClockTickMs: 1_000,
  /** An open page whose relay is not confirmed (the Welcome page's "Connect the relay" step, and
   * the banner of the popup, dashboard, options and archive pages) asks the worker to look again
   * this often: the worker may be asleep (only its one-minute alarm wakes it) and its own retries
   * stop after relayReconnectAttempts, so a relay installed or restarted minutes later is shown
   * within seconds. A look is a loopback health call, or one start of the native host when there is
   * no relay: cheap enough every few seconds. */
  relayLookMs: 3_000,
  /** The native-messaging host answers with the relay's address within a second (it may start the
   * relay, ~0.3 s here); 15 s bounds a host that hangs, so code pairing can be offered instead. */
  nativeHostReplyTimeoutMs: 15_000,
} as const;

/** The relay as a user service (issue 11): its log, the native-messaging host, install/uninstall. */
export const SERVICE_LIMITS = {
  /** relay.log is rotated past this size. A relay writes a few lines per job, so 5 MiB holds months
   * of history, yet the file stays small enough to read or attach to a bug report. */
  logMaxBytes: 5 * 1024 * 1024,
  /** Rotated files kept (relay.log.1 .. relay.log.3): history across a few bursts of errors; older
   * ones are deleted, so a relay stuck in a failing loop cannot fill the disk (at most 20 MiB). */
  logKeepFiles: 3,
  /** One log line is cut to this many characters: an error message is a few hundred; a runaway
   * message (a server's reply echoed in full) must not flood the file. */
  logMaxLineChars: 4_000,
  /** The native host waits this long for the relay it started (or found starting) to listen. From
   * the bundle it listens in ~0.3 s, through tsx in 1-2 s on a loaded machine; anything that stops
   * it (port taken, unreadable credentials) makes it exit, which ends the wait at once. */
  relayStartDeadlineMs: 15_000,
  /** Poll period of that wait (lock file, then GET /health): cheap on loopback. */
  relayStartPollMs: 100,
  /** One GET /health probe on loopback: a healthy relay answers in milliseconds. */
  relayHealthTimeoutMs: 2_000,
  /** Largest message the host accepts from the browser. Its requests are under 200 bytes; the
   * browser would allow 64 MiB, which the host must never buffer for a stranger. */
  nativeMaxRequestBytes: 64 * 1024,
  /** host -> browser: Chromium closes the port above exactly 1 MiB (measured, notes/integration-recipes.md). */
  nativeMaxReplyBytes: 1024 * 1024,
  /** Once a message's length prefix has arrived, its body must follow within this: the browser
   * writes a message at once, so a trickle is not the browser and ends the host. */
  nativeMessageDeadlineMs: 10_000,
  /** systemctl, launchctl, schtasks and reg calls of install/uninstall: each is local and quick;
   * a hung service manager must not hang the command. */
  serviceCommandTimeoutMs: 30_000,
  /** uninstall waits this long for the relay it stopped to release its lock: jobs checkpoint within
   * DOOR_LIMITS.relayShutdownDeadlineMs (10 s) plus the time to commit a last batch. */
  relayStopDeadlineMs: 20_000,
  /** systemd and launchd restart a failed relay after this pause (RestartSec, ThrottleInterval): a
   * relay that fails at once (port taken) retries calmly instead of spinning. */
  restartDelaySeconds: 10,
  /** An installed relay looks this often for a browser that appeared since install (its profile
   * folder: a few stat calls) and registers the native host for it: a person who installs or first
   * starts Chrome after `npm start` is connected within a minute, without running anything again. */
  browserScanMs: 60_000,
} as const;

/** Search of the archive (issue 15, relay/search, docs/search.md). */
export const SEARCH_LIMITS = {
  /** Decoded body text indexed per message. A letter is a few KB; 64 Ki characters hold all of
   * nearly every real message, while a huge text part (a log pasted in, a newsletter of MBs) costs
   * the index and the indexer a bounded amount instead of its whole size. */
  bodyTextChars: 64 * 1024,
  /** Subject, From, To and Cc indexed per message (each): a To of a thousand recipients is still
   * findable by its first few hundred without making one row of the index megabytes long. */
  headerChars: 16 * 1024,
  /** Attachment file names indexed per message, and characters of each: filename: finds the ones a
   * person means; a message with 10,000 parts does not grow the index by each. */
  filenamesMax: 200,
  filenameChars: 255,
  /** A message up to this size is parsed as it is. A larger one first goes through a pass that
   * keeps only the first textPartCapFactor x (text limit) bytes of each text part (attachments are
   * streamed through and only counted), so a 100 MB message adds a bounded amount of memory:
   * mailparser otherwise holds every inline text part whole. */
  wholeParseBytes: 1024 * 1024,
  /** Encoded bytes kept per text part in that pass, as a multiple of the characters wanted:
   * base64 of UTF-8 Japanese is about 4 bytes per character. */
  textPartCapFactor: 4,
  /** Read size when streaming a large message out of its pack for parsing: a fixed memory cost. */
  readChunkBytes: 256 * 1024,
  /** Header block read when a message cannot be parsed as MIME and is indexed by its headers. */
  headerScanBytes: 256 * 1024,
  /** Messages indexed per search-index transaction: few enough that a reader or the backup's
   * thread is never held long (one transaction of 500 small messages is ~20-40 ms here), many
   * enough that commits do not dominate a full build. */
  batchMessages: 500,
  /** While a backup runs, the indexer works at most this share of wall time: the backup shares its
   * thread and the machine's cores, and must not become more than 10 % slower (issue 15); 5 % leaves
   * room for what pacing cannot count (its garbage collected later, the cores' caches). After each
   * slice of at least busyWorkSliceMs of work (opening, queries, parsing, commits: all of it) it
   * rests that work x (1/busyShare - 1), so a slice a 200 ms message overran rests 3.8 s, not 0.5 s
   * (relay/search/index-pacer.ts). 25 ms: the backup's thread is never held much longer than one
   * network round trip, and rests are few enough that timers cost nothing. Between backups it runs
   * at full speed, with a turn of the event loop every busyWorkSliceMs. */
  busyShare: 0.05,
  busyWorkSliceMs: 25,
  /** While a backup runs, the indexer looks for its newly committed groups this often: a group is
   * committed every 5 s or 2,000 messages at most, so search stays about one group behind. */
  busyFollowUpMs: 2000,
  /** Hits per page when none is asked for, and the most one page may hold. */
  pageDefault: 50,
  pageMax: 500,
  /** A query is typed by a person: 1,000 characters and 64 terms are far beyond any real one and
   * bound parsing and the SQL it becomes. */
  queryMaxChars: 1000,
  queryMaxTerms: 64,
  /** Brackets, braces and "-" nested in one another: FTS5's expression parser has a fixed stack
   * (about 35 levels of a query's brackets overflow it, "fts5: parser stack overflow"); no person
   * nests more than a few, so 16 is refused at its bracket with a position before SQLite sees it. */
  queryMaxDepth: 16,
  /** before:/after: years from this one: JavaScript reads years 0-99 as 1900-1999, and no mail is older. */
  queryMinYear: 1900,
  /** Words of context in a hit's snippet (FTS5 snippet(): at most 64). */
  snippetWords: 16,
  /** Text (and HTML) of one shown message: enough for any letter; the rest is in the raw message. */
  showTextChars: 1_000_000,
  showHeadersMax: 500,
  showAttachmentsMax: 1000,
} as const;

/** OAuth2 sign-in and tokens (relay/oauth, docs/oauth.md). */
export const OAUTH_LIMITS = {
  /** A sign-in waits this long for the provider's callback: enough to type a password and pass a
   * second factor; after it the flow's state is forgotten and a late callback is refused. */
  flowTtlMs: 10 * 60_000,
  /** Sign-ins pending at once: each holds a PKCE verifier in memory; a peer cannot pile them up. */
  maxPendingFlows: 16,
  /** An access token is renewed this long before its announced expiry, so a session opened just
   * before it is not refused (Google and Microsoft tokens live about an hour). */
  refreshMarginMs: 5 * 60_000,
  /** Deadline of one token endpoint request (connect and whole answer): a trickling provider
   * counts as unreachable, a connection-class failure retried later. */
  tokenRequestTimeoutMs: 20_000,
  /** A token endpoint answer larger than this is refused (real answers are a few KB). */
  tokenResponseMaxBytes: 64 * 1024,
  /** The CLI's `account add --oauth` waits this long for the sign-in (the flow's own deadline). */
  cliWaitMs: 10 * 60_000,
  /** The CLI's one-shot callback listener waits this long for its "you can close this tab" page
   * to be written before it closes (the page is a few hundred bytes on loopback). */
  cliPageWriteMs: 5_000,
  /** How often the CLI asks a running relay whether the sign-in finished. */
  cliPollMs: 500,
} as const;

/** What is in my backup (issue 13): the run history of an account (account.history) and its chart. */
export const HISTORY_LIMITS = {
  /** Runs in one account.history answer: a run is about 400 bytes of JSON, so a page stays well
   * under the door's frame cap while a whole job history (DOOR_LIMITS.jobHistoryMax) takes 3 pages. */
  pageMax: 200,
  /** What a caller gets without asking for a page size: the dashboard's first screen and more. */
  pageDefault: 50,
  /** Runs the extension mirrors per account (pages fetched after a backup finishes): years of daily
   * runs for the chart, bounded so the IndexedDB copy stays small. */
  mirrorRunsPerAccount: 1_000,
  /** Marks the chart draws at most: about one per 5 px of a 600 px plot; more runs are grouped into
   * this many time buckets (the latest total and the worst outcome of each bucket are kept). */
  chartMaxPoints: 120,
  /** Runs the dashboard's table lists before "Show all": one screen. */
  tableRowsShown: 20,
  /** Runs `mailkeep status ACCOUNT` prints: the last ten, as the issue asks. */
  cliRuns: 10,
} as const;

/** The Archive page and its relay requests (issue 15, archive.* in lib/protocol/archive-browse.ts). */
export const ARCHIVE_BROWSE_LIMITS = {
  /** A search's first page counts its matches up to this many ("1,000+ found" beyond): enough for
   * a person to see whether to narrow the search; counting all 50,000 matches of a frequent word
   * costs 100 ms at 100,000 messages, the first 1,000 a few (docs/search.md, Speed). */
  countMax: 1_000,
  /** Rows of one list or search page: two screens of the message list, so scrolling asks for the
   * next page before the person reaches the end, and one answer stays a few tens of KB. */
  pageDefault: 100,
  /** The most a client may ask for in one page: bounds the relay's work and the frame size. */
  pageMax: 500,
  /** A query on the wire: only a bound on the frame. The relay's parser refuses a query longer than
   * SEARCH_LIMITS.queryMaxChars itself, with SEARCH_QUERY_INVALID and the position the search box
   * marks; were the wire's bound the same, the person would read "invalid request" instead. */
  queryMaxChars: 16 * 1024,
  /** Text or HTML of one preview: enough for any letter; the rest is in the downloaded .eml. Keeps
   * a newsletter of several MB from filling a frame the 16 MB WebSocket cap would refuse. */
  previewTextMaxChars: 1_000_000,
  previewHeadersMax: 500,
  /** A header's name and value in a preview. Names are short (RFC 5322 allows any length; 256 holds
   * every real one). A value of 16 Ki characters holds a To of several hundred recipients or a long
   * References chain; 500 of them stay within a few MB of frame. The .eml download has all of it. */
  previewHeaderNameChars: 256,
  previewHeaderValueChars: 16 * 1024,
  /** Why a message could not be parsed, as the preview says it: one sentence of mailparser's. */
  previewParseErrorChars: 1024,
  /** A message list's row: what one line shows of From, To and Subject, and the snippet's stretch
   * of text (16 words, SEARCH_LIMITS.snippetWords, but a "word" of base64 can be long). The relay
   * cuts longer values (a spammer's 5,000-character subject) so that such a message is listed,
   * never an answer that does not fit the wire and fails the whole page. */
  hitFromChars: 1024,
  hitToChars: 4096,
  hitSubjectChars: 4096,
  snippetChars: 2048,
  /** Folder names (IMAP servers allow a few hundred characters) and attachment file names. */
  folderNameChars: 1024,
  attachmentNameChars: 1024,
  contentTypeChars: 256,
  /** IMAP flags and keywords of one message on the wire: real mail has a handful; a server that
   * collected hundreds of keywords shows the first 64. */
  flagsMax: 64,
  flagChars: 256,
  previewAttachmentsMax: 1_000,
  /** Backup runs offered by the point-in-time switch: four daily runs a year for years. */
  runsMax: 10_000,
  foldersMax: 10_000,
  /** Messages one restore or download of a selection may name: the ids travel in the job's params
   * (stored with the job); 5,000 ids are ~60 KB. A larger set is a folder or a date range. */
  selectionMax: 5_000,
  /** The relay answers an archive request within this or refuses it (CONNECTION_TIMEOUT): a search
   * over 100,000 messages takes milliseconds, a preview parses one message; 15 s is a stuck disk. */
  relayDeadlineMs: 15_000,
  /** A request about an archive that changed since the search index last caught up waits for the
   * relay's background indexer at most this long, then answers with what is indexed (well inside the
   * request's deadline; a first catch-up of 100,000 messages takes minutes and goes on meanwhile). */
  indexCatchUpWaitMs: 5_000,
  /** The page waits this long for the worker's answer (which waits for the relay's deadline above). */
  pageDeadlineMs: 20_000,
  /** While a folder has mail the search index has not reached (a first index of a large archive),
   * the page asks for its folders and list again this often: the counts grow as indexing goes on. */
  indexPollMs: 3_000,
  /** Results as you type: a request after this pause in typing, not one per key. */
  searchDebounceMs: 200,
  /** The message list's row height in CSS pixels: the windowing computes which rows are visible
   * from it, so it must match the stylesheet's .archive-row height. */
  listRowPx: 36,
  /** Rows rendered above and below the visible ones, so fast scrolling shows no blank rows. */
  listOverscanRows: 8,
  /** A note that something worked ("Link copied") stays this long, then goes: long enough to read a
   * line twice, short enough that notes never pile up above the list. Problems stay until the next action. */
  noteShownMs: 6_000,
} as const;
