// The device side of the WebGPU backend: adapter and device lifetime, the
// pipeline cache, batched command recording, the parameter arena and error
// reporting. Knows nothing of tensors; index.ts maps kernels onto it.
//
// Execution model. Kernels are recorded synchronously into one command
// encoder (one compute pass per op, labelled with the op's name) and
// submitted in batches: when a batch holds MAX_OPS_PER_BATCH ops, when the
// parameter arena is full, and before any read, sync or conflicting write.
//
// Errors. WebGPU reports validation, out-of-memory and internal errors
// asynchronously. Every op is recorded inside error scopes and every submit
// is scoped too; a failed scope stores an Error naming the op, and the next
// sync() or read() rejects with it (later errors are counted in the message).
// Errors found at submit time (encoder validation) name the batch's ops, and
// Dawn's message names the pass label, i.e. the op.
//
// Out-of-range indices. A kernel cannot throw, so gather and scatterAdd
// record the first bad index in `indexErrors` (count, value, op slot,
// extent). When such kernels ran since the last check, sync() and read()
// copy those 16 bytes back with their own readback and reject with an Error
// naming the op the user called. The cost is one small copy (and, in sync(),
// one extra map) per sync or read after index kernels, none otherwise.

import { kernelKey, moduleSource, type Kernel } from './shaders.js';

// Values fixed by the WebGPU specification; Dawn for Node does not install
// the GPUBufferUsage / GPUMapMode globals unless asked to.
const USAGE_MAP_READ = 0x0001;
const USAGE_COPY_SRC = 0x0004;
const USAGE_COPY_DST = 0x0008;
const USAGE_UNIFORM = 0x0040;
const USAGE_STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;

const MAX_OPS_PER_BATCH = 128;
// A dispatch takes one or two aligned slots (parameters, record), typically 256 bytes each.
const ARENA_BYTES = 128 * 1024;
const MAX_PARAM_WORDS = 64;
const INDEX_ERROR_BYTES = 16;

/** Limits requested at the adapter's values (the defaults are far lower). */
const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** What the kernels need (gemm: 256 invocations, 8 KiB workgroup memory; cmd:
 *  7 storage bindings). These are WebGPU's guaranteed minimums or below, so
 *  a conforming adapter always passes; the check guards against others. */
const KERNEL_NEEDS: Readonly<Partial<Record<(typeof REQUESTED_LIMITS)[number], number>>> = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 16,
  maxComputeWorkgroupStorageSize: 8192,
  maxStorageBuffersPerShaderStage: 7,
};

const NO_ADAPTER_MESSAGE =
  'webgpu backend: no WebGPU adapter found. In Node this needs a Vulkan driver: on Debian/Ubuntu ' +
  '`apt-get install libvulkan1 mesa-vulkan-drivers` (lavapipe, a CPU driver, is enough; Debian bookworm ' +
  'needs Mesa >= 23 from bookworm-backports, see .ci/webgpu-deps.sh), or a GPU vendor driver. ' +
  'In a browser, use one with WebGPU enabled.';

/** Per-dispatch scalars (shapes, strides, flags) as 32-bit words. */
export class Params {
  readonly words = new Uint32Array(MAX_PARAM_WORDS);
  private readonly ints = new Int32Array(this.words.buffer);
  private readonly floats = new Float32Array(this.words.buffer);
  length = 0;

  private next(): number {
    if (this.length === MAX_PARAM_WORDS) throw new Error(`webgpu: parameter block over ${MAX_PARAM_WORDS} words`);
    return this.length++;
  }
  u32(...values: number[]): this {
    for (const v of values) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`webgpu: parameter ${v} is not a u32`);
      this.words[this.next()] = v;
    }
    return this;
  }
  i32(...values: number[]): this {
    for (const v of values) {
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new Error(`webgpu: parameter ${v} is not an i32`);
      this.ints[this.next()] = v;
    }
    return this;
  }
  f32(value: number): this {
    this.floats[this.next()] = value;
    return this;
  }
}

export interface Dispatch {
  readonly kernel: Kernel;
  readonly params: Params;
  /** [binding number, buffer] for every binding the entry point uses, besides 0 (the parameters). */
  readonly bindings: readonly (readonly [number, GPUBuffer])[];
  /** [binding number, bytes] of the family's schema record (packWgsl), bound as a uniform. */
  readonly record?: readonly [number, ArrayBuffer];
  readonly workgroups: readonly [number, number, number];
}

// One Dawn instance per process, created on first use and never dropped:
// Dawn frees the instance when the object returned by create() is collected,
// which takes live devices down with it (and dropping it has been seen to
// segfault, dawn-gpu/node-webgpu#18). Node still exits when work is done.
let nodeGpu: Promise<GPU> | undefined;

async function locateGpu(): Promise<GPU> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu) return browserGpu;
  nodeGpu ??= import('webgpu').then(
    (dawn) => dawn.create([]),
    (e: unknown) => {
      throw new Error(`webgpu backend: the 'webgpu' npm package (Dawn for Node) could not be loaded ` +
        `(${e instanceof Error ? e.message : String(e)}); install it with \`npm install webgpu\`.`);
    });
  return nodeGpu;
}

export class GpuRuntime {
  readonly limits: Readonly<Record<(typeof REQUESTED_LIMITS)[number], number>>;
  /** A float32 [1.0]: bound where a kernel's optional input is absent. */
  readonly ones: GPUBuffer;
  /** u32 [count, first bad index, its op's slot in indexCheckOps, extent]: written by index.wgsl. */
  readonly indexErrors: GPUBuffer;
  /** The ops whose index kernels ran since the last check (a slot each, reused by name). */
  private indexCheckOps: string[] = [];

  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>();
  private readonly arenaHost = new Uint8Array(ARENA_BYTES);
  private readonly arena: GPUBuffer;
  private readonly slotAlignment: number;
  private arenaUsed = 0;

  private encoder: GPUCommandEncoder | null = null;
  private batchOps: string[] = [];
  /** Buffers the unsubmitted batch uses: writing or destroying them must wait for the submit. */
  private batchBuffers = new Set<GPUBuffer>();
  private destroyAfterSubmit: GPUBuffer[] = [];

  private readonly scopesInFlight = new Set<Promise<void>>();
  private firstError: Error | null = null;
  private laterErrors = 0;
  private lostMessage: string | null = null;
  private destroyed = false;

  private constructor(
    // Held for the device's whole life (see nodeGpu).
    readonly gpu: GPU,
    readonly device: GPUDevice,
  ) {
    const limits: Record<string, number> = {};
    for (const name of REQUESTED_LIMITS) limits[name] = device.limits[name];
    this.limits = limits as GpuRuntime['limits'];
    this.slotAlignment = Math.max(device.limits.minStorageBufferOffsetAlignment,
      device.limits.minUniformBufferOffsetAlignment);
    void device.lost.then((info) => {
      if (!this.destroyed) this.lostMessage = `webgpu device lost (${info.reason}): ${info.message}`;
    });
    device.addEventListener('uncapturederror', (event) => {
      this.recordError('an unscoped call', (event as GPUUncapturedErrorEvent).error);
    });
    this.arena = device.createBuffer({
      label: 'tessera params', size: ARENA_BYTES, usage: USAGE_STORAGE | USAGE_UNIFORM | USAGE_COPY_DST,
    });
    this.indexErrors = device.createBuffer({ label: 'tessera index errors', size: INDEX_ERROR_BYTES, usage: USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST });
    this.ones = device.createBuffer({ label: 'tessera ones', size: 4, usage: USAGE_STORAGE, mappedAtCreation: true });
    new Float32Array(this.ones.getMappedRange()).fill(1);
    this.ones.unmap();
  }

  static async create(): Promise<GpuRuntime> {
    const gpu = await locateGpu();
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error(NO_ADAPTER_MESSAGE);
    const requiredLimits: Record<string, number> = {};
    for (const name of REQUESTED_LIMITS) {
      const have = adapter.limits[name];
      const need = KERNEL_NEEDS[name] ?? 0;
      if (have < need) throw new Error(`webgpu backend: the adapter's ${name} is ${have}; the kernels need ${need}`);
      requiredLimits[name] = have;
    }
    const device = await adapter.requestDevice({ label: 'tessera', requiredLimits });
    return new GpuRuntime(gpu, device);
  }

  // ---- storage ----

  createStorage(bytes: number, label: string): GPUBuffer {
    this.checkUsable(label);
    // WebGPU cannot bind empty buffers, so empty storage still takes 4 bytes.
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    return this.scoped(`alloc (${label})`, () =>
      this.device.createBuffer({ label, size, usage: USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST }));
  }

  release(buffer: GPUBuffer): void {
    if (this.destroyed) return;
    if (this.batchBuffers.has(buffer)) this.destroyAfterSubmit.push(buffer);
    else buffer.destroy();
  }

  write(buffer: GPUBuffer, data: ArrayBufferView): void {
    this.checkUsable('write');
    // Queue writes run before anything still unsubmitted, so a pending op that
    // uses this buffer must be submitted first to see the old contents.
    if (this.batchBuffers.has(buffer)) this.flush();
    if (data.byteLength === 0) return;
    this.scoped('write', () => this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength));
  }

  /** Copies `bytes` from the start of buffer to the host, after all recorded work. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.checkUsable('read');
    if (bytes === 0) {
      await this.sync();
      return new ArrayBuffer(0);
    }
    // The index-error words travel after the result, in the same readback.
    const checked = this.indexCheckOps.length > 0;
    const errorsAt = Math.ceil(bytes / 8) * 8; // getMappedRange offsets are multiples of 8
    const total = checked ? errorsAt + INDEX_ERROR_BYTES : bytes;
    const staging = this.scoped('read', () =>
      this.device.createBuffer({ label: 'tessera readback', size: total, usage: USAGE_MAP_READ | USAGE_COPY_DST }));
    try {
      this.scoped('read', () => {
        this.recorder().copyBufferToBuffer(buffer, 0, staging, 0, bytes);
        if (checked) this.recorder().copyBufferToBuffer(this.indexErrors, 0, staging, errorsAt, INDEX_ERROR_BYTES);
      });
      this.batchOps.push('read');
      const ops = this.takeIndexChecks();
      this.flush();
      let copy: ArrayBuffer | null = null;
      let indexWords: Uint32Array | null = null;
      try {
        await staging.mapAsync(MAP_MODE_READ);
        copy = staging.getMappedRange(0, bytes).slice(0);
        if (checked) indexWords = new Uint32Array(staging.getMappedRange(errorsAt, INDEX_ERROR_BYTES).slice(0));
        staging.unmap();
      } catch (e) {
        // A failed map is explained by the op error found below, if any.
        await this.throwPendingErrors();
        throw new Error(`webgpu read: mapping the result failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      await this.throwPendingErrors();
      if (indexWords) this.throwIndexError(indexWords, ops);
      return copy;
    } finally {
      staging.destroy();
    }
  }

  /** The slot of `op` in the index checks pending since the last sync or read (see index.wgsl). */
  indexCheckSlot(op: string): number {
    const at = this.indexCheckOps.indexOf(op);
    if (at >= 0) return at;
    this.indexCheckOps.push(op);
    return this.indexCheckOps.length - 1;
  }

  /** The pending checks' op names; records the clearing of the flag after the work that may set it. */
  private takeIndexChecks(): string[] {
    const ops = this.indexCheckOps;
    if (ops.length === 0) return ops;
    this.indexCheckOps = [];
    this.scoped('index check', () => this.recorder().clearBuffer(this.indexErrors, 0, INDEX_ERROR_BYTES));
    return ops;
  }

  private throwIndexError(words: Uint32Array, ops: readonly string[]): void {
    const [count, raw, slot, extent] = words;
    if (count === 0) return;
    const op = ops[slot] ?? 'an index op';
    const others = count > 1 ? ` (${count - 1} more out-of-range ${count === 2 ? 'index' : 'indices'})` : '';
    throw new Error(`${op}: index ${raw | 0} is outside [0, ${extent}) (webgpu; found by the kernel, reported at ` +
      `this read or sync)${others}`);
  }

  async sync(): Promise<void> {
    this.checkUsable('sync');
    if (this.indexCheckOps.length > 0) {
      await this.read(this.indexErrors, INDEX_ERROR_BYTES); // checks the flag on the way
      return;
    }
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.throwPendingErrors();
  }

  // ---- kernels ----

  /** Records one op's dispatches as a compute pass labelled `op`. */
  run(op: string, dispatches: readonly Dispatch[]): void {
    this.checkUsable(op);
    if (dispatches.length === 0) return;
    const needed = dispatches.reduce((sum, d) =>
      sum + this.slotBytes(d.params.length * 4) + (d.record ? this.slotBytes(d.record[1].byteLength) : 0), 0);
    if (needed > ARENA_BYTES) throw new Error(`webgpu ${op}: ${dispatches.length} dispatches do not fit one batch`);
    if (this.arenaUsed + needed > ARENA_BYTES) this.flush();
    this.scoped(op, () => {
      const pass = this.recorder().beginComputePass({ label: op });
      for (const d of dispatches) {
        const { pipeline, layout } = this.pipeline(d.kernel, op);
        const paramBytes = new Uint8Array(d.params.words.buffer, 0, d.params.length * 4);
        const entries: GPUBindGroupEntry[] = [
          { binding: 0, resource: { buffer: this.arena, offset: this.place(paramBytes), size: paramBytes.byteLength } },
        ];
        if (d.record) {
          const [binding, bytes] = d.record;
          entries.push({ binding, resource: { buffer: this.arena, offset: this.place(new Uint8Array(bytes)), size: bytes.byteLength } });
        }
        for (const [binding, buffer] of d.bindings) {
          entries.push({ binding, resource: { buffer } });
          this.batchBuffers.add(buffer);
        }
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, this.device.createBindGroup({ label: op, layout, entries }));
        pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      }
      pass.end();
    });
    this.batchOps.push(op);
    if (this.batchOps.length >= MAX_OPS_PER_BATCH) this.flush();
  }

  /** [x, y, 1] workgroups covering `groups` in a row, split over y past the per-dimension limit. */
  grid(groups: number, op: string): [number, number, number] {
    const perDimension = this.limits.maxComputeWorkgroupsPerDimension;
    const x = Math.min(groups, perDimension);
    const y = Math.ceil(groups / Math.max(x, 1));
    if (y > perDimension) throw new Error(`webgpu ${op}: ${groups} workgroups exceed the device's grid`);
    return [x, y, 1];
  }

  /** Submits the recorded batch. */
  flush(): void {
    if (!this.encoder) return;
    const encoder = this.encoder;
    const ops = this.batchOps;
    this.encoder = null;
    this.batchOps = [];
    this.batchBuffers = new Set();
    const label = `the batch of ${ops.length} ops [${[...new Set(ops)].join(', ')}]`;
    this.scoped(label, () => {
      if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaHost, 0, this.arenaUsed);
      this.device.queue.submit([encoder.finish()]);
    });
    this.arenaUsed = 0;
    // Destroying after the submit is safe: the memory goes once the GPU is done with it.
    for (const buffer of this.destroyAfterSubmit) buffer.destroy();
    this.destroyAfterSubmit = [];
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.encoder = null;
    this.device.destroy();
  }

  // ---- internals ----

  private checkUsable(op: string): void {
    if (this.destroyed) throw new Error(`webgpu ${op}: the backend was destroyed`);
    if (this.lostMessage) throw new Error(`webgpu ${op}: ${this.lostMessage}`);
  }

  private recorder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder({ label: 'tessera batch' });
    return this.encoder;
  }

  private pipeline(kernel: Kernel, op: string): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    const key = kernelKey(kernel);
    let entry = this.pipelines.get(key);
    if (!entry) {
      const label = `${kernel.families.join('+')}:${kernel.entry}`;
      const module = this.device.createShaderModule({ label, code: moduleSource(kernel) });
      const pipeline = this.device.createComputePipeline({
        label: `${label} (first used by ${op})`,
        layout: 'auto',
        compute: { module, entryPoint: kernel.entry },
      });
      entry = { pipeline, layout: pipeline.getBindGroupLayout(0) };
      this.pipelines.set(key, entry);
    }
    return entry;
  }

  private slotBytes(bytes: number): number {
    return Math.ceil(Math.max(bytes, 4) / this.slotAlignment) * this.slotAlignment;
  }

  /** Copies bytes into the next arena slot; returns its offset. */
  private place(bytes: Uint8Array): number {
    const offset = this.arenaUsed;
    this.arenaHost.set(bytes, offset);
    this.arenaUsed += this.slotBytes(bytes.byteLength);
    return offset;
  }

  /** Runs `body` inside validation, out-of-memory and internal error scopes attributed to `op`. */
  private scoped<T>(op: string, body: () => T): T {
    const filters: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];
    for (const filter of filters) this.device.pushErrorScope(filter);
    try {
      return body();
    } finally {
      for (let i = 0; i < filters.length; i++) {
        const settled: Promise<void> = this.device.popErrorScope().then(
          (error) => { if (error) this.recordError(op, error); },
          (e: unknown) => { this.recordError(op, e instanceof Error ? e : new Error(String(e))); },
        ).finally(() => this.scopesInFlight.delete(settled));
        this.scopesInFlight.add(settled);
      }
    }
  }

  private recordError(op: string, error: GPUError | Error): void {
    if (this.firstError) { this.laterErrors++; return; }
    const kind = error.constructor?.name ?? 'GPUError';
    this.firstError = new Error(`webgpu ${op} failed (${kind}): ${error.message}`);
  }

  private async throwPendingErrors(): Promise<void> {
    while (this.scopesInFlight.size > 0) await Promise.all([...this.scopesInFlight]);
    const error = this.firstError;
    if (!error) return;
    if (this.laterErrors > 0) error.message += ` (and ${this.laterErrors} later errors)`;
    this.firstError = null;
    this.laterErrors = 0;
    throw error;
  }
}
