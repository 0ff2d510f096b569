import type { PromptRow } from '@/lib/storage/rows';
import { sendMessage } from '@/lib/ui/send-message';

/** An open question to the user, e.g. "12 messages disappeared from INBOX. Restore them?". */
export function PromptNotice({ prompt }: { prompt: PromptRow }) {
  const resolve = (resolution: 'accepted' | 'dismissed') => void sendMessage({ type: 'resolve-prompt', promptId: prompt.id, resolution });
  return (
    <div class="prompt" data-testid="prompt">
      <div>{prompt.text}</div>
      <div class="actions">
        <button class="primary" data-action="restore" onClick={() => resolve('accepted')}>Restore</button>
        <button onClick={() => resolve('dismissed')}>Dismiss</button>
      </div>
    </div>
  );
}
