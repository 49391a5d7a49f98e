/**
 * The import rules of docs/architecture.md, checked on every source file: no import circles, and imports point
 * down the layers (a folder imports its own files and folders of lower layers only). A new folder must be given
 * a layer here; the test says so.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = normalize(join(import.meta.dirname, '..', '..'));

/** Layer of each part, lowest first. docs/architecture.md draws the same table. */
const LAYERS: Readonly<Record<string, number>> = {
  // vocabulary: contracts, error codes, domain types
  'streams/schemas': 0,
  'src/errors': 0,
  'src/domain': 1,
  // foundations and pure cores
  'src/config': 2,
  'src/log': 2,
  'src/stats': 2,
  'src/report': 2,
  'src/ws-client': 2,
  'src/compression': 2,
  'src/bandit': 3,
  'src/experiments': 3,
  'src/embedded': 3,
  'src/analyze': 3,
  'streams/validate': 3,
  // adapters and parts
  'streams/fold': 4,
  'src/scoring': 4,
  'src/kafka': 4,
  'src/registry': 4,
  'src/state': 4,
  'src/jobs': 4,
  'src/broker': 4,
  'src/shadow': 4,
  'src/decision': 5,
  'src/models': 5,
  'streams/records': 5,
  'streams/metrics': 5,
  'streams/apply': 5,
  'streams/operators': 6,
  'streams/assignment': 7,
  'streams/isolate-failure': 6,
  'src/dashboard': 7,
  // services: one composition root each
  'streams/topology': 8,
  'src/gateway': 8,
  'src/archive': 8,
  'src/cdc': 8,
  // the process and the tools around it
  'src/app': 9,
  'src/train': 9,
  'load-tests': 10,
  simulator: 10,
  'src/cli': 11,
  bench: 11,
  scripts: 11,
};

const SOURCE_ROOTS = ['src', 'streams', 'simulator', 'load-tests', 'bench', 'scripts'];
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/g;
const DYNAMIC = /import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name === 'node_modules' || name === 'page') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|mts|js|mjs)$/.test(name)) out.push(relative(ROOT, path).split(sep).join('/'));
    }
  };
  for (const root of SOURCE_ROOTS) walk(join(ROOT, root));
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(IMPORT), ...text.matchAll(DYNAMIC)].map((m) => m[1]);
  return specs
    .map((spec) =>
      normalize(join(dirname(file), spec))
        .split(sep)
        .join('/'),
    )
    .filter((target) => /\.(ts|mts|js|mjs|json)$/.test(target));
}

/** The part a file belongs to: the longest key of LAYERS that prefixes it. */
function partOf(file: string): string | undefined {
  let best: string | undefined;
  for (const part of Object.keys(LAYERS)) {
    if (
      (file === `${part}.ts` || file.startsWith(`${part}/`)) &&
      (best === undefined || part.length > best.length)
    )
      best = part;
  }
  return best;
}

/** Strongly connected components of more than one file (Tarjan). */
function importCircles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) circles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles;
}

describe('architecture', () => {
  const files = sourceFiles();
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('finds the source files', () => {
    expect(files.length).toBeGreaterThan(200);
    expect(graph.get('streams/topology.ts')?.length).toBeGreaterThan(5);
  });

  it('gives every source folder a layer', () => {
    const unplaced = files.filter((f) => partOf(f) === undefined);
    expect(unplaced, 'add these folders to LAYERS and to docs/architecture.md').toEqual([]);
  });

  it('has no import circles', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  it('imports only from the same part or lower layers', () => {
    const violations: string[] = [];
    for (const [file, targets] of graph) {
      const from = partOf(file);
      if (from === undefined) continue;
      for (const target of targets) {
        const to = partOf(target);
        if (to === undefined || to === from) continue;
        if (LAYERS[to] >= LAYERS[from])
          violations.push(
            `${file} (${from}, layer ${LAYERS[from]}) imports ${target} (${to}, layer ${LAYERS[to]})`,
          );
      }
    }
    expect(violations).toEqual([]);
  });

  it('names no two source files alike across folders unless they play the same role', () => {
    // Same role, same name: a folder's entry, a CLI command named after its command, the error codes of a part
    // named after the part, the network server, client connection and counters of a part, a broker coordinator.
    const sameRole = new Set(['index.ts', 'server.ts', 'connection.ts', 'coordinator.ts', 'metrics.ts']);
    const conventional = (f: string) =>
      f.startsWith('src/cli/commands/') || f.startsWith('src/errors/codes/');
    const byName = new Map<string, string[]>();
    for (const f of files) {
      if (!f.startsWith('src/') && !f.startsWith('streams/')) continue;
      if (f.includes('/apis/') || conventional(f)) continue;
      const name = f.slice(f.lastIndexOf('/') + 1);
      if (sameRole.has(name)) continue;
      byName.set(name, [...(byName.get(name) ?? []), f]);
    }
    const clashes = [...byName.values()].filter((list) => list.length > 1);
    expect(clashes).toEqual([]);
  });
});
