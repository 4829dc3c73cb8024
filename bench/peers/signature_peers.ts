// Shared by the bench cases whose Python peers need the case's data (spmm, cmd,
// conv3d, gcn): hands the arrays over through a temporary folder of raw files that
// bench/peers/signature_io.py reads, runs the peer through bench/case.ts's
// runPythonPeer, and reads back the outputs it saved, to check both sides agree.
//
// The tessera side of these cases allocates its outputs once, outside the timed calls:
// on this project's virtual machine a first touch of fresh memory costs ~50 us per
// 4 KiB page, and V8 recycles ArrayBuffers only after a garbage collection, while the
// peers' allocators hand freed memory straight back. Timing fresh 5-50 MB outputs
// would measure the page faults, not the kernels.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchCase, type CaseResult, benchThreads, runPythonPeer } from '../case.js';

export { type BenchCase, type CaseResult, medianMs, peerTimes } from '../case.js';

/** pip's numpy / scipy are on PATH; Debian's torch imports only under /usr/bin/python3. */
export const pythonScipy = process.env.TESSERA_BENCH_PYTHON ?? 'python3';
export const pythonTorch = process.env.TESSERA_BENCH_DEBIAN_PYTHON ?? '/usr/bin/python3';

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

  /** `python bench/peers/<script> <dir> <peer> <repeats>`: label -> median ms, or
   *  undefined (after saying why) when the peer cannot run here. */
  runPeer(python: string, script: string, peer: string, repeats: number): Record<string, number> | undefined {
    return runPythonPeer(python, script, [this.dir, peer, String(repeats)], peer === 'torch' ? 'torch' : 'numpy');
  }

  /** A float32 array a peer saved. */
  read(name: string): Float32Array {
    const bytes = readFileSync(join(this.dir, `${name}.bin`));
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  dispose(): void { rmSync(this.dir, { recursive: true, force: true }); }
}

/** Runs cases and prints one line each (ratio = peer time / tessera time, so > 1 means
 *  tessera is faster); for running one case file alone: node dist/bench/cases/<file>.js. */
export async function runCases(cases: BenchCase[]): Promise<void> {
  console.log(`threads: ${benchThreads} each side`);
  for (const c of cases) {
    const r: CaseResult = await c.run();
    const peers = Object.entries(r.peers)
      .map(([name, ms]) => `${name} ${ms.toFixed(2)} ms (ratio ${(ms / r.tesseraMs).toFixed(2)})`).join('; ');
    const check = r.check ? `; max rel. diff ${Object.entries(r.check).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}` : '';
    console.log(`${c.name}: tessera ${r.tesseraMs.toFixed(2)} ms; ${peers}${check}`);
  }
}
