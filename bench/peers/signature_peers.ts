// Shared by the signature-kernel bench cases (bench/cases/spmm.ts, cmd.ts, conv3d.ts):
// hands the case's data to a Python peer (bench/peers/signature_*.py) through a
// temporary folder of raw arrays, and times the tessera side the way the peers
// time theirs (median of `repeats` calls after one warm-up call).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CaseResult {
  tesseraMs: number;
  /** Peer name -> median milliseconds. */
  peers: Record<string, number>;
  /** How far the peers' results are from tessera's (max |a - b| / max |b|). */
  check?: Record<string, number>;
}
export interface BenchCase { name: string; run(): Promise<CaseResult> }

/** Threads on each side: TESSERA_NUM_THREADS (the addon reads it too), default 2. */
export const benchThreads = Number(process.env.TESSERA_NUM_THREADS ?? 2);

/** pip's numpy / scipy are on PATH; Debian's torch imports only under /usr/bin/python3. */
export const pythonScipy = process.env.TESSERA_BENCH_PYTHON ?? 'python3';
export const pythonTorch = process.env.TESSERA_BENCH_TORCH_PYTHON ?? '/usr/bin/python3';

// Runs as dist/bench/peers/signature_peers.js; the .py files stay in the source tree.
const peerDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'peers');

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

/** max |a - b| / max |b|: one number saying whether two results agree. */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

/** A temporary folder holding a case's arrays for the Python peers. */
export class Exchange {
  readonly dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));

  constructor(meta: object, arrays: Record<string, { data: Float32Array | Int32Array; shape: number[] }>) {
    const spec: Record<string, { dtype: string; shape: number[] }> = {};
    for (const [name, { data, shape }] of Object.entries(arrays)) {
      writeFileSync(join(this.dir, `${name}.bin`), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      spec[name] = { dtype: data instanceof Int32Array ? '<i4' : '<f4', shape };
    }
    writeFileSync(join(this.dir, 'meta.json'), JSON.stringify({ meta, arrays: spec }));
  }

  /** Runs `python bench/peers/<script> <dir> <peer> <repeats>`; returns its timings, or
   *  undefined (after saying why) when the peer cannot run here. */
  runPeer(python: string, script: string, peer: string, repeats: number): Record<string, number> | undefined {
    const n = String(benchThreads);
    const r = spawnSync(python, [join(peerDir, script), this.dir, peer, String(repeats)], {
      encoding: 'utf8', maxBuffer: 1 << 24,
      env: { ...process.env, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n },
    });
    const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !last.startsWith('{')) {
      const why = r.error ? String(r.error) : (r.stderr ?? '').trim().split('\n').slice(-1)[0];
      console.warn(`  (peer ${peer} via ${python} ${script} skipped: ${why})`);
      return undefined;
    }
    return (JSON.parse(last) as { ms: Record<string, number> }).ms;
  }

  /** A float32 array a peer wrote back. */
  read(name: string): Float32Array {
    const bytes = readFileSync(join(this.dir, `${name}.bin`));
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  dispose(): void { rmSync(this.dir, { recursive: true, force: true }); }
}

/** Runs cases and prints one line each: `node dist/bench/cases/<file>.js`. */
export async function runCases(cases: BenchCase[]): Promise<void> {
  console.log(`threads: ${benchThreads} each side`);
  for (const c of cases) {
    const r = await c.run();
    const peers = Object.entries(r.peers)
      .map(([name, ms]) => `${name} ${ms.toFixed(2)} ms (${(ms / r.tesseraMs).toFixed(2)}x)`).join(', ');
    const check = r.check ? `; diff ${Object.entries(r.check).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}` : '';
    console.log(`${c.name}: tessera ${r.tesseraMs.toFixed(2)} ms; ${peers}${check}`);
  }
}
