import { statusInfo } from '../status/catalog.ts';
import type { StatusInfo } from '../status/status-info.ts';
import type { RelayState } from '../storage/settings.ts';
import type { AccountRow, JobRow } from '../storage/rows.ts';
import { START_RELAY_NPM } from '../status/hint-phrases.ts';
import { freshnessOf } from './relay-freshness.ts';

/**
 * The first run in its one right order: connect the relay, add a mailbox, see the first backup.
 * A pure function of what the mirror holds (the relay link, the accounts, their backup jobs), so
 * the Welcome page, the popup's empty state and the dashboard's empty tabs agree, and reopening any
 * of them shows the true current step. Nothing here is shown as current unless the relay said so.
 */
export type StepId = 'relay' | 'mailbox' | 'backup';

/** done: green; current: the one thing to do now; locked: waits for an earlier step;
 * problem: the step needs the user (the first backup failed); waiting: the relay must answer first. */
export type StepState = 'done' | 'current' | 'locked' | 'problem' | 'waiting';

export interface FirstRunStep {
  id: StepId;
  state: StepState;
  title: string;
  /** One or two sentences: what is true now and what to do. */
  text: string;
}

/** What the relay link is, in the words of step 1. */
export type RelayLink = 'checking' | 'connected' | 'host-missing' | 'refused' | 'not-answering';

export interface FirstBackup {
  account: AccountRow;
  job: JobRow | undefined;
  /** The status of the first backup as the relay last reported it, when there is one. */
  info: StatusInfo | null;
  /** Messages in the archive once it is backed up (the relay's count, else the run's), else null. */
  messages: number | null;
}

export interface FirstRun {
  /** The first step not done; 'done' when all three are. */
  current: StepId | 'done';
  steps: readonly [FirstRunStep, FirstRunStep, FirstRunStep];
  relay: RelayLink;
  /** The account step 3 follows (the first one added), or null before there is one. */
  backup: FirstBackup | null;
}

export interface FirstRunInput {
  /** The relay link as the worker recorded it; undefined while not read yet. */
  relay: RelayState | undefined;
  /** The page's clock: a "connected" the worker stopped confirming is not believed. */
  now: number;
  accounts: readonly AccountRow[];
  /** Backup jobs of those accounts (other kinds are ignored). */
  jobs: readonly JobRow[];
}

/** The one command that installs the relay as a user service and registers it with the browsers. */
export const INSTALL_COMMAND = START_RELAY_NPM;
export const INSTALL_WHERE = 'in the Mailkeep folder';

function relayLinkOf(relay: RelayState | undefined, now: number): RelayLink {
  const f = freshnessOf(relay, now);
  if (f.live) return 'connected';
  if (relay === undefined || relay.state === 'unknown') return 'checking';
  if (f.reason === 'unauthorized') return 'refused';
  if (f.nativeHost === 'missing' || f.reason === 'unpaired') return 'host-missing';
  return 'not-answering';
}

const RELAY_TEXT: Record<RelayLink, string> = {
  checking: 'Looking for the relay…',
  connected: 'Connected: the relay answers and keeps your backups running, also with the browser closed.',
  'host-missing': `The relay is not installed for this browser yet. Run ${INSTALL_COMMAND} ${INSTALL_WHERE}: it installs the relay as a service of your user account and registers it with this browser. This step turns green by itself.`,
  refused: 'The relay no longer accepts this browser (it was paired with another install): connect again on the options page.',
  'not-answering': `The relay does not answer. Mailkeep starts it through its host by itself and keeps trying; if this stays, run ${INSTALL_COMMAND} ${INSTALL_WHERE}.`,
};

function successOf(account: AccountRow, job: JobRow | undefined): boolean {
  return (account.relay?.lastSuccessAt ?? null) !== null || (job?.lastSuccessAt ?? null) !== null || job?.status === 'completed';
}

/** The account step 3 follows: the first one that is backed up, else the first one added. */
function firstBackupOf(accounts: readonly AccountRow[], jobs: readonly JobRow[]): FirstBackup | null {
  const backupOf = (a: AccountRow) => jobs.find((j) => j.kind === 'backup' && j.accountId === a.id);
  const ordered = [...accounts].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  const account = ordered.find((a) => successOf(a, backupOf(a))) ?? ordered[0];
  if (!account) return null;
  const job = backupOf(account);
  const done = successOf(account, job);
  const messages = done ? (account.relay?.archive?.messages ?? job?.progress.messagesDone ?? null) : null;
  return { account, job, info: job ? statusInfo('backup', job.status) : null, messages };
}

export function messagesText(n: number): string {
  return `${n} ${n === 1 ? 'message' : 'messages'}`;
}

function backupStep(backup: FirstBackup | null, live: boolean): FirstRunStep {
  const title = 'First backup';
  if (!backup) return { id: 'backup', state: 'locked', title, text: 'Starts by itself as soon as a mailbox is added.' };
  const name = backup.account.email;
  if (backup.messages !== null) {
    return { id: 'backup', state: 'done', title, text: `Your mail is backed up: ${messagesText(backup.messages)} of ${name}. From now on the relay backs it up on its schedule.` };
  }
  if (!live) {
    const last = backup.info ? ` The last known status is "${backup.info.label}".` : '';
    return { id: 'backup', state: 'waiting', title, text: `Shown again when the relay answers: nothing here is current until it does.${last}` };
  }
  if (!backup.info) return { id: 'backup', state: 'current', title, text: `Waiting for the relay to start the first backup of ${name}…` };
  const { info } = backup;
  // Preparing (queued) and running: under way. Everything else needs a look (Retrying included).
  const underWay = info.severity === 'progress' || (info.severity === 'info' && !info.terminal);
  if (underWay) return { id: 'backup', state: 'current', title, text: `The relay is backing up ${name} now (${info.label}).` };
  return { id: 'backup', state: 'problem', title, text: `The first backup of ${name} stopped: ${info.label}. ${info.hint}` };
}

export function firstRunSteps(input: FirstRunInput): FirstRun {
  const relay = relayLinkOf(input.relay, input.now);
  const live = relay === 'connected';
  const backup = firstBackupOf(input.accounts, input.jobs);
  const relayStep: FirstRunStep = { id: 'relay', state: live ? 'done' : 'current', title: 'Connect the relay', text: RELAY_TEXT[relay] };
  const first = input.accounts.length > 0 ? [...input.accounts].sort((a, b) => a.createdAt - b.createdAt)[0] : undefined;
  const mailboxStep: FirstRunStep = first
    ? { id: 'mailbox', state: 'done', title: 'Add a mailbox', text: `${first.email} is added${input.accounts.length > 1 ? `, and ${input.accounts.length - 1} more` : ''}.` }
    : live
      ? { id: 'mailbox', state: 'current', title: 'Add a mailbox', text: 'Sign in with Google or Microsoft, or give the IMAP server of any other mailbox. The password goes to the relay only.' }
      : { id: 'mailbox', state: 'locked', title: 'Add a mailbox', text: 'Available once the relay is connected: the relay keeps the password and runs the backups.' };
  const steps = [relayStep, mailboxStep, backupStep(backup, live)] as const;
  const open = steps.find((s) => s.state !== 'done');
  return { current: open?.id ?? 'done', steps, relay, backup };
}

/** What an empty popup or dashboard tab leads to: the relay first, then a mailbox. */
export type NextAction = 'connect-relay' | 'add-mailbox';

export function nextActionOf(run: FirstRun): NextAction {
  return run.relay === 'connected' ? 'add-mailbox' : 'connect-relay';
}

export { WELCOME_PAGE } from '../background/welcome-on-install.ts';
