import { EXTENSION_LIMITS } from '../limits.ts';
import { statusInfo } from '../status/catalog.ts';
import type { StatusInfo } from '../status/status-info.ts';
import type { JobKind } from '../protocol/status-ids.ts';
import type { RelayState } from '../storage/settings.ts';
import { formatRelative } from '../format.ts';
import { dateTimeFormat } from '../intl-formats.ts';

/**
 * Whether what the pages show is the relay's current word or only the last one the mirror kept.
 * The extension never invents a status: the only thing it says on its own is "relay not reachable",
 * and while that holds, every status is shown as last known with its age, never as current.
 */
export type Freshness =
  | { live: true; relayVersion: string | null; via: RelayState['via'] }
  | {
      live: false;
      /** When the mirror was last in sync with the relay; null when it never was. */
      asOf: number | null;
      /** unpaired: no native host and no pairing; unauthorized: the relay refuses this browser;
       * unreachable: everything else (not running, hung, worker gone, not checked yet). */
      reason: 'unreachable' | 'unpaired' | 'unauthorized';
      /** The native host's last answer, so the options page can offer code pairing when it is missing. */
      nativeHost: RelayState['nativeHost'];
    };

/**
 * A stored "connected" is believed only while the worker keeps confirming it (every
 * relayHeartbeatMs): after relayStaleAfterMs without a confirmation (browser reopened, worker
 * stopped, relay hung) the link counts as not reachable. Not yet read (undefined) is not live.
 */
export function freshnessOf(relay: RelayState | undefined, now: number): Freshness {
  if (relay?.state === 'connected' && now - relay.at <= EXTENSION_LIMITS.relayStaleAfterMs) {
    return { live: true, relayVersion: relay.relayVersion, via: relay.via ?? null };
  }
  const asOf = relay?.syncedAt ?? (relay?.state === 'connected' ? relay.at : null);
  const reason = relay?.state === 'unpaired' || relay?.state === 'unauthorized' ? relay.state : 'unreachable';
  return { live: false, asOf: asOf && asOf > 0 ? asOf : null, reason, nativeHost: relay?.nativeHost ?? null };
}

/** "14:02" today, "26 Nov, 14:02" on another day (in `timeZone`, never the machine's by accident). */
export function shortTime(at: number, now: number, timeZone: string): string {
  const day = (t: number) => dateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(t);
  const time = dateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
  if (day(at) === day(now)) return time;
  const date = dateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', ...(new Date(at).getUTCFullYear() === new Date(now).getUTCFullYear() ? {} : { year: 'numeric' }) }).format(at);
  return `${date}, ${time}`;
}

/** "as of 14:02 (3 minutes ago)", or "never confirmed" when the mirror was never in sync. */
export function asOfText(asOf: number | null, now: number, timeZone: string): string {
  if (asOf === null) return 'not confirmed by the relay yet';
  return `as of ${shortTime(asOf, now, timeZone)} (${formatRelative(asOf, now)})`;
}

const REASON_TEXT = {
  unreachable: 'relay not reachable',
  unpaired: 'relay not reachable: not connected yet',
  unauthorized: 'relay not reachable: it no longer accepts this browser',
} as const;

/** The one line every page shows while the link is down: "As of 14:02 (3 minutes ago), relay not reachable". */
export function notReachableLine(f: Extract<Freshness, { live: false }>, now: number, timeZone: string): string {
  const when = asOfText(f.asOf, now, timeZone);
  return `${when.charAt(0).toUpperCase()}${when.slice(1)}, ${REASON_TEXT[f.reason]}.`;
}

/**
 * What the relay banner says on a page, so it never contradicts the page below it:
 * - hidden: the link is live, or the page has no mailbox yet (popup, dashboard, archive), where the
 *   first-run empty state already names the one next step (connect the relay); two different
 *   instructions and "every status below" above no status at all would both be false;
 * - connect: the options page with no mailbox: the link line and how to connect, nothing about
 *   statuses (there are none);
 * - last-known: there are statuses, and each is only the last one the relay reported.
 * accounts is undefined while the store is not read yet: nothing is shown until it is.
 */
export type RelayBanner = 'hidden' | 'connect' | 'last-known';

export function relayBannerOf(f: Freshness, accounts: number | undefined, onOptionsPage: boolean): RelayBanner {
  if (f.live || accounts === undefined) return 'hidden';
  if (accounts > 0) return 'last-known';
  return onOptionsPage ? 'connect' : 'hidden';
}

export interface StatusView {
  info: StatusInfo;
  /** The pill's text: the spec's label, word for word, whatever the freshness. */
  label: string;
  /** true only while the relay's word is current. */
  current: boolean;
  /** The mark next to a last-known status ("last known, as of 14:02 (3 minutes ago)"), else null. */
  mark: string | null;
  /** A progress bar says "moving now": only shown while live. */
  showProgress: boolean;
}

/** How one status is shown under the given freshness: the label is the relay's, the mark is ours. */
export function statusView(kind: JobKind, status: string, f: Freshness, now: number, timeZone: string): StatusView {
  const info = statusInfo(kind, status);
  if (f.live) return { info, label: info.label, current: true, mark: null, showProgress: info.severity === 'progress' };
  return { info, label: info.label, current: false, mark: `last known, ${asOfText(f.asOf, now, timeZone)}`, showProgress: false };
}
