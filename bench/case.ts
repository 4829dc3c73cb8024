// The contract between bench/run.ts and the case files in bench/cases/: each file exports
// `cases: BenchCase[]`; a case times tessera and its peers itself and returns the numbers.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bestPeerBuild, buildSummary, childEnv, type PythonLibrary, whyNoBuild } from './peers/configure.js';

export interface CaseResult {
  /** Median milliseconds per call on tessera; NaN when the case could not run here. */
  tesseraMs: number;
  /** Peer label -> median milliseconds per call (same work, same thread count). */
  peers: Record<string, number>;
  /** Optional agreement check: peer -> max |a - b| / max |b| of the outputs. */
  check?: Record<string, number>;
  /** Whole-step cases: peak resident memory (MiB) of each side's process, label -> MiB ('tessera' for ours). */
  memory?: Record<string, number>;
}

export interface BenchCase {
  name: string;
  /** What `--kernel` matches (defaults to the first word of name). */
  kernel?: string;
  /** Floating-point operations per call, for GFLOP/s in the table and the roofline. */
  flops?: number;
  /** Bytes a call must move to or from memory at least (inputs read once, outputs written once),
   *  for the roofline: the case's bound is max(flops / FMA peak, bytes / bandwidth). */
  bytes?: number;
  /** A point of a scaling series: the runner plots time against `work` for every case of `plot`. */
  scaling?: { plot: string; work: number; workUnit: string };
  run(): Promise<CaseResult>;
}

/** Threads on each side: TESSERA_NUM_THREADS (the addon reads it too), default 2. */
export const benchThreads = Number(process.env.TESSERA_NUM_THREADS ?? 2);

/** `--quick` (TESSERA_BENCH_QUICK=1): tiny sizes and few repeats, to check the harness, the peers'
 *  configuration and the results file (CI runs it), not to measure anything. */
export const quick = process.env.TESSERA_BENCH_QUICK === '1';
/** `full` normally, `small` under --quick. */
export const sized = <T>(full: T, small: T): T => (quick ? small : full);

/** How each peer label that appeared in this run was built and configured. */
export interface PeerInfo { summary: string; details?: unknown }
const peerInfo = new Map<string, PeerInfo>();
export function describePeer(label: string, info: PeerInfo): void { peerInfo.set(label, info); }
export function peerInfoOf(label: string): PeerInfo | undefined { return peerInfo.get(label); }

/** Debian's numpy (OpenBLAS) and whatever python3 is first on PATH (pip's numpy). */
export const pythons = [...new Set([process.env.TESSERA_BENCH_DEBIAN_PYTHON ?? '/usr/bin/python3', process.env.TESSERA_BENCH_PYTHON ?? 'python3'])];

/** Median wall time of fn() in milliseconds over `repeats` calls after `warmup` untimed ones. */
export function medianMs(fn: () => void, repeats: number, warmup = 1): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  return times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
}

// Runs as dist/bench/case.js; the .py peers stay in the source tree.
const peerDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'peers');

/** What a Python peer prints last: label -> median ms, and for whole-step peers label -> peak RSS (MiB). */
export interface PeerOutput { ms: Record<string, number>; memoryMiB?: Record<string, number>; skip?: string }

/** Runs `python bench/peers/<script> ...args` with the bench's thread count, in the fastest correct
 *  OpenBLAS configuration of `library` under that interpreter (bench/peers/configure.ts), and returns
 *  the JSON of its last output line, or undefined after saying why it could not. A torch peer runs
 *  a second time on one thread, its labels suffixed " (1 thread)": on this 2-core machine torch's
 *  intra-op threads cost more than they give on small ops (an LSTM step, a small conv), sometimes
 *  2-4x, and a peer is compared at its best. */
export function runPythonPeerOutput(python: string, script: string, args: string[], library: PythonLibrary = 'numpy'): PeerOutput | undefined {
  const build = bestPeerBuild(python, library, benchThreads, quick);
  if (!build) {
    console.warn(`  (peer ${python} ${script} skipped: no working ${library} there: ${whyNoBuild(python, library)})`);
    return undefined;
  }
  const out = runPeerProcess(python, script, args, build.env, buildSummary(build), build, '');
  if (!out || library !== 'torch' || benchThreads === 1) return out;
  const one = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const single = runPeerProcess(python, script, args, { ...build.env, ...one }, `${buildSummary(build)}, 1 thread`, build, ' (1 thread)');
  if (!single) return out;
  return { ms: { ...out.ms, ...single.ms }, memoryMiB: out.memoryMiB && { ...out.memoryMiB, ...single.memoryMiB }, skip: out.skip };
}

/** One peer process with the child-environment `changes`; its labels get `suffix`. */
function runPeerProcess(python: string, script: string, args: string[], changes: Record<string, string | null>,
  summary: string, details: unknown, suffix: string): PeerOutput | undefined {
  const r = spawnSync(python, [join(peerDir, script), ...args], {
    encoding: 'utf8', maxBuffer: 1 << 24, timeout: 600_000, env: childEnv(changes),
  });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    const why = r.error ? String(r.error) : (r.stderr ?? '').trim().split('\n').slice(-1)[0];
    console.warn(`  (peer ${python} ${script} ${args.join(' ')}${suffix} skipped: ${why})`);
    return undefined;
  }
  const parsed = JSON.parse(last) as PeerOutput;
  if (parsed.skip) console.warn(`  (peer ${python} ${script} ${args.join(' ')}${suffix} skipped: ${parsed.skip})`);
  const rename = (m: Record<string, number> | undefined) =>
    m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k + suffix, v]));
  const ms = rename(parsed.ms)!;
  for (const label of Object.keys(ms)) describePeer(label, { summary, details: { ...(details as object), env: changes } });
  return { ms, memoryMiB: rename(parsed.memoryMiB), skip: parsed.skip };
}

/** A peer's time under `label`, named `as`, with its one-thread run beside it when there was one. */
export function peerTimes(found: Record<string, number>, label: string, as: string): Record<string, number> {
  const out: Record<string, number> = { [as]: found[label] };
  const single = found[`${label} (1 thread)`];
  if (single !== undefined) out[`${as} (1 thread)`] = single;
  return out;
}

/** runPythonPeerOutput's label -> median ms. */
export function runPythonPeer(python: string, script: string, args: string[], library: PythonLibrary = 'numpy'): Record<string, number> | undefined {
  return runPythonPeerOutput(python, script, args, library)?.ms;
}
