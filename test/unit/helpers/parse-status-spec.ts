import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { JobKind } from '@/lib/protocol/status-ids';

export interface SpecRow {
  name: string;
  condition: string;
}
export interface ParsedSpec {
  /** "System Status > Kind" tables: Status Name | Condition. */
  tables: Record<JobKind, SpecRow[]>;
  /** The "Dashboard Backup Status" list before the tables: a status name, then its description lines. */
  backupOverview: { name: string; lines: string[] }[];
}

const KIND_OF: Record<string, JobKind> = { Backup: 'backup', Download: 'download', Restore: 'restore', Migrate: 'migrate' };
// A status name in the overview list is a short run of Capitalised Words, optionally ending in ':'.
const OVERVIEW_NAME = /^([A-Z][a-z]+(?: [A-Z][a-z]+){0,2}):?$/;

export const SPEC_PATH = path.resolve(__dirname, '../../../docs/status-spec.txt');

export function parseStatusSpec(text: string = readFileSync(SPEC_PATH, 'utf8')): ParsedSpec {
  const tables: Record<JobKind, SpecRow[]> = { backup: [], download: [], restore: [], migrate: [] };
  const backupOverview: ParsedSpec['backupOverview'] = [];
  let kind: JobKind | null = null;
  let inOverview = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (line === 'Dashboard Backup Status') {
      inOverview = true;
      continue;
    }
    const section = /^System Status > (\w+)$/.exec(line);
    if (section) {
      inOverview = false;
      kind = KIND_OF[section[1] ?? ''] ?? null;
      if (!kind) throw new Error(`unknown section ${line}`);
      continue;
    }
    if (inOverview) {
      const item = line.replace(/^- /, '');
      const name = OVERVIEW_NAME.exec(item);
      if (name?.[1]) backupOverview.push({ name: name[1], lines: [] });
      else backupOverview.at(-1)?.lines.push(item);
      continue;
    }
    if (!kind || /^Status Name \|/.test(line)) continue;
    const bar = line.indexOf(' | ');
    if (bar < 0) throw new Error(`unparsable table row: ${line}`);
    tables[kind].push({ name: line.slice(0, bar).trim(), condition: line.slice(bar + 3).replace(/\s*\|\s*$/, '').trim() });
  }
  return { tables, backupOverview };
}
