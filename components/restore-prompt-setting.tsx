import { getDb } from '@/lib/storage/db';
import { getSetting } from '@/lib/storage/settings';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { sendMessage } from '@/lib/ui/send-message';

const CHOICES = [
  ['any', 'Whenever messages disappear from a mailbox'],
  ['bulk', 'Only when many messages disappear at once'],
  ['never', 'Never'],
] as const;

/** How eager the "N messages disappeared, restore?" prompt is. */
export function RestorePromptSetting() {
  const value = useLiveQuery(() => getSetting(getDb(), 'restorePrompts'));
  if (value === undefined) return null;
  return (
    <fieldset class="field" data-testid="restore-prompts">
      <legend>Offer to restore deleted mail</legend>
      {CHOICES.map(([id, label]) => (
        <label class="choice">
          <input type="radio" name="restorePrompts" value={id} checked={value === id} onChange={() => void sendMessage({ type: 'set-restore-prompts', value: id })} /> {label}
        </label>
      ))}
    </fieldset>
  );
}
