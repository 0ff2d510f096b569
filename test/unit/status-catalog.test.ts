import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { CATALOG, JOB_KINDS, statusInfo, statusesOf } from '@/lib/status/catalog';
import type { StatusInfo } from '@/lib/status/status-info';
import { REPORT_PROBLEM_URL } from '@/lib/status/report-problem';
import { parseStatusSpec, SPEC_PATH } from './helpers/parse-status-spec';
import { displayedCondition, SPEC_CONDITIONS } from '@/lib/status/spec-conditions';

const spec = parseStatusSpec();
const entries = (kind: keyof typeof CATALOG): StatusInfo[] => Object.values(CATALOG[kind]) as StatusInfo[];
/** "In Progress / Running" answers to "In Progress / Running" and to "Running". */
const byName = (kind: keyof typeof CATALOG, name: string) =>
  entries(kind).find((s) => s.label === name || s.label.split(' / ').includes(name));

describe('the status catalog against the specification', () => {
  it('parses the repository copy of the specification, identical to the shared one when that is present', () => {
    const shared = path.resolve(SPEC_PATH, '../../../shared/spec/status-dashboard.txt');
    let sharedText: string | null = null;
    try {
      sharedText = readFileSync(shared, 'utf8');
    } catch {
      // A fresh clone has no ../shared: the repository copy is then the specification.
    }
    if (sharedText !== null) expect(readFileSync(SPEC_PATH, 'utf8')).toBe(sharedText);
    expect(spec.tables.backup).toHaveLength(7);
    expect(spec.tables.download).toHaveLength(7);
    expect(spec.tables.restore).toHaveLength(9);
    expect(spec.tables.migrate).toHaveLength(9);
  });

  for (const kind of JOB_KINDS) {
    it(`has every ${kind} status of the specification with its exact name, its condition (grammar corrected) and a hint`, () => {
      for (const row of spec.tables[kind]) {
        const info = entries(kind).find((s) => s.label === row.name);
        expect(info, `${kind} "${row.name}" missing from the catalog`).toBeDefined();
        expect(SPEC_CONDITIONS[kind][info?.id ?? '']?.spec).toBe(row.condition);
        expect(info?.condition).toBe(displayedCondition(kind, info?.id ?? ''));
        expect(info?.condition.trim()).not.toBe('');
        expect(info?.hint.trim()).not.toBe('');
      }
    });
  }

  it('has no status the specification does not name', () => {
    const overviewNames = spec.backupOverview.map((o) => o.name);
    for (const kind of JOB_KINDS) {
      const names = spec.tables[kind].map((r) => r.name);
      for (const info of entries(kind)) {
        const known = names.includes(info.label) || (kind === 'backup' && overviewNames.includes(info.label));
        expect(known, `${kind} "${info.label}" is not in the specification`).toBe(true);
      }
      expect(entries(kind)).toHaveLength(statusesOf(kind).length);
    }
  });

  it('knows every status of the backup overview list, and takes the condition of those missing from the table from it', () => {
    expect(spec.backupOverview.map((o) => o.name)).toEqual([
      'Preparing Backup', 'Running', 'Completed', 'Authentication Error', 'Connection Error', 'Deactivated',
    ]);
    const tableNames = spec.tables.backup.map((r) => r.name);
    for (const item of spec.backupOverview) {
      const info = byName('backup', item.name);
      expect(info, `backup "${item.name}" missing`).toBeDefined();
      if (!tableNames.includes(info?.label ?? '')) expect(SPEC_CONDITIONS.backup[info?.id ?? '']?.spec).toBe(item.lines[0]);
    }
    expect(statusInfo('backup', 'deactivated').condition).toBe('Scheduled backup is disabled but can be enabled later.');
  });

  it('uses the two spellings of the specification: Partially Completed for backup, Partially Complete for restore and migrate', () => {
    expect(statusInfo('backup', 'partially_completed').label).toBe('Partially Completed');
    expect(statusInfo('restore', 'partially_complete').label).toBe('Partially Complete');
    expect(statusInfo('migrate', 'partially_complete').label).toBe('Partially Complete');
    expect(statusInfo('download', 'completed_link').label).toBe('Completed / Link');
  });

  it('keys every entry by its own id and kind', () => {
    for (const kind of JOB_KINDS) {
      for (const id of statusesOf(kind)) {
        expect(statusInfo(kind, id).id).toBe(id);
        expect(statusInfo(kind, id).kind).toBe(kind);
      }
    }
    expect(() => statusInfo('download', 'partially_completed')).toThrow(/not a download status/);
  });
});

describe('hints that are true of this product', () => {
  const all = JOB_KINDS.flatMap(entries);

  it('never promise support the product does not have', () => {
    for (const info of all) expect(info.hint, `${info.kind}/${info.id}`).not.toMatch(/contact our support/i);
  });

  it('offer Copy diagnostics and the report link wherever the specification says contact our support', () => {
    for (const info of all) {
      const saysSupport = /contact our support/i.test(info.condition);
      expect(info.offersDiagnostics, `${info.kind}/${info.id}`).toBe(saysSupport);
      if (saysSupport) expect(info.hint).toMatch(/Copy diagnostics/);
    }
  });

  it('are retried by the product wherever the specification says the status will change within a few hours', () => {
    for (const info of all) {
      const fewHours = /within a few hours/i.test(info.condition);
      expect(info.autoRetry, `${info.kind}/${info.id}`).toBe(fewHours);
      if (fewHours) expect(info.hint).toMatch(/tries again by itself within a few hours/);
    }
  });

  it('offer the Edit action on every Authentication Error and Enable on Deactivated', () => {
    for (const kind of ['backup', 'restore', 'migrate'] as const) expect(statusInfo(kind, 'authentication_error').action).toBe('edit');
    expect(statusInfo('backup', 'deactivated').action).toBe('enable');
    expect(statusInfo('download', 'completed_link').action).toBe('download');
  });

  it('keep the report URL in exactly one source file', () => {
    const hits: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (/\.(ts|tsx)$/.test(name) && readFileSync(full, 'utf8').includes(REPORT_PROBLEM_URL)) hits.push(full);
      }
    };
    const root = path.resolve(__dirname, '../..');
    for (const dir of ['lib', 'components', 'entrypoints']) walk(path.join(root, dir));
    expect(hits.map((h) => path.relative(root, h))).toEqual(['lib/status/report-problem.ts']);
  });
});
