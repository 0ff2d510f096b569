import { openPage } from '@/lib/ui/page-links';
import { notReachableLine, relayBannerOf } from '@/lib/ui/relay-freshness';
import { getDb } from '@/lib/storage/db';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { useFreshness } from '@/lib/ui/use-freshness';
import { START_RELAY_NODE, START_RELAY_NPM } from '@/lib/status/hint-phrases';
import { useRelayLookup } from '@/lib/ui/use-relay-lookup';

/** The start command as the banner shows it: the same words as START_RELAY_COMMAND, with code marks. */
function StartCommand() {
  return (
    <span data-testid="relay-command">
      run <code>{START_RELAY_NPM}</code> in the Mailkeep folder (or <code>{START_RELAY_NODE}</code>)
    </span>
  );
}

/**
 * The one thing the extension says on its own: "relay not reachable", with the age of what the
 * page shows ("As of 14:02 (3 minutes ago), relay not reachable."). On every page (popup,
 * dashboard, options). Opening a page asks the worker to look again (through the native host
 * first), so the banner goes as soon as the relay answers.
 */
export function RelayLinkBanner({ onOptionsPage = false }: { onOptionsPage?: boolean }) {
  const { freshness, now, timeZone } = useFreshness();
  const accounts = useLiveQuery(() => getDb().accounts.count());
  // While the relay is not confirmed, keep asking: the worker may be asleep, and its own retries
  // stop. A page's first render is never confirmed (the store is not read yet), so this is also
  // the one look that opening a page asks for.
  useRelayLookup(!freshness.live);
  const shape = relayBannerOf(freshness, accounts, onOptionsPage);
  if (freshness.live || shape === 'hidden') return null;
  return (
    <div class="hint tone-error" role="alert" data-testid="relay-unreachable" data-reason={freshness.reason} data-shape={shape}>
      <strong data-testid="relay-unreachable-line">{notReachableLine(freshness, now, timeZone)}</strong>{' '}
      {shape === 'last-known' && <>Every status below is the last one the relay reported; nothing is shown as current until it answers again.{' '}</>}
      {freshness.nativeHost === 'missing' ? (
        <span data-testid="relay-host-missing">
          This browser could not start the Mailkeep host (not installed, or a Flatpak/Snap browser that cannot launch it). To fix it, <StartCommand />, then pair with the
          code it prints, in the options. (The first also installs the host for every browser profile it finds, so a browser able to launch it starts the relay by
          itself.){' '}
          {!onOptionsPage && <button onClick={() => void openPage('/options.html')}>Pair</button>}
        </span>
      ) : freshness.reason === 'unauthorized' ? (
        <span>The relay no longer accepts this browser: connect again in the options.</span>
      ) : (
        <span>Mailkeep starts the relay through its host by itself; it tries again every few seconds.</span>
      )}
    </div>
  );
}
