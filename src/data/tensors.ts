// From collated typed arrays (src/data/loader.ts) to Tensors: a collate for
// DataLoader that yields batches of tensors on a chosen backend.
import type { DType } from '../backend/interface.js';
import { Tensor } from '../tensor.js';
import { fromArray } from '../ops/creation.js';
import { defaultCollate, type Collated, type NumericArray, type Shaped } from './loader.js';

/** A collated batch with every Shaped leaf replaced by a Tensor. */
export type Tensorized<C> =
  C extends Shaped ? Tensor
    : C extends readonly unknown[] ? { [K in keyof C]: Tensorized<C[K]> }
    : C extends object ? { [K in keyof C]: Tensorized<C[K]> }
    : never;

export interface ToTensorsOptions {
  /** Backend name; default the current backend. */
  backend?: string;
  /**
   * dtype per leaf path ('' for a bare leaf, 'label' for a key, 'pair.0' for an array element).
   * Default: float32 for float arrays (Float64Array, e.g. collated numbers, is rounded to float32),
   * int32 for integer arrays. An int32 leaf must hold integers that fit int32.
   */
  dtypes?: Record<string, DType>;
}

const INT_ARRAYS = [Int8Array, Int16Array, Int32Array, Uint8Array, Uint16Array, Uint32Array];

function isShaped(v: unknown): v is Shaped {
  return typeof v === 'object' && v !== null && ArrayBuffer.isView((v as Shaped).data) && Array.isArray((v as Shaped).shape);
}

function toInt32(path: string, data: NumericArray): Int32Array {
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new Error(`toTensors: '${path}' element ${i} is ${v}, which is not an int32 value`);
    }
    out[i] = v;
  }
  return out;
}

function leafTensor(path: string, leaf: Shaped, opts: ToTensorsOptions): Tensor {
  const isInt = INT_ARRAYS.some((c) => leaf.data instanceof c);
  const dtype = opts.dtypes?.[path] ?? (isInt ? 'int32' : 'float32');
  const data = dtype === 'int32' ? toInt32(path, leaf.data) : leaf.data instanceof Float32Array ? leaf.data : Float32Array.from(leaf.data);
  return fromArray(data, leaf.shape, { backend: opts.backend, dtype });
}

/** Turns every Shaped leaf of a collated batch into a Tensor (nested arrays and objects keep their structure). */
export function toTensors<C>(collated: C, opts: ToTensorsOptions = {}): Tensorized<C> {
  const unused = new Set(Object.keys(opts.dtypes ?? {}));
  const made: Tensor[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (isShaped(v)) { unused.delete(path); const t = leafTensor(path, v, opts); made.push(t); return t; }
    const child = (k: string | number) => (path === '' ? String(k) : `${path}.${k}`);
    if (Array.isArray(v)) return v.map((x, i) => walk(x, child(i)));
    if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, child(k))]));
    }
    throw new Error(`toTensors: '${path}' is ${v === null ? 'null' : typeof v}, not a collated array`);
  };
  try {
    const out = walk(collated, '');
    // A misspelt path would silently keep the default dtype.
    if (unused.size) throw new Error(`toTensors: dtypes names paths not in the batch: ${[...unused].map((p) => `'${p}'`).join(', ')}`);
    return out as Tensorized<C>;
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
}

/** A DataLoader collate: defaultCollate, then toTensors. */
export function tensorCollate<T>(opts: ToTensorsOptions = {}): (items: T[]) => Tensorized<Collated<T>> {
  return (items) => toTensors(defaultCollate(items), opts);
}
