import type { AccountRow, RunRow } from '@/lib/storage/rows';
import { statusInfo } from '@/lib/status/catalog';
import { systemClock } from '@/lib/clock';
import { formatAbsolute } from '@/lib/format';
import { StatusPill } from './status-pill';
import { accountLabel } from '@/lib/account-label';

/**
 * The relay's own history of this kind (state.get's jobs, mirrored): every run it made, the
 * scheduled ones that ran while the browser was closed included, as the relay reported them.
 */
export function RunHistory({ runs, accounts }: { runs: RunRow[]; accounts: Map<string, AccountRow> }) {
  if (runs.length === 0) return null;
  const zone = systemClock.timeZone();
  return (
    <section data-testid="run-history">
      <h2>Runs on the relay</h2>
      <table class="status-table">
        <thead>
          <tr>
            <th>Started</th>
            <th>Account</th>
            <th>Status Name</th>
            <th>Messages</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id} data-testid="run-row" data-status={run.status} data-run-id={run.id}>
              <td class="small">{formatAbsolute(run.startedAt, zone)}</td>
              <td>{accounts.has(run.accountId) ? accountLabel(accounts.get(run.accountId)!) : 'Removed account'}</td>
              <td>
                <StatusPill info={statusInfo(run.kind, run.status)} />
              </td>
              <td class="small">{run.messages}</td>
              <td class="small">{run.errorCode ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
