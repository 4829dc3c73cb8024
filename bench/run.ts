// Runs the benchmark cases and prints tessera against its peers; writes the numbers to
// bench/results/<name>.json. Usage (after tsc):
//   node dist/bench/run.js [--kernel <name>[,<name>...]] [--name <results file name>]
// --kernel keeps the cases whose kernel (default: first word of the name) equals a <name> or whose
// name contains it. Both sides use TESSERA_NUM_THREADS threads (default 2).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchCase } from './case.js';

process.env.TESSERA_NUM_THREADS ??= '2';  // before any case loads the addon (its pool reads this once)

// Every case file, explicitly: each exports `cases: BenchCase[]`.
const caseFiles = ['./cases/core.js', './cases/spmm.js', './cases/cmd.js', './cases/conv3d.js', './cases/linear.js', './cases/gcn.js', './cases/mup.js', './cases/webgpu.js', './cases/video.js'];

function arg(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const kernel = arg('--kernel');
const wanted = kernel?.split(',').filter((k) => k.length > 0);
const resultsName = arg('--name') ?? kernel?.replaceAll(',', '-') ?? 'all';
const all: BenchCase[] = [];
for (const f of caseFiles) all.push(...((await import(f)) as { cases: BenchCase[] }).cases);
const kernelOf = (c: BenchCase): string => c.kernel ?? c.name.split(' ')[0];
const selected = all.filter((c) => !wanted || wanted.some((k) => kernelOf(c) === k || c.name.includes(k)));
if (selected.length === 0) {
  console.error(`no bench case matches --kernel ${kernel}; known: ${[...new Set(all.map(kernelOf))].join(', ')}`);
  process.exit(1);
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version, threads: Number(process.env.TESSERA_NUM_THREADS), date: new Date().toISOString(),
};
console.log(`${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; node ${machine.node}; ${machine.threads} threads each side; ${machine.date}`);
console.log('ratio = peer time / tessera time against the fastest peer (> 1: tessera is faster)\n');

const rows: Record<string, unknown>[] = [];
const header = ['case', 'tessera ms', 'GFLOP/s', 'fastest peer', 'peer ms', 'ratio'];
const table: string[][] = [];
for (const c of selected) {
  const r = await c.run();
  const peers = Object.entries(r.peers).sort((a, b) => a[1] - b[1]);
  const [bestName, bestMs] = peers[0] ?? ['(none)', NaN];
  const ratio = bestMs / r.tesseraMs;
  const gflops = c.flops ? c.flops / (r.tesseraMs * 1e6) : NaN;
  const line = [c.name, r.tesseraMs.toFixed(2), Number.isFinite(gflops) ? gflops.toFixed(1) : '',
    bestName, Number.isFinite(bestMs) ? bestMs.toFixed(2) : '', Number.isFinite(ratio) ? ratio.toFixed(2) : ''];
  table.push(line);
  console.log(line.join(' | '));
  for (const [name, ms] of peers.slice(1)) console.log(`    also ${name}: ${ms.toFixed(2)} ms (ratio ${(ms / r.tesseraMs).toFixed(2)})`);
  rows.push({ name: c.name, kernel: kernelOf(c), tesseraMs: r.tesseraMs, peers: r.peers,
    fastestPeer: bestName, ratio, flops: c.flops, check: r.check });
}

console.log(`\n${header.join(' | ')}\n${header.map(() => '---').join(' | ')}`);
for (const line of table) console.log(line.join(' | '));

// Atomically: a reader never sees a half-written file.
const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${resultsName}.json`), tmp = `${file}.${process.pid}.tmp`;
writeFileSync(tmp, JSON.stringify({ machine, cases: rows }, null, 2) + '\n');
renameSync(tmp, file);
console.log(`\nwrote ${file}`);
