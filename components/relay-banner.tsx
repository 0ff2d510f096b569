import { useEffect } from 'preact/hooks';
import { getDb } from '@/lib/storage/db';
import { getSetting } from '@/lib/storage/settings';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { sendMessage } from '@/lib/ui/send-message';
import { openPage } from '@/lib/ui/page-links';
import { START_RELAY_NODE, START_RELAY_NPM } from '@/lib/status/hint-phrases';

/** The start command as the banner shows it: the same words as START_RELAY_COMMAND, with code marks. */
function StartCommand() {
  return (
    <span data-testid="relay-command">
      run <code>{START_RELAY_NPM}</code> in the Mailkeep folder (or <code>{START_RELAY_NODE}</code>)
    </span>
  );
}

/**
 * Says plainly when nothing can be backed up because the relay is not running or not paired.
 * Opening the popup asks the worker to look again, so the banner is never stale.
 */
export function RelayBanner() {
  useEffect(() => void sendMessage({ type: 'relay-check' }), []);
  const relay = useLiveQuery(() => getSetting(getDb(), 'relayState'));
  if (!relay || relay.state === 'connected' || relay.state === 'unknown') return null;
  return (
    <div class="hint tone-error" role="alert" data-testid="relay-banner" data-state={relay.state}>
      {relay.state === 'unreachable' ? (
        <>
          <strong>The Mailkeep relay is not running.</strong> Nothing is backed up until it runs. Start it in a terminal:{' '}
          <StartCommand />
        </>
      ) : (
        <>
          <strong>{relay.state === 'unpaired' ? 'Not paired with the relay yet.' : 'The relay no longer accepts this browser.'}</strong> Start the relay (
          <StartCommand />) and type the code it prints in the options.{' '}
          <button onClick={() => void openPage('/options.html')}>Pair</button>
        </>
      )}
    </div>
  );
}
