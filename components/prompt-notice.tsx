import { useState } from 'preact/hooks';
import type { RestorePlan } from '@/lib/background/restore-plan';
import type { PromptRow } from '@/lib/storage/rows';
import { errorHint } from '@/lib/status/error-hints';
import { sendMessage } from '@/lib/ui/send-message';
import { restorePlanText } from '@/lib/ui/restore-plan-text';

type Step = { at: 'ask' } | { at: 'planning' } | { at: 'confirm'; plan: RestorePlan } | { at: 'sending' };

/**
 * "37 messages were removed from INBOX since Tuesday 14:02. Restore them?" Restore first asks the
 * relay for a dry run and shows its counts; only Confirm queues the restore of exactly that set.
 * Dismiss hides the prompt for good.
 */
export function PromptNotice({ prompt }: { prompt: PromptRow }) {
  const [step, setStep] = useState<Step>({ at: 'ask' });
  const [problem, setProblem] = useState<string | null>(null);
  const fail = (code: Parameters<typeof errorHint>[0], message: string) => {
    setProblem(errorHint(code) ?? message);
    setStep({ at: 'ask' });
  };
  const plan = async () => {
    setProblem(null);
    setStep({ at: 'planning' });
    const reply = await sendMessage<RestorePlan>({ type: 'plan-restore', promptId: prompt.id });
    if (!reply.ok) return fail(reply.code, reply.message);
    setStep({ at: 'confirm', plan: reply.value });
  };
  const resolve = async (resolution: 'accepted' | 'dismissed') => {
    setStep({ at: 'sending' });
    const reply = await sendMessage({ type: 'resolve-prompt', promptId: prompt.id, resolution });
    if (!reply.ok) fail(reply.code, reply.message);
  };
  return (
    <div class="prompt" data-testid="prompt" data-prompt-id={prompt.id}>
      <div data-testid="prompt-text">{prompt.text}</div>
      {step.at === 'confirm' && (
        <div class="small" data-testid="restore-plan" data-to-append={step.plan.toAppend}>
          {restorePlanText(step.plan)}
        </div>
      )}
      {problem && <div class="error-detail" role="alert" data-testid="prompt-problem">{problem}</div>}
      <div class="actions">
        {step.at === 'confirm' ? (
          <>
            <button class="primary" data-action="confirm-restore" disabled={step.plan.toAppend === 0} onClick={() => void resolve('accepted')}>
              {step.plan.toAppend === 0 ? 'Nothing to restore' : `Restore ${step.plan.toAppend}`}
            </button>
            <button data-action="cancel" onClick={() => setStep({ at: 'ask' })}>Cancel</button>
          </>
        ) : (
          <button class="primary" data-action="restore" disabled={!prompt.restore || step.at !== 'ask'} title={prompt.restore ? undefined : 'This older prompt does not say which messages it meant.'} onClick={() => void plan()}>
            {step.at === 'planning' ? 'Checking…' : 'Restore'}
          </button>
        )}
        <button data-action="dismiss" disabled={step.at === 'sending'} onClick={() => void resolve('dismissed')}>Dismiss</button>
      </div>
    </div>
  );
}
