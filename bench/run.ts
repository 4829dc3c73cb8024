// Runs the benchmark cases and prints tessera against its peers, with the machine's limits measured
// in the same run; writes the results as JSON. Usage (after tsc):
//   node dist/bench/run.js [--kernel <name>[,<name>...]|all] [--quick] [--json] [--out <file.json>] [--name <name>]
// --kernel keeps the cases whose kernel (default: first word of the name) equals a <name> or whose
// name contains it; `limits` alone measures the machine's limits and runs no case. --quick: tiny
// sizes (checks the harness, not speed). --json: the JSON goes to stdout, the table to stderr.
// --out: the results file (default bench/results/<name>.json under the working directory).
// Both sides use TESSERA_NUM_THREADS threads (default 2).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function arg(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const has = (flag: string) => process.argv.includes(flag);
const known = new Set(['--kernel', '--name', '--out', '--quick', '--json']);
for (const a of process.argv.slice(2)) {
  if (a.startsWith('--') && !known.has(a)) {
    console.error(`bench: unknown option ${a}; known: ${[...known].join(', ')}`);
    process.exit(2);
  }
}

// Before any case loads the addon (its pool reads the thread count once) or reads the size.
process.env.TESSERA_NUM_THREADS ??= '2';
if (has('--quick')) process.env.TESSERA_BENCH_QUICK = '1';
const asJson = has('--json');
// With --json, stdout carries the JSON alone: everything the cases print goes to stderr.
if (asJson) console.log = console.error;

const { benchThreads, peerInfoOf, quick } = await import('./case.js');
type BenchCase = import('./case.js').BenchCase;
const { boundMs, describeLimits, measureLimits } = await import('./limits.js');
const { peerBuilds } = await import('./peers/configure.js');
const { plotScaling } = await import('./scaling_plot.js');

// Every case file, explicitly: each exports `cases: BenchCase[]`.
const caseFiles = ['./cases/core.js', './cases/spmm.js', './cases/cmd.js', './cases/conv3d.js', './cases/linear.js',
  './cases/gcn.js', './cases/steps.js', './cases/mup.js', './cases/video.js', './cases/webgpu.js', './cases/overhead.js',
  './cases/scaling.js', './cases/detect.js', './cases/deepar.js', './cases/lstm.js'];

const kernel = arg('--kernel');
const wanted = kernel === undefined || kernel === 'all' ? undefined : kernel.split(',').filter((k) => k.length > 0);
const resultsName = arg('--name') ?? (wanted ? wanted.join('-') : 'all') + (quick ? '-quick' : '');
const all: BenchCase[] = [];
for (const f of caseFiles) all.push(...((await import(f)) as { cases: BenchCase[] }).cases);
const kernelOf = (c: BenchCase): string => c.kernel ?? c.name.split(' ')[0];
const limitsOnly = wanted?.length === 1 && wanted[0] === 'limits';
// A token names a kernel when some case has it as its kernel; otherwise it matches case names containing it.
const kernels = new Set(all.map(kernelOf));
const matches = (c: BenchCase, k: string) => (kernels.has(k) ? kernelOf(c) === k : c.name.includes(k));
const selected = limitsOnly ? [] : all.filter((c) => !wanted || wanted.some((k) => matches(c, k)));
if (!limitsOnly && selected.length === 0) {
  console.error(`no bench case matches --kernel ${kernel}; known: limits, all, ${[...new Set(all.map(kernelOf))].join(', ')}`);
  process.exit(1);
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
function cpuInfo(field: string): string | undefined {
  try {
    return new RegExp(`^${field}\\s*:\\s*(.*)$`, 'm').exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  } catch { return undefined; }
}
function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
    return `unknown (not a git checkout; tessera ${pkg.version})`;
  }
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown', cpuFamily: cpuInfo('cpu family'), cpuModel: cpuInfo('model'), vendor: cpuInfo('vendor_id'),
  cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, threads: benchThreads,
  openblasEnvironment: { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? null, OPENBLAS_L2_SIZE: process.env.OPENBLAS_L2_SIZE ?? null },
  commit: commit(), date: new Date().toISOString(), quick,
};
console.log(`${machine.cpu} (${machine.vendor} family ${machine.cpuFamily} model ${machine.cpuModel}), ${machine.cores} cores, ` +
  `${machine.memoryGiB} GiB; node ${machine.node}; ${machine.threads} threads each side; commit ${machine.commit}; ${machine.date}` +
  (quick ? '; QUICK sizes: not a measurement' : ''));

const limits = measureLimits(benchThreads, quick);
if (limits) for (const line of describeLimits(limits)) console.log(line);
console.log('\nratio = fastest peer time / tessera time (> 1: tessera is faster); % of limit = roofline bound / tessera time\n');

const rows: Record<string, unknown>[] = [];
const header = ['case', 'tessera ms', 'GFLOP/s', '% of limit', 'fastest peer', 'peer ms', 'ratio', 'peer build'];
const table: string[][] = [];
const started = performance.now();
for (const c of selected) {
  const t0 = performance.now();
  const r = await c.run();
  const peers = Object.entries(r.peers).filter(([, ms]) => Number.isFinite(ms)).sort((a, b) => a[1] - b[1]);
  const [bestName, bestMs] = peers[0] ?? ['(none)', NaN];
  const ratio = bestMs / r.tesseraMs;
  const gflops = c.flops ? c.flops / (r.tesseraMs * 1e6) : NaN;
  const bound = boundMs(limits, c.flops, c.bytes);
  const percentOfLimit = (100 * bound) / r.tesseraMs;
  const num = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '');
  const ms = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toPrecision(3)) : '');
  const line = [c.name, ms(r.tesseraMs), num(gflops, 1), num(percentOfLimit, 0), bestName, ms(bestMs), num(ratio, 2),
    peerInfoOf(bestName)?.summary ?? ''];
  table.push(line);
  console.log(line.join(' | '));
  for (const [name, t] of peers.slice(1)) console.log(`    also ${name}: ${ms(t)} ms (ratio ${(t / r.tesseraMs).toFixed(2)}) ${peerInfoOf(name)?.summary ?? ''}`);
  rows.push({
    name: c.name, kernel: kernelOf(c), tesseraMs: r.tesseraMs, peers: r.peers, fastestPeer: bestName, ratio,
    flops: c.flops, bytes: c.bytes, boundMs: bound, percentOfLimit, check: r.check, memory: r.memory, scaling: c.scaling,
    peerBuilds: Object.fromEntries(Object.keys(r.peers).map((p) => [p, peerInfoOf(p)?.summary ?? null])),
    caseSeconds: (performance.now() - t0) / 1000,
  });
}
const totalSeconds = (performance.now() - started) / 1000;

if (table.length) {
  console.log(`\n${header.join(' | ')}\n${header.map(() => '---').join(' | ')}`);
  for (const line of table) console.log(line.join(' | '));
}

// Peers' versions and configurations: one entry per label that appeared.
const peerLabels = [...new Set(rows.flatMap((r) => Object.keys(r.peers as object)))];
const peers = Object.fromEntries(peerLabels.map((p) => [p, peerInfoOf(p) ?? null]));
const results = { machine, limits, pythonPeerBuilds: peerBuilds(), peers, totalSeconds, cases: rows };

// Never inside the installed package: relative to where the command was run.
const file = resolve(arg('--out') ?? join('bench', 'results', `${resultsName}.json`));
mkdirSync(dirname(file), { recursive: true });
const text = JSON.stringify(results, null, 2) + '\n';
const tmp = `${file}.${process.pid}.tmp`;  // atomically: a reader never sees a half-written file
writeFileSync(tmp, text);
renameSync(tmp, file);
for (const svg of plotScaling(rows, file)) console.log(`wrote ${svg}`);
console.log(`\nwrote ${file} (cases took ${totalSeconds.toFixed(0)} s)`);
if (asJson) process.stdout.write(text);
// A WebGPU device or a wasm thread pool may keep the event loop alive.
process.exit(0);
