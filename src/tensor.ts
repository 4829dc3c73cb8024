// Tensor: a strided view on reference-counted backend storage, plus the autograd
// fields. Ops live in src/ops and are attached as methods by src/methods.ts.
import type { Backend, Buf, DType, View } from './backend/interface.js';
import { denseStrides, fmtShape, isDense, numel } from './shape.js';
import { formatValues } from './print.js';

/**
 * How a tensor was computed (src/tape.ts records it): a primitive op keeps what its gradient rule in
 * src/gradients.ts needs besides its inputs and output; a fused kernel keeps a backward of its own.
 */
export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** The primitive's saved values (axes, shapes, index tensors), as src/tape.ts's SavedByOp types them. */
  saved?: unknown;
  /** Gradients for each input (null where none flows), given the output's gradient: fused kernels only. */
  backward?: (grad: Tensor) => (Tensor | null)[];
}

/** Backend storage shared by a tensor and its views. */
export class Storage {
  refs = 0;
  /** The live counts of its backend, which memory() reports. */
  readonly counts: MemoryCounts;
  /** The buffer's size in bytes. */
  readonly bytes: number;
  /** Registered with the finalizer (see track()). */
  private tracked = false;
  constructor(readonly backend: Backend, public buf: Buf | null) {
    this.counts = memoryOf(backend.name);
    this.bytes = buf!.size * 4;
    this.counts.buffers++; this.counts.bytes += this.bytes;
  }
  /**
   * Registers this storage with the finalizer, once a tensor on it can be dropped without dispose(): storage
   * that becomes unreachable without release() is then reclaimed by the garbage collector; the backend's
   * reclaimer frees what the collector cannot free by itself. Backends without one keep the buffer until the
   * finalizer runs and free it then.
   */
  track(): void {
    if (this.tracked || !this.buf) return;
    this.tracked = true;
    const backend = this.backend, buf = this.buf;
    const reclaim = backend.reclaimer ? backend.reclaimer(buf) : () => backend.free(buf);
    storageFinalizer.register(this, { counts: this.counts, bytes: this.bytes, reclaim }, this);
  }
  retain(): void { this.refs++; }
  release(): void {
    if (--this.refs > 0 || !this.buf) return;
    if (this.tracked) storageFinalizer.unregister(this);
    this.counts.buffers--; this.counts.bytes -= this.bytes;
    this.backend.free(this.buf);
    this.buf = null;
  }
}

interface MemoryCounts { tensors: number; buffers: number; bytes: number }
const memoryCounts = new Map<string, MemoryCounts>();
function memoryOf(name: string): MemoryCounts {
  let m = memoryCounts.get(name);
  if (!m) { m = { tensors: 0, buffers: 0, bytes: 0 }; memoryCounts.set(name, m); }
  return m;
}

/** Live tensors, storage buffers and bytes per backend (views count as tensors, not buffers). Tensors dropped
 *  without dispose() leave these counts when their finalizers run, after a garbage collection once the event
 *  loop turns; their memory itself goes at the collection. */
export function memory(): Record<string, MemoryCounts> {
  const out: Record<string, MemoryCounts> = {};
  for (const [k, v] of memoryCounts) out[k] = { ...v };
  return out;
}

// Backstops for tensors dropped without dispose(). Neither holds the storage: a held value that did would keep
// every dropped buffer alive until the finalizer ran, and V8 runs finalizers only when the event loop turns,
// never inside a synchronous training loop, which therefore grew without bound.
const tensorFinalizer = new FinalizationRegistry<MemoryCounts>((counts) => { counts.tensors--; });
const storageFinalizer = new FinalizationRegistry<{ counts: MemoryCounts; bytes: number; reclaim: (() => void) | undefined }>(
  (held) => {
    held.counts.buffers--; held.counts.bytes -= held.bytes;
    held.reclaim?.();
  });

// ---- registering with the finalizers ----
// Registering every op's result and its storage, and unregistering them at dispose(), cost more than the rest
// of a small op's JS, and most results are disposed within a few ops: by a scope or by hand. A tensor made inside
// a scope is held by the scope's set until the scope ends, so it cannot be dropped before then: it is registered
// only if it outlives every scope (returned from the outermost one, or kept). A tensor made outside every scope
// waits in `unregistered`, which holds it (so none is collected unregistered), until UNREGISTERED_MAX tensors
// have gathered there or UNREGISTERED_BYTES of buffers (bounding what dropped tensors keep alive meanwhile), or
// the current job ends: then the ones not disposed by then are registered.
const UNREGISTERED_MAX = 128;
const UNREGISTERED_BYTES = 2 ** 19;
const unregistered: Tensor[] = [];
let unregisteredBytes = 0;
/** A microtask that registers `unregistered` is queued (one at a time: a long synchronous loop queues no more). */
let registerQueued = false;

function trackSoon(t: Tensor): void {
  unregistered.push(t);
  unregisteredBytes += t.storage.bytes;
  if (unregistered.length >= UNREGISTERED_MAX || unregisteredBytes >= UNREGISTERED_BYTES) trackUnregistered();
  else if (!registerQueued) {
    registerQueued = true;
    queueMicrotask(() => { registerQueued = false; trackUnregistered(); });
  }
}

function trackUnregistered(): void {
  for (const t of unregistered) t.track();
  unregistered.length = 0;
  unregisteredBytes = 0;
}

// ---- scopes: free what a function made, except what it returns ----
const scopes: Set<Tensor>[] = [];

export function scope<T>(fn: () => T): T {
  const mine = new Set<Tensor>();
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    // Nothing fn made can be returned now: free it all, as on success everything not returned is freed.
    for (const t of mine) t.dispose();
    throw e;
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) {
    for (const t of mine) t.dispose();
    throw new Error('scope: the function must be synchronous (got a Promise)');
  }
  // Most scopes return nothing or one tensor: those need no set of what was returned.
  let kept: Set<Tensor> | null = null;
  if (result !== null && typeof result === 'object' && !(result instanceof Tensor)) {
    kept = new Set<Tensor>();
    collectTensors(result, kept);
  }
  const parent = scopes[scopes.length - 1];
  for (const t of mine) {
    if (t !== result && !kept?.has(t)) t.dispose();
    else if (parent) { parent.add(t); t.ownerScope = parent; }
    else { t.ownerScope = null; trackSoon(t); }
  }
  return result;
}

function collectTensors(v: unknown, into: Set<Tensor>): void {
  if (v instanceof Tensor) into.add(v);
  else if (Array.isArray(v)) for (const x of v) collectTensors(x, into);
  else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) collectTensors(x, into);
  }
}

let nextId = 1;

/** `a` itself when frozen (another tensor's shape or strides: sharing it is safe), else a frozen copy. Freezing
 *  and copying every op's shape and strides was a visible part of a small op's time. */
function frozen(a: readonly number[]): readonly number[] {
  return Object.isFrozen(a) ? a : Object.freeze(a.slice());
}

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  private _storage: Storage | null;
  /** Set on leaves the user wants gradients for, and on results computed from them. */
  requiresGrad = false;
  grad: Tensor | null = null;
  /** How this tensor was computed (absent on leaves and when grad recording is off). */
  node: GradNode | null = null;
  /**
   * Why this tensor's node is gone although it was computed with grad: 'disposed' (dispose() freed the tensor)
   * or 'backward' (a backward() freed the graph). backward() through it then throws, naming `freedOp`.
   */
  freed: 'disposed' | 'backward' | null = null;
  /** The op that computed this tensor, kept when its node is freed, for backward()'s error. */
  freedOp?: string;
  /** Optional label, used by nn modules and error messages. */
  name?: string;

  /** Registered with the finalizers (see track()). */
  private tracked = false;
  /** The scope whose set holds this tensor (at most one does), null outside every scope or once kept. */
  ownerScope: Set<Tensor> | null = null;

  constructor(storage: Storage, shape: readonly number[], strides: readonly number[], offset: number, dtype: DType) {
    this._storage = storage;
    this.shape = frozen(shape);
    this.strides = frozen(strides);
    this.offset = offset;
    this.dtype = dtype;
    storage.retain();
    storage.counts.tensors++;
    const top = scopes[scopes.length - 1];
    if (top) { top.add(this); this.ownerScope = top; } else trackSoon(this);
  }

  /** Registers this tensor and its storage with the finalizers, if it is not disposed: from now on it can be
   *  dropped without dispose() (see trackSoon). */
  track(): void {
    if (this.tracked || !this._storage) return;
    this.tracked = true;
    tensorFinalizer.register(this, this._storage.counts, this);
    this._storage.track();
  }

  get storage(): Storage {
    if (!this._storage) throw new Error(`tensor ${fmtShape(this.shape)} ${this.dtype} was used after dispose()`);
    return this._storage;
  }
  get backend(): Backend { return this.storage.backend; }
  get size(): number { return numel(this.shape); }
  get ndim(): number { return this.shape.length; }
  get isDisposed(): boolean { return this._storage === null || this._storage.buf === null; }
  get isContiguous(): boolean { return this.offset === 0 && isDense(this.shape, this.strides) && this.storage.buf!.size === this.size; }

  /** The kernel-level description of this tensor. */
  view(): View {
    const buf = this.storage.buf;
    if (!buf) throw new Error(`tensor ${fmtShape(this.shape)} ${this.dtype} was used after its storage was freed`);
    return { buf, shape: this.shape, strides: this.strides, offset: this.offset };
  }

  /** Dense storage of exactly this tensor's elements (the tensor itself when already dense). */
  denseBuf(): Buf {
    if (this.offset === 0 && isDense(this.shape, this.strides) && this.storage.buf!.size === this.size) return this.storage.buf!;
    throw new Error('denseBuf: tensor is not dense; call contiguous() first');
  }

  /** e.g. "float32[2, 3] on cpu" */
  describe(): string { return `${this.dtype}${fmtShape(this.shape)} on ${this._storage?.backend.name ?? '(disposed)'}`; }

  dispose(): void {
    if (!this._storage) return;
    if (this.tracked) tensorFinalizer.unregister(this);
    this._storage.counts.tensors--;
    this._storage.release();
    this._storage = null;
    this.freeNode('disposed');
    this.ownerScope?.delete(this);
    this.ownerScope = null;
  }

  /** Drops the autograd node (and what it holds), remembering which op it was for backward()'s errors. */
  freeNode(why: 'disposed' | 'backward'): void {
    if (this.node) { this.freedOp = this.node.op; this.freed = why; }
    this.node = null;
  }

  /** Exempts this tensor from the enclosing scopes' cleanup. */
  keep(): this {
    this.ownerScope?.delete(this);
    this.ownerScope = null;
    this.track();
    return this;
  }

  /** Replaces this tensor's contents with `value` (same shape and dtype): how optimizers update parameters. */
  assign(value: Tensor): void {
    if (value.dtype !== this.dtype || value.shape.length !== this.shape.length || value.shape.some((v, i) => v !== this.shape[i])) {
      throw new Error(`assign: value ${value.describe()} does not match ${this.describe()}`);
    }
    if (value.backend !== this.backend) throw new Error(`assign: value on ${value.backend.name}, tensor on ${this.backend.name}`);
    const src = value.isContiguous ? value : denseCopy(value);
    const st = src.storage;
    st.retain();
    this.storage.release();
    this._storage = st;
    if (this.tracked) st.track();
    (this as { strides: readonly number[] }).strides = Object.freeze(denseStrides(this.shape));
    (this as { offset: number }).offset = 0;
    if (src !== value) src.dispose();
  }

  // ---- reading back ----
  /** Values in row-major order; only on backends that read synchronously (cpu, reference). */
  dataSync(): Float32Array | Int32Array {
    const b = this.backend;
    if (!b.syncRead) throw new Error(`dataSync: ${b.name} tensors are read with await t.data()`);
    const dense = this.isContiguous ? this : denseCopy(this);
    const out = b.readSync(dense.storage.buf!);
    if (dense !== this) dense.dispose();
    return out;
  }

  async data(): Promise<Float32Array | Int32Array> {
    const dense = this.isContiguous ? this : denseCopy(this);
    const out = await this.backend.read(dense.storage.buf!);
    if (dense !== this) dense.dispose();
    return out;
  }

  arraySync(): NestedArray { return nest(Array.from(this.dataSync()), this.shape); }
  async array(): Promise<NestedArray> { return nest(Array.from(await this.data()), this.shape); }

  /** The value of a one-element tensor (synchronous backends). */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor ${this.describe()} has ${this.size} elements, not 1`);
    return this.dataSync()[0];
  }

  /** `Tensor(float32[2, 3] on cpu)` and the values (summarized past 1000 elements, see print.ts). Tensors on
   *  webgpu or cuda print their description only: their values need `await t.data()`. */
  toString(): string {
    const head = `Tensor(${this.describe()}${this.requiresGrad ? ', requiresGrad' : ''})`;
    if (this.isDisposed) return head;
    if (!this.backend.syncRead) return `${head} (values on the device: await t.data())`;
    return `${head}\n${formatValues(this.dataSync(), this.shape, this.dtype === 'int32')}`;
  }

  /** What console.log and util.inspect show: the same as toString, not the object's fields. */
  [Symbol.for('nodejs.util.inspect.custom')](): string { return this.toString(); }
}

export type NestedArray = number | NestedArray[];

function nest(flat: number[], shape: readonly number[]): NestedArray {
  if (shape.length === 0) return flat[0];
  const [n, ...rest] = shape;
  const inner = numel(rest);
  const out: NestedArray[] = [];
  for (let i = 0; i < n; i++) out.push(nest(flat.slice(i * inner, (i + 1) * inner), rest));
  return out;
}

/** A new tensor owning fresh dense storage on `backend`. */
export function emptyTensor(backend: Backend, shape: readonly number[], dtype: DType): Tensor {
  const storage = new Storage(backend, backend.alloc(numel(shape), dtype));
  return new Tensor(storage, shape, Object.freeze(denseStrides(shape)), 0, dtype);
}

/** A view sharing `base`'s storage. */
export function viewOf(base: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  return new Tensor(base.storage, shape, strides, offset, base.dtype);
}

/** A new tensor with fresh dense storage holding t's elements; not recorded for autograd. */
export function denseCopy(t: Tensor): Tensor {
  const out = emptyTensor(t.backend, t.shape, t.dtype);
  if (out.size > 0) t.backend.copy(t.view(), out.storage.buf!);
  return out;
}
