// DistributedDataParallel: the same model on every rank, each rank a different shard of the batch,
// gradients averaged over ranks before the optimizer step, so every rank takes the same step.
//
// Overlap: buckets hold parameters in reverse order (the backward pass finishes the last layers' gradients
// first). The autograd engine reports each parameter whose gradient is complete (onGradReady); when all of
// a bucket's parameters are, its all-reduce starts (MPI_Iallreduce) while backward goes on. Buckets start in
// bucket order on every rank, as collectives must. syncGradients() starts what is left and waits for all.
import type { Module } from '../nn/module.js';
import { saveModule, type SaveOptions } from '../io/checkpoint.js';
import { emptyTensor, type Tensor } from '../tensor.js';
import { HostBuf } from '../backend/hostbuf.js';
import { onGradReady } from '../autograd.js';
import {
  agree, barrier, broadcast, canStartAllReduce, rank, startAllReduceArray, worldSize, type PendingAllReduce,
} from './collectives.js';

export interface DdpOptions {
  /** Gradients are all-reduced in buckets of about this many MiB (one collective per bucket). Default 25. */
  bucketMiB?: number;
  /**
   * Start each bucket's all-reduce during backward(), as soon as its gradients are complete (default true).
   * Only gradients in host memory (cpu, reference) overlap; device gradients are reduced in syncGradients().
   */
  overlap?: boolean;
}

const DDP_KEYS = new Set(['bucketMiB', 'overlap']);

/** How the last syncGradients() went: buckets whose all-reduce had started during backward, of all buckets. */
export interface DdpSyncStats { buckets: number; startedDuringBackward: number }

export class DistributedDataParallel<M extends Module> {
  readonly module: M;
  /** Parameter indices per bucket, parameters in reverse order. */
  private readonly buckets: number[][];
  private readonly params: Tensor[];
  /** The bucket of each parameter. */
  private readonly bucketOf = new Map<Tensor, number>();
  /** This round (since the last syncGradients): parameters ready per bucket, started all-reduces in bucket order. */
  private readyCount: number[];
  private started: { flat: Float32Array; pending: PendingAllReduce }[] = [];
  /** A gradient changed after its bucket had started (gradient accumulation over several backward passes). */
  private stale = false;
  private readonly removeHook: (() => void) | null = null;
  lastSync: DdpSyncStats = { buckets: 0, startedDuringBackward: 0 };

  /** Broadcasts rank 0's parameters and buffers to every rank (call after init()). */
  constructor(module: M, opts: DdpOptions = {}) {
    for (const k of Object.keys(opts)) if (!DDP_KEYS.has(k)) throw new Error(`DistributedDataParallel: unknown option '${k}' (known: ${[...DDP_KEYS].join(', ')})`);
    const bucketMiB = opts.bucketMiB ?? 25;
    if (!(bucketMiB > 0)) throw new Error(`DistributedDataParallel: bucketMiB must be > 0, got ${bucketMiB}`);
    if (opts.overlap !== undefined && typeof opts.overlap !== 'boolean') throw new Error(`DistributedDataParallel: overlap must be a boolean, got ${String(opts.overlap)}`);
    this.module = module;
    for (const t of Object.values(module.stateDict())) broadcast(t, 0);
    this.params = module.parameters();
    const limit = (bucketMiB * 2 ** 20) / 4;
    this.buckets = [];
    let current: number[] = [], filled = 0;
    for (let i = this.params.length - 1; i >= 0; i--) {
      const p = this.params[i];
      if (p.dtype !== 'float32') throw new Error(`DistributedDataParallel: parameter ${i} is ${p.describe()}; only float32 parameters are supported`);
      if (current.length > 0 && filled + p.size > limit) { this.buckets.push(current); current = []; filled = 0; }
      current.push(i); filled += p.size;
      this.bucketOf.set(p, this.buckets.length);
    }
    if (current.length > 0) this.buckets.push(current);
    this.readyCount = this.buckets.map(() => 0);
    if ((opts.overlap ?? true) && worldSize() > 1 && canStartAllReduce()) {
      this.removeHook = onGradReady((leaf) => this.gradReady(leaf));
    }
  }

  /** module.forward on every rank; an error on one rank becomes the same error on all (see agree()). */
  forward(...args: Parameters<M['forward']>): ReturnType<M['forward']> {
    return agree(() => (this.module.forward as (...a: unknown[]) => ReturnType<M['forward']>)(...args));
  }

  /** A parameter's gradient is complete for this backward pass: start the buckets that are now full, in order. */
  private gradReady(p: Tensor): void {
    const b = this.bucketOf.get(p);
    if (b === undefined) return;
    // Device gradients are read back in syncGradients (a read here would wait for the device mid-backward).
    if (!(p.grad!.storage.buf instanceof HostBuf)) return;
    if (b < this.started.length) { this.stale = true; return; }
    this.readyCount[b]++;
    while (this.started.length < this.buckets.length && this.readyCount[this.started.length] === this.buckets[this.started.length].length) {
      this.startBucket(this.started.length);
    }
    for (const s of this.started) s.pending.test();
  }

  private startBucket(b: number): void {
    const flat = this.pack(b);
    this.started.push({ flat, pending: startAllReduceArray(flat, 'mean') });
  }

  /** The bucket's gradients in one array (zeros for a parameter without a gradient on this rank). */
  private pack(b: number): Float32Array {
    const bucket = this.buckets[b];
    let total = 0;
    for (const i of bucket) total += this.params[i].size;
    const flat = new Float32Array(total);
    let at = 0;
    for (const i of bucket) {
      const g = this.params[i].grad;
      if (g) flat.set(gradElements(g), at);
      at += this.params[i].size;
    }
    return flat;
  }

  private unpack(b: number, flat: Float32Array): void {
    let at = 0;
    for (const i of this.buckets[b]) {
      const p = this.params[i];
      const values = flat.subarray(at, at + p.size);
      if (!p.grad || !p.grad.isContiguous) {
        p.grad?.dispose();
        p.grad = emptyTensor(p.backend, p.shape, 'float32').keep();
      }
      p.backend.write(p.grad.storage.buf!, values);
      at += p.size;
    }
  }

  /**
   * Averages every parameter's gradient over the ranks (call after backward(), before the optimizer step): waits
   * for the all-reduces started during backward and runs the rest. A parameter without a gradient on this rank
   * contributes zeros; it gets the average like the others. After several backward passes (gradient
   * accumulation) the early all-reduces are stale: their results are dropped and every bucket is reduced again.
   */
  syncGradients(): void {
    if (worldSize() === 1) return;
    const startedDuringBackward = this.started.length;
    if (this.stale) {
      for (const s of this.started) s.pending.wait();
      this.started = [];
    }
    while (this.started.length < this.buckets.length) this.startBucket(this.started.length);
    this.started.forEach((s, b) => { s.pending.wait(); this.unpack(b, s.flat); });
    this.lastSync = { buckets: this.buckets.length, startedDuringBackward: this.stale ? 0 : startedDuringBackward };
    this.started = [];
    this.readyCount.fill(0);
    this.stale = false;
  }

  /** Stops starting all-reduces during backward() (for a model no longer trained with this wrapper). */
  dispose(): void { this.removeHook?.(); }

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
