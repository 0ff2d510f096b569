import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers of lib/ and relay/ import each other one way only: a cycle (even through a type-only
 * or a lazy `import()`) means two folders cannot be understood, tested or moved apart. A layer is
 * a folder two levels deep (lib/protocol, relay/server; relay/jobs/backup counts as relay/jobs).
 */
const root = path.resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(rel);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

/** Static imports, re-exports (`export ... from`) and `import('...')`, relative ones only. */
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|^\s*import\s*['"](\.[^'"]+)['"]/gm;

function importsOf(file: string): string[] {
  // Comments go first: a usage example in a doc comment ("import { runBackup } from ...") is not an import.
  const text = readFileSync(path.join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec) out.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)));
  }
  return out;
}

function importGraph(): Map<string, Set<string>> {
  const files = [...sourceFiles('lib'), ...sourceFiles('relay')];
  const known = new Set(files);
  const graph = new Map<string, Set<string>>();
  for (const f of files) graph.set(f, new Set(importsOf(f).filter((t) => known.has(t))));
  return graph;
}

const layerOf = (file: string) => file.split('/').slice(0, 2).join('/').replace(/\.tsx?$/, '');

/** Strongly connected components with more than one node (Tarjan), each as a sorted list. */
function cyclesOf(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

function layerGraph(files: Map<string, Set<string>>): Map<string, Set<string>> {
  const layers = new Map<string, Set<string>>();
  for (const [f, targets] of files) {
    const from = layerOf(f);
    const set = layers.get(from) ?? new Set<string>();
    layers.set(from, set);
    for (const t of targets) if (layerOf(t) !== from) set.add(layerOf(t));
  }
  return layers;
}

/**
 * Cycles older than this test, still to be removed. Listed so that a NEW cycle (or a known one
 * growing) fails now; when one of these goes away the test fails too, until its line is deleted.
 */
const KNOWN_FILE_CYCLES = [
  ['lib/background/relay-runs.ts', 'lib/background/restore-prompts.ts'],
];
const KNOWN_LAYER_CYCLES = [
  ['relay/archive', 'relay/lock'],
  ['relay/export', 'relay/imap', 'relay/jobs'],
  // relay/secrets left it when atomic-file.ts moved down to relay/fs.
  ['relay/server', 'relay/service', 'relay/state'],
];

/** Layers that import one way only: the first may import the second, never the reverse. */
const ONE_WAY: [upper: string, lower: string][] = [
  ['lib/status', 'lib/protocol'],
  ['lib/ui', 'lib/background'],
  ['relay/cli', 'relay/server'],
];

describe('import cycles in lib/ and relay/', () => {
  const graph = importGraph();
  const layers = layerGraph(graph);

  it('finds the imports it is meant to check, so an empty result means something', () => {
    expect(graph.get('lib/protocol/client-frames.ts')).toContain('lib/protocol/common.ts');
    expect(graph.get('relay/server/relay-command.ts')?.size).toBeGreaterThan(0);
    // A usage example in a doc comment is not an import (relay/jobs/backup/types.ts shows one).
    expect([...(graph.get('relay/jobs/backup/types.ts') ?? [])].some((t) => t.includes('run-backup'))).toBe(false);
  });

  it.each(ONE_WAY)('%s may import %s, never the reverse, not even through other folders', (upper, lower) => {
    expect(cyclesOf(layers).filter((c) => c.includes(upper) && c.includes(lower))).toEqual([]);
  });

  it('no module imports itself back through other modules, beyond the known ones still to remove', () => {
    expect(cyclesOf(graph)).toEqual(KNOWN_FILE_CYCLES);
  });

  it('no folder imports a folder that imports it back, beyond the known ones still to remove', () => {
    expect(cyclesOf(layers)).toEqual(KNOWN_LAYER_CYCLES);
  });

  it('the cycle finder reports a cycle of two and leaves a one-way chain alone', () => {
    const g = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['a', 'c'])],
      ['c', new Set<string>()],
    ]);
    expect(cyclesOf(g)).toEqual([['a', 'b']]);
  });
});
