import { localTimeZone } from '../clock.ts';
import { ARCHIVE_BROWSE_LIMITS, EXTENSION_LIMITS } from '../limits.ts';
import type { ArchiveCall } from '../protocol/archive-browse.ts';
import { MailkeepError, errorCodeOf, type ErrorCode } from '../protocol/error-codes.ts';
import type { ImapAccount, JobSnapshot } from '../protocol/common.ts';
import type { Schedule } from '../protocol/account-state.ts';
import type { HealthResponse } from '../protocol/http.ts';
import { connectRelay, pairWithRelay, relayHealth, type FetchLike, type ParamsInput, type RelayConnection, type WebSocketLike } from '../protocol/relay-client.ts';
import type { ResultOf } from '../protocol/relay-frames.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { getSetting, setSetting, type RelayState } from '../storage/settings.ts';
import { expireDownloadLinks } from './expire-links.ts';
import { readPairing, relayBaseUrl, relaySocketUrl, writePairing, type LocalStore, type Pairing } from './pairing-store.ts';
import { askNativeHost, type NativeHostPorts } from './native-host-link.ts';
import { applyRelayEventWithOutcome, driveRuns } from './relay-runs.ts';
import { mirrorAccount, mirrorAccountRemoved, mirrorState, updateRun } from './mirror.ts';
import { syncHistories } from './history-sync.ts';
import { AccountRow } from '../storage/rows.ts';
import { planRestore, type PlanTarget, type RestorePlan } from './restore-plan.ts';
import { clearLegacyAlarms, type AlarmsLike } from './legacy-alarms.ts';

export interface CoordinatorDeps {
  db: MailkeepDb;
  storage: LocalStore;
  alarms: AlarmsLike;
  openSocket: (url: string) => WebSocketLike;
  fetch: FetchLike;
  client: { name: string; version: string };
  now?: () => number;
  /** The zone prompts name days in ("since Tuesday 14:02"); the browser's by default. */
  timeZone?: () => string;
  /** chrome.runtime.connectNative; absent where the browser has no native messaging (then code pairing only). */
  nativeHost?: NativeHostPorts;
  /** Timers are injectable so unit tests never wait on a real reconnect delay. */
  setTimer?: (fn: () => void, ms: number) => void;
}

export interface RelayDiagnostics {
  health: HealthResponse | null;
  healthError: string | null;
  jobs: JobSnapshot[];
}

export interface Coordinator {
  /** Reconnect if needed, reconcile with the relay, start queued runs, re-arm alarms. Serialized. */
  pump(): Promise<void>;
  pair(port: number, code: string): Promise<{ relayVersion: string }>;
  /** Settings, schedule and (when typed) the password go to the relay; its answer is mirrored. */
  upsertAccount(account: AccountToSave, password: string | undefined): Promise<ResultOf<'account.upsert'>>;
  /** account.delete on the relay, then the mirror forgets the account. Needs the relay. */
  deleteAccount(accountId: string): Promise<void>;
  /**
   * "Back up now" / "Retry now" of a backup: a run the relay starts at once, under a fresh key
   * (created), or the one it already runs for the account, which the pages may not have heard of
   * yet (its schedule, the check after a restore: the relay's ARCHIVE_LOCKED names it).
   */
  backupNow(accountId: string): Promise<{ job: JobSnapshot; created: boolean }>;
  /** When the relay runs the account's backup by itself; the answer is mirrored. */
  setSchedule(accountId: string, schedule: Schedule): Promise<void>;
  /** Stops a relay job (any kind) that is queued or running, or calls off the retry it waits for. */
  cancelJob(relayJobId: string): Promise<void>;
  /** "Retry now" of any kind: job.retry; the relay applies lib/status's machine and reports. */
  retryJob(relayJobId: string): Promise<JobSnapshot>;
  /** A login with typed settings (and password), or, given an id, the stored account as the relay signs it in (an OAuth2 account's token). */
  testAccount(account: ImapAccount | { accountId: string }, password: string | undefined): Promise<ResultOf<'account.test'>>;
  diagnostics(): Promise<RelayDiagnostics>;
  /** oauth.start on the relay: the authorization URL to open in a tab (the relay keeps PKCE and tokens). */
  startOAuth(params: ParamsInput<'oauth.start'>): Promise<ResultOf<'oauth.start'>>;
  /** oauth.status: pending, completed (the account is mirrored first) or failed with its code. */
  oauthStatus(flowId: string): Promise<ResultOf<'oauth.status'>>;
  /** The dry run of a restore (a prompt's one-click set, or one being set up): the counts its confirmation shows. */
  planRestore(target: PlanTarget): Promise<RestorePlan>;
  /** The Archive page's read-only archive.* requests, answered by the relay within their deadline. */
  archive?(call: ArchiveCall): Promise<unknown>;
}

/** An account as the options form saves it: settings, names and schedule (never a password). */
export type AccountToSave = Pick<AccountRow, 'id' | 'host' | 'port' | 'security' | 'username' | 'displayName' | 'email' | 'schedule' | 'resumeSchedule'>;

export function imapAccountOf(a: Pick<AccountRow, 'id' | 'host' | 'port' | 'security' | 'username'> & Partial<Pick<AccountRow, 'displayName' | 'email'>>): ImapAccount {
  // The names go to the relay too: it owns the account, so the CLI and other browsers show them.
  return { id: a.id, host: a.host, port: a.port, security: a.security, user: a.username, ...(a.displayName ? { name: a.displayName } : {}), ...(a.email ? { email: a.email } : {}) };
}

/**
 * The service worker's link to the relay. It holds exactly one thing in memory: the open socket
 * (a live handle, not state). Pairing is in storage.local, runs and their keys in Dexie, alarms in
 * the browser; so a worker Chromium stopped and started again resumes from the stores alone.
 */
export function createCoordinator(deps: CoordinatorDeps): Coordinator {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const timeZone = deps.timeZone ?? localTimeZone;
  const setTimer = deps.setTimer ?? ((fn, ms) => void setTimeout(fn, ms));
  let conn: RelayConnection | null = null;
  let reconnectsLeft: number = EXTENSION_LIMITS.relayReconnectAttempts;
  // Events and passes share one chain, so an event is never applied in the middle of a pass.
  let tail: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };

  /**
   * Records what the worker knows of the relay. A connected state is the moment the mirror is in
   * sync (`syncedAt`, the "as of" of every status the pages show once the link drops); any other
   * state keeps the last one.
   */
  const setState = async (state: RelayState['state'], extra: Partial<RelayState> = {}): Promise<void> => {
    const before = await getSetting(db, 'relayState');
    const at = now();
    await setSetting(db, 'relayState', {
      state,
      at,
      relayVersion: null,
      errorCode: null,
      syncedAt: state === 'connected' ? at : (before.syncedAt ?? null),
      via: before.via ?? null,
      nativeHost: before.nativeHost ?? null,
      ...extra,
    });
  };

  /**
   * While this worker lives and the relay is not linked, look again every relayReconnectDelayMs (at
   * most relayReconnectAttempts times in a row; the periodic alarm takes over after that): a relay
   * restarted by its service, or started again by the native host, is picked up within seconds.
   */
  let retryArmed = false;
  const lookAgainSoon = (): void => {
    if (retryArmed || reconnectsLeft <= 0) return;
    reconnectsLeft -= 1;
    retryArmed = true;
    setTimer(() => {
      retryArmed = false;
      void pump().catch(() => undefined);
    }, EXTENSION_LIMITS.relayReconnectDelayMs);
  };

  let connecting: Promise<RelayConnection | null> | null = null;
  /**
   * The open connection, or null with the reason recorded in the relayState setting. Concurrent
   * callers (a pass and a Save) share one attempt: two sockets would deliver every event twice.
   */
  const connection = (): Promise<RelayConnection | null> => {
    if (conn) return Promise.resolve(conn);
    connecting ??= open().finally(() => (connecting = null));
    return connecting;
  };

  /**
   * Asks the native-messaging host to locate (or start) the relay and, when this browser holds no
   * token yet (or the relay refused it), for a one-time code it exchanges at POST /pair exactly as
   * if the user had typed it. Records what the host did, so the options page can offer code
   * pairing when there is none. Returns the pairing to use, or null.
   */
  const viaNativeHost = async (held: Pairing | null, needToken: boolean): Promise<Pairing | null> => {
    if (!deps.nativeHost) return held;
    const answer = await askNativeHost(deps.nativeHost, needToken);
    if (!answer.ok) {
      await setSetting(db, 'relayState', { ...(await getSetting(db, 'relayState')), nativeHost: answer.outcome });
      return held;
    }
    await setSetting(db, 'relayState', { ...(await getSetting(db, 'relayState')), nativeHost: 'ok' });
    const { port, pairing } = answer.reply;
    if (pairing) {
      const { token } = await pairWithRelay(relayBaseUrl(port), pairing.code, deps.client, deps.fetch);
      const next: Pairing = { port, token, pairedAt: now(), via: 'native' };
      await writePairing(deps.storage, next);
      return next;
    }
    if (held && held.port !== port) {
      // The relay came back on another port: same token, new address.
      const next: Pairing = { ...held, port };
      await writePairing(deps.storage, next);
      return next;
    }
    return held;
  };

  /** The relay's health at the held pairing, asking the native host (which may start it) when it does not answer. */
  const locate = async (): Promise<{ pairing: Pairing; health: HealthResponse } | { problem: ErrorCode }> => {
    let pairing = await readPairing(deps.storage);
    if (pairing) {
      try {
        return { pairing, health: await relayHealth(relayBaseUrl(pairing.port), deps.fetch) };
      } catch (err) {
        if (!deps.nativeHost) return { problem: errorCodeOf(err) };
      }
    }
    try {
      pairing = await viaNativeHost(pairing, pairing === null);
    } catch (err) {
      return { problem: errorCodeOf(err) };
    }
    if (!pairing) return { problem: 'RELAY_UNPAIRED' };
    try {
      return { pairing, health: await relayHealth(relayBaseUrl(pairing.port), deps.fetch) };
    } catch (err) {
      return { problem: errorCodeOf(err) };
    }
  };

  const open = async (retriedWithNewToken = false): Promise<RelayConnection | null> => {
    const located = await locate();
    if ('problem' in located) {
      await setState(located.problem === 'RELAY_UNPAIRED' ? 'unpaired' : 'unreachable', { errorCode: located.problem });
      // Not paired and no host: only the user can change that (a code in the options page).
      if (located.problem !== 'RELAY_UNPAIRED') lookAgainSoon();
      return null;
    }
    const { pairing, health } = located;
    try {
      const opened = await connectRelay({
        url: relaySocketUrl(pairing.port),
        token: pairing.token,
        client: deps.client,
        openSocket: deps.openSocket,
        onEvent: (event) =>
          void inOrder(async () => {
            // Every job the user started is a row; an event no row follows (a page's preview, a
            // run already settled) changes nothing.
            await applyRelayEventWithOutcome(db, conn, event, now());
            if (event.event === 'status') await updateRun(db, event);
            // A finished backup may have found deletions: a pass asks for its restore prompts now
            // (queued behind this event on the same chain), not at the next periodic check.
            if (event.event === 'status' && event.phase === 'finished' && event.kind === 'backup') void pump().catch(() => undefined);
          }).catch((err: unknown) => console.error('mailkeep: relay event not applied', errorCodeOf(err))),
        onAccountEvent: (event) =>
          void inOrder(async () => {
            if (event.event === 'account.removed') return mirrorAccountRemoved(db, event.accountId);
            await mirrorAccount(db, event.account, now());
            if (conn) await syncHistories(db, conn, [event.account], now);
            // A backup that just settled may have found deletions: ask for its restore prompts now.
            if (event.account.status === 'completed' || event.account.status === 'partially_completed') void pump().catch(() => undefined);
          }).catch((err: unknown) => console.error('mailkeep: account event not applied', errorCodeOf(err))),
        // A finished sign-in made or renewed an account (its backup starts on the relay): mirror it
        // now, not at the next periodic check.
        onOAuthEvent: (event) => {
          if (event.event === 'oauth.completed') void pump().catch(() => undefined);
        },
      });
      conn = opened;
      reconnectsLeft = EXTENSION_LIMITS.relayReconnectAttempts;
      heartbeat(opened, health.version);
      void opened.closed.then(async () => {
        if (conn === opened) conn = null;
        // Said at once, not at the next check: every page turns its statuses "last known" now.
        // (Unless a newer link replaced it meanwhile, e.g. after pairing again.)
        await inOrder(() => (conn || connecting ? Promise.resolve() : setState('unreachable', { errorCode: 'RELAY_UNREACHABLE', relayVersion: health.version }))).catch(() => undefined);
        // The relay went away (restart, crash): while this worker lives, look again soon, and
        // reconcile what happened meanwhile through job.list.
        lookAgainSoon();
      });
      await setState('connected', { relayVersion: health.version, via: pairing.via ?? 'pairing' });
      return opened;
    } catch (err) {
      const code = errorCodeOf(err);
      if (code === 'UNAUTHORIZED' && deps.nativeHost && !retriedWithNewToken) {
        // The relay no longer knows our token (data dir replaced, paired elsewhere): the host can
        // hand over a fresh code, so no one has to type one.
        const fresh = await viaNativeHost(null, true).catch(() => null);
        if (fresh) return open(true);
      }
      await setState(code === 'UNAUTHORIZED' || code === 'RATE_LIMITED' ? 'unauthorized' : 'unreachable', { errorCode: code, relayVersion: health.version });
      return null;
    }
  };

  /**
   * While the socket is open, a cheap request every relayHeartbeatMs confirms the relay still
   * answers and refreshes `relayState.at`, which the pages require to be recent before they show
   * anything as current. A relay that stops answering (hung, suspended) is dropped like a closed one.
   */
  const heartbeat = (opened: RelayConnection, relayVersion: string): void => {
    const beat = () => {
      if (conn !== opened) return;
      void opened
        .call('account.list', {}, EXTENSION_LIMITS.relayHeartbeatMs)
        .then(
          () => inOrder(() => (conn === opened ? setState('connected', { relayVersion }) : Promise.resolve())),
          () => opened.close(),
        )
        .catch(() => undefined)
        .finally(() => setTimer(beat, EXTENSION_LIMITS.relayHeartbeatMs));
    };
    setTimer(beat, EXTENSION_LIMITS.relayHeartbeatMs);
  };

  const requireConnection = async (): Promise<RelayConnection> => {
    const c = await connection();
    if (c) return c;
    const pairing = await readPairing(deps.storage);
    throw new MailkeepError(pairing ? 'RELAY_UNREACHABLE' : 'RELAY_UNPAIRED', pairing ? 'the relay is not running' : 'the extension is not paired with the relay');
  };

  /**
   * The whole mirror from state.get: every account the relay has, and the removal of those it
   * deleted meanwhile. Accounts saved in the browser before the relay owned accounts are offered
   * to it (settings and schedule; the password was always the relay's), not dropped.
   */
  const syncMirror = async (c: RelayConnection): Promise<void> => {
    const state = await c.call('state.get', { jobLimit: 100 });
    const sync = await mirrorState(db, state, now());
    for (const row of sync.unknownToRelay) {
      const result = await c.call('account.upsert', { account: imapAccountOf(row), schedule: row.schedule });
      if (result.state) await mirrorAccount(db, result.state, now());
    }
    // What each archive holds and its runs (the dashboard's History), for accounts whose state changed.
    await syncHistories(db, c, state.accounts, now);
  };

  // A pass asked for while another waits its turn on the chain shares that one (it has not begun,
  // so it reads everything the asker wrote): the end of a backup, its account event and a page's
  // click each ask for one, and each pass reads the relay's whole state.
  let waitingPass: Promise<void> | null = null;
  const pump = (): Promise<void> =>
    (waitingPass ??= inOrder(async () => {
      waitingPass = null;
      // Backups run on the relay's schedule, not the browser's: alarms left by an older version go.
      await clearLegacyAlarms(deps.alarms);
      await expireDownloadLinks(db, now());
      const c = await connection();
      if (c) {
        await syncMirror(c);
        const problems = await driveRuns(db, c, now(), timeZone());
        if (problems.length > 0) console.warn('mailkeep: some runs wait for the next pass:', problems.join(', '));
      }
    }));

  return {
    pump,
    async pair(port, code) {
      const { token } = await pairWithRelay(relayBaseUrl(port), code, deps.client, deps.fetch);
      await writePairing(deps.storage, { port, token, pairedAt: now(), via: 'pairing' });
      const old = conn;
      conn = null;
      old?.close();
      const health = await relayHealth(relayBaseUrl(port), deps.fetch);
      void pump().catch(() => undefined);
      return { relayVersion: health.version };
    },
    async upsertAccount(account, password) {
      const c = await requireConnection();
      const result = await c.call('account.upsert', { account: imapAccountOf(account), schedule: account.schedule, ...(password ? { password } : {}) });
      const state = result.state ?? (await c.call('state.get', { jobLimit: 1 })).accounts.find((a) => a.account.id === result.accountId);
      if (state) {
        await inOrder(async () => {
          await mirrorAccount(db, state, now());
          // The names are the browser's own words (the relay keeps only the IMAP login), and so is
          // the schedule "Enable" brings back (the relay keeps only `off` while it is off).
          const row = await db.accounts.get(account.id);
          if (row) await db.accounts.put(AccountRow.parse({ ...row, displayName: account.displayName, email: account.email, resumeSchedule: account.resumeSchedule }));
        });
      }
      return result;
    },
    async deleteAccount(accountId) {
      const c = await requireConnection();
      await c.call('account.delete', { accountId });
      await inOrder(() => mirrorAccountRemoved(db, accountId));
    },
    async backupNow(accountId) {
      const c = await requireConnection();
      const key = `backup-${accountId}-now-${now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
      try {
        return await c.call('job.start', { kind: 'backup', accountId, idempotencyKey: key, params: {} });
      } catch (err) {
        const running = err instanceof MailkeepError && err.code === 'ARCHIVE_LOCKED' ? err.details.jobId : undefined;
        if (typeof running !== 'string') throw err;
        return { job: (await c.call('job.get', { jobId: running })).job, created: false };
      }
    },
    async setSchedule(accountId, schedule) {
      const c = await requireConnection();
      const { account } = await c.call('schedule.set', { accountId, schedule });
      await inOrder(() => mirrorAccount(db, account, now()));
    },
    async cancelJob(relayJobId) {
      const c = await requireConnection();
      await c.call('job.cancel', { jobId: relayJobId });
    },
    async retryJob(relayJobId) {
      const c = await requireConnection();
      return (await c.call('job.retry', { jobId: relayJobId })).job;
    },
    async testAccount(account, password) {
      const c = await requireConnection();
      if ('accountId' in account) return c.call('account.test', { accountId: account.accountId });
      return c.call('account.test', { account, ...(password ? { password } : {}) });
    },
    async startOAuth(params) {
      const c = await requireConnection();
      return c.call('oauth.start', params);
    },
    async oauthStatus(flowId) {
      const c = await requireConnection();
      const status = await c.call('oauth.status', { flowId });
      if (status.state === 'completed') await pump().catch(() => undefined);
      return status;
    },
    async planRestore(target) {
      return planRestore(db, await requireConnection(), target);
    },
    async archive(call) {
      const c = await requireConnection();
      return c.call(call.method, call.params as never, ARCHIVE_BROWSE_LIMITS.pageDeadlineMs);
    },
    async diagnostics() {
      const pairing = await readPairing(deps.storage);
      if (!pairing) return { health: null, healthError: 'RELAY_UNPAIRED', jobs: [] };
      let health: HealthResponse | null = null;
      let healthError: string | null = null;
      try {
        health = await relayHealth(relayBaseUrl(pairing.port), deps.fetch);
      } catch (err) {
        healthError = errorCodeOf(err);
      }
      const c = health ? await connection() : null;
      const jobs = c ? await c.call('job.list', { limit: 20 }).then((r) => r.jobs, () => []) : [];
      return { health, healthError, jobs };
    },
  };
}
