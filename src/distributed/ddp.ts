// DistributedDataParallel: the same model on every rank, each rank a different shard of the batch,
// gradients averaged over ranks before the optimizer step, so every rank takes the same step.
import type { Module } from '../nn/module.js';
import { saveModule, type SaveOptions } from '../io/checkpoint.js';
import { emptyTensor, type Tensor } from '../tensor.js';
import { HostBuf } from '../backend/hostbuf.js';
import { agree, allReduceArray, barrier, broadcast, rank, worldSize } from './collectives.js';

export interface DdpOptions {
  /** Gradients are all-reduced in buckets of about this many MiB (one collective per bucket). Default 25. */
  bucketMiB?: number;
}

const DDP_KEYS = new Set(['bucketMiB']);

export class DistributedDataParallel<M extends Module> {
  readonly module: M;
  /** Parameter indices per bucket, in parameter order. */
  private readonly buckets: number[][];

  /** Broadcasts rank 0's parameters and buffers to every rank (call after init()). */
  constructor(module: M, opts: DdpOptions = {}) {
    for (const k of Object.keys(opts)) if (!DDP_KEYS.has(k)) throw new Error(`DistributedDataParallel: unknown option '${k}' (known: ${[...DDP_KEYS].join(', ')})`);
    const bucketMiB = opts.bucketMiB ?? 25;
    if (!(bucketMiB > 0)) throw new Error(`DistributedDataParallel: bucketMiB must be > 0, got ${bucketMiB}`);
    this.module = module;
    for (const t of Object.values(module.stateDict())) broadcast(t, 0);
    const params = module.parameters();
    const limit = (bucketMiB * 2 ** 20) / 4;
    this.buckets = [];
    let current: number[] = [], filled = 0;
    params.forEach((p, i) => {
      if (p.dtype !== 'float32') throw new Error(`DistributedDataParallel: parameter ${i} is ${p.describe()}; only float32 parameters are supported`);
      if (current.length > 0 && filled + p.size > limit) { this.buckets.push(current); current = []; filled = 0; }
      current.push(i); filled += p.size;
    });
    if (current.length > 0) this.buckets.push(current);
  }

  /** module.forward on every rank; an error on one rank becomes the same error on all (see agree()). */
  forward(...args: Parameters<M['forward']>): ReturnType<M['forward']> {
    return agree(() => (this.module.forward as (...a: unknown[]) => ReturnType<M['forward']>)(...args));
  }

  /**
   * Averages every parameter's gradient over the ranks (call after backward(), before the optimizer step).
   * A parameter without a gradient on this rank contributes zeros; it gets the average like the others.
   */
  syncGradients(): void {
    if (worldSize() === 1) return;
    const params = this.module.parameters();
    for (const bucket of this.buckets) {
      let total = 0;
      for (const i of bucket) total += params[i].size;
      const flat = new Float32Array(total);
      let at = 0;
      for (const i of bucket) {
        const g = params[i].grad;
        if (g) flat.set(gradElements(g), at);
        at += params[i].size;
      }
      allReduceArray(flat, 'mean');
      at = 0;
      for (const i of bucket) {
        const p = params[i];
        const values = flat.subarray(at, at + p.size);
        if (!p.grad || !p.grad.isContiguous) {
          p.grad?.dispose();
          p.grad = emptyTensor(p.backend, p.shape, 'float32');
        }
        p.backend.write(p.grad.storage.buf!, values);
        at += p.size;
      }
    }
  }

  /** Rank 0 writes the module's checkpoint (atomically, via saveModule); every rank returns once it is written. */
  async save(path: string, opts: SaveOptions = {}): Promise<void> {
    let failure: unknown = null;
    if (rank() === 0) {
      try { await saveModule(path, this.module, opts); } catch (e) { failure = e; }
    }
    agree(() => { if (failure) throw failure; });
    barrier();
  }
}

function gradElements(g: Tensor): Float32Array {
  const dense = g.isContiguous ? g : g.contiguous();
  const buf = dense.storage.buf!;
  // Host storage is used as it is; a device gradient is read back once.
  const data = buf instanceof HostBuf ? buf.data as Float32Array : dense.backend.readSync(buf) as Float32Array;
  if (dense !== g) dense.dispose();
  return data;
}
