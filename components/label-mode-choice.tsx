import type { RestorePlan } from '@/lib/background/restore-plan';
import type { LabelMode } from '@/lib/protocol/restore-params';
import { labelChoiceMatters } from '@/lib/ui/restore-plan-text';

/**
 * Where a message kept in several folders (Gmail labels) goes in a server without labels: a copy
 * in each folder (the default) or its first label's folder only. Shown beside a dry run only where
 * the choice changes something; a change asks for the dry run again (its counts change), while
 * the choice stays where it is (disabled meanwhile), so keyboard focus is not lost.
 */
export function LabelModeChoice({ plan, busy = false, onChange }: { plan: RestorePlan; busy?: boolean; onChange: (mode: LabelMode) => void }) {
  if (!labelChoiceMatters(plan)) return null;
  return (
    <label data-testid="label-mode">
      Messages in several folders (as Gmail labels are){' '}
      <select data-testid="label-mode-select" value={plan.labelMode ?? 'folder-per-label'} disabled={busy} onChange={(e) => onChange(e.currentTarget.value as LabelMode)}>
        <option value="folder-per-label">a copy in each folder</option>
        <option value="first-label">only in its first label's folder</option>
      </select>
    </label>
  );
}
