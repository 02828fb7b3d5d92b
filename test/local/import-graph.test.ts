/**
 * The local pipeline's modules import each other without a cycle (issue 14: control.ts and
 * pipeline.ts used to import each other). Type-only imports count: they still tie the modules together.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LOCAL_DIR = fileURLToPath(new URL('../../lib/local', import.meta.url));

/** Relative imports of every module in lib/local, to modules in lib/local. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of readdirSync(LOCAL_DIR).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(LOCAL_DIR, file), 'utf8');
    const targets = [...source.matchAll(/^(?:import|export)\b[^;]*?from\s+'(\.[^']+)'/gms)]
      .map((match) => relative(LOCAL_DIR, resolve(dirname(join(LOCAL_DIR, file)), `${match[1]}.ts`)))
      .filter((target) => !target.startsWith('..'));
    graph.set(file, targets);
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const visit = (node: string, path: string[]): void => {
    const at = path.indexOf(node);
    if (at >= 0) {
      found.push([...path.slice(at), node]);
      return;
    }
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
  };
  for (const node of graph.keys()) visit(node, []);
  return found;
}

describe('lib/local import graph', () => {
  it('control.ts does not import pipeline.ts', () => {
    expect(importGraph().get('control.ts')).not.toContain('pipeline.ts');
  });

  it('has no import cycle', () => {
    expect(cycles(importGraph()).map((cycle) => cycle.join(' → '))).toEqual([]);
  });
});
