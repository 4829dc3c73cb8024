// The machine's limits, measured by the bench itself (native/cpu/limits.cc): FP32 FMA peak on one
// thread and on the bench's thread pool for each instruction set the CPU has, and a STREAM-style
// triad bandwidth. A case's roofline bound is max(flops / peak, bytes / bandwidth) at the bench's
// thread count and Tessera's instruction set; "% of limit" = bound / measured time.
import { loadAddon } from '../src/backend/cpu/addon.js';

export interface Limits {
  /** The instruction set Tessera's kernels use here (the addon's info().simd). */
  isa: string;
  threads: number;
  /** GFLOP/s by instruction set: one thread, and the bench's thread pool. */
  fmaGflops: Record<string, { oneThread: number; pool: number }>;
  /** Triad GB/s (two reads and one write per element, STREAM's count), one thread and pool. */
  triadGBs: { oneThread: number; pool: number; floatsPerArray: number };
}

/** Runs `measure(iterations)` -> seconds, doubling the iterations until one run takes `seconds`;
 *  then returns the best rate of three runs at that size. */
function bestRate(run: (iterations: number) => { seconds: number; work: number }, seconds: number): number {
  let iterations = 1 << 14;
  while (run(iterations).seconds < seconds / 4) iterations *= 2;
  iterations *= 4;
  let best = 0;
  for (let r = 0; r < 3; r++) {
    const m = run(iterations);
    best = Math.max(best, m.work / m.seconds);
  }
  return best;
}

export function measureLimits(threads: number, quick: boolean): Limits | undefined {
  const { addon, error } = loadAddon();
  if (!addon?.limitsFmaPeak) {
    console.warn(`  (machine limits skipped: ${error ?? 'this addon build has no limitsFmaPeak; rebuild it'})`);
    return undefined;
  }
  const isa = String(addon.info().simd);
  const isas = isa === 'avx512' ? ['avx512', 'avx2', 'scalar'] : isa === 'avx2' ? ['avx2', 'scalar'] : ['scalar'];
  const target = quick ? 0.01 : 0.25;
  // Several chunks per thread: a thread that is descheduled a while does fewer of them.
  const poolChunks = 8 * threads;
  const fmaGflops: Limits['fmaGflops'] = {};
  for (const level of isas) {
    const rate = (chunks: number) => bestRate((iterations) => {
      const r = addon.limitsFmaPeak(level, chunks, Math.ceil(iterations / chunks));
      return { seconds: r.seconds, work: r.flops };
    }, target) / 1e9;
    fmaGflops[level] = { oneThread: rate(1), pool: rate(poolChunks) };
  }
  // 3 x 128 MiB: far beyond any cache here. Quick: 3 x 4 MiB (only checks that it runs).
  const floatsPerArray = quick ? 1 << 20 : 1 << 25;
  const triad = (parallel: boolean) => {
    const r = addon.limitsTriad(floatsPerArray, quick ? 2 : 10, parallel);
    return r.bytes / r.seconds / 1e9;
  };
  return { isa, threads, fmaGflops, triadGBs: { oneThread: triad(false), pool: triad(true), floatsPerArray } };
}

/** The fastest a call of `flops` operations moving `bytes` can run here, in ms (NaN if neither is known). */
export function boundMs(limits: Limits | undefined, flops?: number, bytes?: number): number {
  if (!limits || (!flops && !bytes)) return NaN;
  const compute = flops ? flops / (limits.fmaGflops[limits.isa].pool * 1e6) : 0;
  const memory = bytes ? bytes / (limits.triadGBs.pool * 1e6) : 0;
  return Math.max(compute, memory);
}

export function describeLimits(l: Limits): string[] {
  const lines = Object.entries(l.fmaGflops).map(([isa, g]) =>
    `FP32 FMA peak ${isa}: ${g.oneThread.toFixed(1)} GFLOP/s on 1 thread, ${g.pool.toFixed(1)} GFLOP/s on ${l.threads}`);
  lines.push(`memory bandwidth (triad, 3 x ${(l.triadGBs.floatsPerArray * 4 / 2 ** 20).toFixed(0)} MiB): ` +
    `${l.triadGBs.oneThread.toFixed(1)} GB/s on 1 thread, ${l.triadGBs.pool.toFixed(1)} GB/s on ${l.threads}`);
  return lines;
}
