import { describe, expect, it } from 'vitest';
import { CATALOG, JOB_KINDS, statusInfo } from '@/lib/status/catalog';
import { SPEC_CONDITIONS } from '@/lib/status/spec-conditions';
import type { StatusInfo } from '@/lib/status/status-info';
import { parseStatusSpec } from './helpers/parse-status-spec';

const spec = parseStatusSpec();
const entries = (kind: keyof typeof CATALOG): StatusInfo[] => Object.values(CATALOG[kind]) as StatusInfo[];

/** The specification's broken phrasings; none of them may reach the Condition column. */
const BROKEN = [/\bis error\b/, /\bis errored\b/, /\bis in error\b/, /^has reached limit/, /\bretry has reached limit\b/, /credential is wrong/, /This can be if/, /Unknown Error/, /\bBackup is Running\b/, /Download Link/, /Mail Server/, /to backup emails/];
/** What a sentence promises or asks: the correction must keep every one of them, and add none. */
const MEANING = [/within a few hours/, /contact our support/, /"Edit"/, /contact your email provider/, /Please try again/, /storage is full/, /correct credentials/, /cancelled again/, /queue/];

describe('the Condition column: the specification’s conditions with their grammar corrected', () => {
  for (const kind of JOB_KINDS) {
    it(`has a displayed sentence for every ${kind} condition of the specification, and the status names untouched`, () => {
      for (const row of spec.tables[kind]) {
        const info = entries(kind).find((s) => s.label === row.name);
        expect(info, `${kind} "${row.name}": the status name must stay exactly as in the specification`).toBeDefined();
        const entry = SPEC_CONDITIONS[kind][info?.id ?? ''];
        expect(entry?.spec, `${kind} "${row.name}"`).toBe(row.condition);
        expect(statusInfo(kind, info?.id ?? '').condition).toBe(entry?.displayed);
      }
    });
  }

  it('has no entry the specification does not have, word for word', () => {
    const specTexts = [...JOB_KINDS.flatMap((k) => spec.tables[k].map((r) => r.condition)), ...spec.backupOverview.flatMap((o) => o.lines)];
    for (const kind of JOB_KINDS)
      for (const [id, entry] of Object.entries(SPEC_CONDITIONS[kind])) expect(specTexts, `${kind}/${id}`).toContain(entry.spec);
  });

  it('corrects every broken phrasing of the specification and keeps what each sentence says', () => {
    for (const kind of JOB_KINDS)
      for (const [id, { spec: original, displayed }] of Object.entries(SPEC_CONDITIONS[kind])) {
        for (const broken of BROKEN) expect(displayed, `${kind}/${id}`).not.toMatch(broken);
        for (const phrase of MEANING) expect(phrase.test(displayed), `${kind}/${id} ${phrase}`).toBe(phrase.test(original));
        expect(displayed, `${kind}/${id} starts with a capital and ends with a full stop`).toMatch(/^[A-Z].*\.$/);
      }
  });

  it('spells out the two sentences the issue names', () => {
    expect(statusInfo('restore', 'connection_error').condition).toBe('The connection to the email server failed.');
    expect(statusInfo('download', 'cancelled').condition).toBe(
      'The retries reached their limit, so it was cancelled automatically. Please try again. If it is cancelled again, please contact our support.',
    );
  });
});
