import type { JobKind } from '../protocol/status-ids.ts';

/** What a status offers the user as its main button. */
export type UserAction = 'edit' | 'retry' | 'enable' | 'download' | 'restore' | 'copy-diagnostics' | 'none';

/** How bad a status is; drives the pill tone in the UI. */
export type Severity = 'ok' | 'info' | 'progress' | 'warning' | 'error';

/** The toolbar badge colour a status contributes (the badge shows the worst over all accounts). */
export type BadgeColour = 'red' | 'amber' | 'green' | 'none';

export interface StatusInfo<S extends string = string> {
  readonly kind: JobKind;
  readonly id: S;
  /** The status name, word for word from the specification. */
  readonly label: string;
  /** The condition of the specification's table for this kind, its grammar corrected (spec-conditions.ts). */
  readonly condition: string;
  /** What the user can do, true of this product (design.md section 2). */
  readonly hint: string;
  readonly severity: Severity;
  readonly badge: BadgeColour;
  /** A terminal status does not move on by itself: only a user action or a new run changes it. */
  readonly terminal: boolean;
  readonly action: UserAction;
  /**
   * The specification says "contact our support" here: the product offers Copy diagnostics and a
   * link to report the problem, next to the main action.
   */
  readonly offersDiagnostics: boolean;
  /** The product retries this status by itself (the specification's "within a few hours"). */
  readonly autoRetry: boolean;
}

export type StatusTable<S extends string> = { readonly [K in S]: StatusInfo<K> };
export type TransitionTable<S extends string> = { readonly [K in S]: readonly S[] };
