// Creating tensors: from values, constants, ranges, and the seeded generator.
import type { Backend, DType } from '../backend/interface.js';
import { getBackend, backendByName } from '../backend/registry.js';
import { Tensor, emptyTensor, NestedArray } from '../tensor.js';
import { numel, fmtShape } from '../shape.js';
import { Rng, globalRng } from '../rng.js';
import { checkOptions } from './util.js';

export interface CreateOptions {
  dtype?: DType;
  /** Backend name; default the current backend. */
  backend?: string;
  requiresGrad?: boolean;
}

export function resolveBackend(opts?: { backend?: string }): Backend {
  return opts?.backend ? backendByName(opts.backend) : getBackend();
}

const CREATE_KEYS = ['dtype', 'backend', 'requiresGrad'];
const RANDOM_KEYS = [...CREATE_KEYS, 'generator'];
/** torch's keywords of creation ops that Tessera spells differently. */
const TORCH_NAMES = { requires_grad: 'requiresGrad', device: 'backend', size: 'the shape argument' };

/** Rejects unknown option keys (with the closest valid one suggested) and dtypes other than float32 / int32. */
function createOptions(op: string, opts: unknown, valid: readonly string[]): void {
  checkOptions(op, opts, valid, TORCH_NAMES);
  const dtype = (opts as { dtype?: unknown } | undefined)?.dtype;
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'int32') {
    throw new Error(`${op}: dtype must be 'float32' or 'int32', got ${JSON.stringify(dtype)}`);
  }
}

/** The options fromArray takes, out of a caller's checked options. */
const plain = (opts: CreateOptions): CreateOptions => ({ dtype: opts.dtype, backend: opts.backend, requiresGrad: opts.requiresGrad });

/** Elements a tensor may hold: kernels index with int32 (and WebGPU binds at most 2^32 bytes anyway). */
export const MAX_ELEMENTS = 2 ** 31 - 1;
const DTYPES: readonly string[] = ['float32', 'int32'];

/** Refuses a bad shape before anything is allocated. */
export function checkShape(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((s) => typeof s !== 'number' || !Number.isInteger(s) || s < 0)) {
    throw new Error(`${op}: shape must be a list of non-negative integers, got ${Array.isArray(shape) ? `[${shape.join(', ')}]` : String(shape)}`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > MAX_ELEMENTS) throw new Error(`${op}: shape ${fmtShape(shape)} has ${n} elements; a tensor holds at most 2^31 - 1`);
}

/** Refuses a dtype other than float32 and int32 (e.g. 'int64', 'float16'). */
export function checkDType(op: string, dtype: unknown): void {
  if (dtype !== undefined && !DTYPES.includes(dtype as string)) {
    throw new Error(`${op}: unknown dtype '${String(dtype)}'; Tessera has ${DTYPES.join(' and ')}`);
  }
}

/** A fresh tensor for `op`, whose allocation errors (e.g. larger than the device can bind) name the op. */
function allocate(op: string, backend: Backend, shape: readonly number[], dtype: DType): Tensor {
  try {
    return emptyTensor(backend, shape, dtype);
  } catch (e) {
    throw new Error(`${op}: ${(e as Error).message} (shape ${fmtShape(shape)} ${dtype} on ${backend.name})`, { cause: e });
  }
}

/** int32 values of `data`, refusing NaN, infinities and integers past int32 (which would wrap). */
function int32Values(op: string, data: ArrayLike<number>): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.trunc(data[i]);
    if (!(v >= -(2 ** 31) && v < 2 ** 31)) throw new Error(`${op}: value ${data[i]} at ${i} does not fit int32`);
    out[i] = v;
  }
  return out;
}

/** A dense tensor holding `data` (copied) with the given shape. */
export function fromArray(data: ArrayLike<number>, shape: readonly number[], opts: CreateOptions = {}): Tensor {
  createOptions('fromArray', opts, CREATE_KEYS);
  return fromArrayAs('fromArray', data, shape, opts);
}

function fromArrayAs(op: string, data: ArrayLike<number>, shape: readonly number[], opts: CreateOptions): Tensor {
  checkShape(op, shape);
  checkDType(op, opts.dtype);
  const dtype = opts.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
  if (data.length !== numel(shape)) {
    throw new Error(`${op}: ${data.length} values do not fill shape ${fmtShape(shape)} (${numel(shape)} elements)`);
  }
  const typed = dtype === 'int32'
    ? (data instanceof Int32Array ? data : int32Values(op, data))
    : (data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>));
  const backend = resolveBackend(opts);
  const t = allocate(op, backend, shape, dtype);
  backend.write(t.storage.buf!, typed);
  t.requiresGrad = !!opts.requiresGrad;
  return t;
}

function inferShape(v: NestedArray | ArrayLike<number>): number[] {
  const shape: number[] = [];
  let cur: unknown = v;
  while (Array.isArray(cur) || ArrayBuffer.isView(cur)) {
    shape.push((cur as ArrayLike<number>).length);
    cur = (cur as ArrayLike<unknown>)[0];
  }
  return shape;
}

/** Like torch.tensor: from a number, nested arrays or a typed array. */
export function tensor(values: NestedArray | Float32Array | Int32Array, opts: CreateOptions & { shape?: number[] } = {}): Tensor {
  createOptions('tensor', opts, [...CREATE_KEYS, 'shape']);
  const shape = opts.shape ?? inferShape(values);
  const flat: number[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') throw new Error(`tensor: ragged or non-numeric nested array (expected shape ${fmtShape(shape)})`);
      flat.push(v);
      return;
    }
    const arr = v as ArrayLike<unknown>;
    if (!arr || arr.length !== shape[depth]) throw new Error(`tensor: ragged nested array (expected shape ${fmtShape(shape)})`);
    for (let i = 0; i < arr.length; i++) walk(arr[i], depth + 1);
  };
  checkShape('tensor', shape);
  if (ArrayBuffer.isView(values)) return fromArrayAs('tensor', values as Float32Array | Int32Array, shape, plain(opts));
  walk(values, 0);
  return fromArrayAs('tensor', flat, shape, plain(opts));
}

export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  return fullAs('full', shape, value, opts);
}

function fullAs(op: string, shape: readonly number[], value: number, opts: CreateOptions): Tensor {
  createOptions(op, opts, CREATE_KEYS);
  checkShape(op, shape);
  checkDType(op, opts.dtype);
  const backend = resolveBackend(opts);
  const t = allocate(op, backend, shape, opts.dtype ?? 'float32');
  if (t.size > 0) backend.fill(t.storage.buf!, value);
  t.requiresGrad = !!opts.requiresGrad;
  return t;
}

export const zeros = (shape: readonly number[], opts: CreateOptions = {}): Tensor => fullAs('zeros', shape, 0, opts);
export const ones = (shape: readonly number[], opts: CreateOptions = {}): Tensor => fullAs('ones', shape, 1, opts);

export function fullLike(t: Tensor, value: number, opts: { dtype?: DType } = {}): Tensor {
  createOptions('fullLike', opts, ['dtype']);
  const out = allocate('fullLike', t.backend, t.shape, opts.dtype ?? t.dtype);
  if (out.size > 0) t.backend.fill(out.storage.buf!, value);
  return out;
}
export const zerosLike = (t: Tensor): Tensor => fullLike(t, 0);
export const onesLike = (t: Tensor): Tensor => fullLike(t, 1);

/** Values start, start + step, ... below end. int32 when all arguments are integers (as torch), else float32. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  createOptions('arange', opts, CREATE_KEYS);
  if (end === undefined) { end = start; start = 0; }
  if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step) || step === 0) {
    throw new Error(`arange: start, end and step must be finite and step non-zero (got ${start}, ${end}, ${step})`);
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  checkShape('arange', [n]);
  checkDType('arange', opts.dtype);
  const dtype = opts.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  const vals = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) vals[i] = start + i * step;
  return fromArrayAs('arange', vals, [n], { ...opts, dtype });
}

export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  createOptions('linspace', opts, CREATE_KEYS);
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`linspace: steps must be a non-negative integer, got ${steps}`);
  checkShape('linspace', [steps]);
  const vals = new Float32Array(steps);
  for (let i = 0; i < steps; i++) vals[i] = steps === 1 ? start : start + ((end - start) * i) / (steps - 1);
  return fromArrayAs('linspace', vals, [steps], opts);
}

export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  createOptions('eye', opts, CREATE_KEYS);
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(m) || m < 0) throw new Error(`eye: n and m must be non-negative integers, got ${n}, ${m}`);
  checkShape('eye', [n, m]);
  const vals = new Float32Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) vals[i * m + i] = 1;
  return fromArrayAs('eye', vals, [n, m], opts);
}

export interface RandomOptions extends CreateOptions {
  /** A generator of one's own; default the global one (seeded by manualSeed). */
  generator?: Rng;
}

function randomTensor(op: string, shape: readonly number[], opts: RandomOptions, draw: (g: Rng) => number): Tensor {
  checkShape(op, shape);
  checkDType(op, opts.dtype);
  const g = opts.generator ?? globalRng;
  const n = numel(shape);
  const vals = opts.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) vals[i] = draw(g);
  return fromArrayAs(op, vals, shape, plain(opts));
}

/** Uniform in [low, high). */
export function rand(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  createOptions('rand', opts, [...RANDOM_KEYS, 'low', 'high']);
  const lo = opts.low ?? 0, hi = opts.high ?? 1;
  return randomTensor('rand', shape, { ...opts, dtype: 'float32' }, (g) => lo + (hi - lo) * g.uniform());
}

export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  createOptions('randn', opts, [...RANDOM_KEYS, 'mean', 'std']);
  const mu = opts.mean ?? 0, sd = opts.std ?? 1;
  return randomTensor('randn', shape, { ...opts, dtype: 'float32' }, (g) => mu + sd * g.normal());
}

/** Integers uniform in [low, high), int32. */
export function randint(low: number, high: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  createOptions('randint', opts, RANDOM_KEYS);
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new Error(`randint: need integers low < high, got ${low}, ${high}`);
  }
  if (low < -(2 ** 31) || high > 2 ** 31) throw new Error(`randint: [${low}, ${high}) reaches past int32 ([-2^31, 2^31))`);
  return randomTensor('randint', shape, { ...opts, dtype: 'int32' }, (g) => low + g.int(high - low));
}
