// No import circles in src/, between files or between folders (the layers): reads every source file's relative
// imports and re-exports (type-only ones too, since a type circle still ties two layers together) and fails
// naming each circle it finds.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const srcDir = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

// `import x from './a.js'`, `import type {...} from`, `export * from`, `import './a.js'`, `await import('./a.js')`.
const importPattern = /(?:^|[\s;])(?:import|export)\s+(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** The src-relative files each src file imports (relative specifiers only; packages are outside the graph). */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files.map((f) => relative(srcDir, f)));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const from = relative(srcDir, file);
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const targets = new Set<string>();
    for (const m of text.matchAll(importPattern)) {
      const spec = m[1] ?? m[2];
      const target = relative(srcDir, resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      if (known.has(target)) targets.add(target);
    }
    graph.set(from, [...targets].sort());
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself): the import circles. */
function importComponents(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm, iterative so that deep chains cannot overflow the stack.
  const index = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: [string, number][] = [[start, 0]];
    index.set(start, next); low.set(start, next); next++; stack.push(start); onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1];
      const [v, i] = top;
      const edges = graph.get(v) ?? [];
      if (i < edges.length) {
        top[1]++;
        const w = edges[i];
        if (!index.has(w)) {
          index.set(w, next); low.set(w, next); next++; stack.push(w); onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) { const u = work[work.length - 1][0]; low.set(u, Math.min(low.get(u)!, low.get(v)!)); }
      if (low.get(v) === index.get(v)) {
        const comp: string[] = [];
        let w: string;
        do { w = stack.pop()!; onStack.delete(w); comp.push(w); } while (w !== v);
        if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(comp.sort());
      }
    }
  }
  return components;
}

/** One cycle through each import circle. */
function importCycles(graph: Map<string, string[]>): string[][] {
  return importComponents(graph).map((comp) => shortestCycle(graph, new Set(comp)));
}

/** The shortest cycle through the component's first file, staying inside the component. */
function shortestCycle(graph: Map<string, string[]>, comp: Set<string>): string[] {
  const start = [...comp][0];
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!comp.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(parent.get(path[0])!);
        return [...path, start];
      }
      if (!parent.has(w)) { parent.set(w, v); queue.push(w); }
    }
  }
  throw new Error(`no cycle through ${start}`);
}

const s = suite('layers');

s('the cycle finder finds a cycle and names it', () => {
  const g = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts', 'd.ts']], ['d.ts', []], ['e.ts', ['e.ts']]]);
  assert.equal(importCycles(g), [['a.ts', 'b.ts', 'c.ts', 'a.ts'], ['e.ts', 'e.ts']]);
  assert.equal(importCycles(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), []);
});

s('the import parser sees imports, type imports, re-exports and dynamic imports', () => {
  const graph = importGraph(sourceFiles(srcDir));
  assert.ok((graph.get('core.ts') ?? []).includes('tensor.ts'), 'core.ts re-exports tensor.ts');
  assert.ok(graph.size > 50, `${graph.size} source files`);
});

s('no import circles in src/', () => {
  const graph = importGraph(sourceFiles(srcDir));
  const circles = importComponents(graph);
  const described = circles.map((comp) => `${shortestCycle(graph, new Set(comp)).join(' -> ')}  (${comp.length} files in this circle: ${comp.join(', ')})`);
  assert.ok(circles.length === 0, `${circles.length} import circle(s) in src/:\n  ${described.join('\n  ')}`);
});

s('backward works from the ops and the engine alone (nothing is wired at load time by core.ts)', () => {
  // A fresh process, so that nothing this test process imported (core.ts, the methods) is loaded.
  const url = (f: string) => pathToFileURL(join(root, 'dist/src', f)).href;
  const script = `
    const { fromArray } = await import('${url('ops/creation.js')}');
    const { mul, exp } = await import('${url('ops/elementwise.js')}');
    const { sum } = await import('${url('ops/reduce.js')}');
    const { backward } = await import('${url('autograd.js')}');
    const x = fromArray([1, 2], [2], { backend: 'reference' });
    x.requiresGrad = true;
    backward(sum(mul(exp(x), x)));
    console.log(JSON.stringify(Array.from(x.grad.dataSync())));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const grad = JSON.parse(out) as number[];
  // d/dx x e^x = (x + 1) e^x
  [1, 2].forEach((x, i) => assert.ok(Math.abs(grad[i] - (x + 1) * Math.exp(x)) < 1e-4, `grad ${grad[i]} at ${x}`));
});

// The layers are src's folders (ops, sparse, nn, graph, ...; a file directly in src is a layer of its own): a
// folder must not import, through any of its files, a folder that imports it back.
function folderGraph(graph: Map<string, string[]>): Map<string, string[]> {
  const folderOf = (file: string) => file.split('/')[0].replace(/\.ts$/, '') + (file.includes('/') ? '/' : '.ts');
  const folders = new Map<string, Set<string>>();
  for (const [from, targets] of graph) {
    const f = folderOf(from);
    if (!folders.has(f)) folders.set(f, new Set());
    for (const t of targets) if (folderOf(t) !== f) folders.get(f)!.add(folderOf(t));
  }
  return new Map([...folders].map(([f, ts]) => [f, [...ts].sort()]));
}

s('no import circles between the folders of src/', () => {
  const graph = folderGraph(importGraph(sourceFiles(srcDir)));
  const circles = importComponents(graph);
  const described = circles.map((comp) => `${shortestCycle(graph, new Set(comp)).join(' -> ')}  (${comp.length} layers in this circle: ${comp.join(', ')})`);
  assert.ok(circles.length === 0, `${circles.length} import circle(s) between folders of src/:\n  ${described.join('\n  ')}`);
});

s.run();
