// The contract between bench/run.ts and the case files in bench/cases/: each file exports
// `cases: BenchCase[]`; a case times tessera and its peers itself and returns the numbers.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CaseResult {
  /** Median milliseconds per call on tessera; NaN when the case could not run here. */
  tesseraMs: number;
  /** Peer label -> median milliseconds per call (same work, same thread count). */
  peers: Record<string, number>;
  /** Optional agreement check: peer -> max |a - b| / max |b| of the outputs. */
  check?: Record<string, number>;
}

export interface BenchCase {
  name: string;
  /** What `--kernel` matches (defaults to the first word of name). */
  kernel?: string;
  /** Floating-point operations per call, for GFLOP/s in the table. */
  flops?: number;
  run(): Promise<CaseResult>;
}

/** Threads on each side: TESSERA_NUM_THREADS (the addon reads it too), default 2. */
export const benchThreads = Number(process.env.TESSERA_NUM_THREADS ?? 2);

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

/** Runs `python bench/peers/<script> ...args` with the bench's thread count and returns the
 *  {"ms": {label: median ms}} of its last output line, or undefined after saying why it could not. */
export function runPythonPeer(python: string, script: string, args: string[]): Record<string, number> | undefined {
  const n = String(benchThreads);
  const r = spawnSync(python, [join(peerDir, script), ...args], {
    encoding: 'utf8', maxBuffer: 1 << 24, timeout: 600_000,
    env: { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n },
  });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    const why = r.error ? String(r.error) : (r.stderr ?? '').trim().split('\n').slice(-1)[0];
    console.warn(`  (peer ${python} ${script} ${args.join(' ')} skipped: ${why})`);
    return undefined;
  }
  const parsed = JSON.parse(last) as { ms: Record<string, number>; skip?: string };
  if (parsed.skip) console.warn(`  (peer ${python} ${script} ${args.join(' ')} skipped: ${parsed.skip})`);
  return parsed.ms;
}
