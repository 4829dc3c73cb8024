// Dataset / DataLoader on plain typed arrays. A dataset is anything with a
// length and a get(i); the loader groups indices into batches (optionally in a
// seeded shuffled order) and collates the items of each batch.

import { Rng } from '../rng.js';

export interface Dataset<T> {
  readonly length: number;
  get(i: number): T;
}

export type NumericArray =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array
  | Uint8Array | Uint16Array | Uint32Array;

/** A dense row-major array with its shape: what collation produces. */
export interface Shaped<A extends NumericArray = NumericArray> {
  data: A;
  shape: number[];
}

/** What `defaultCollate` makes of a batch of T: every leaf becomes a Shaped with a leading batch dimension. */
export type Collated<T> =
  T extends number ? Shaped<Float64Array>
    : T extends NumericArray ? Shaped<T>
    : T extends Shaped<infer A> ? Shaped<A>
    : T extends readonly unknown[] ? { [K in keyof T]: Collated<T[K]> }
    : T extends object ? { [K in keyof T]: Collated<T[K]> }
    : never;

type NumericArrayConstructor = { new(n: number): NumericArray };

function isNumericArray(v: unknown): v is NumericArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
}

function isShaped(v: unknown): v is Shaped {
  return typeof v === 'object' && v !== null && isNumericArray((v as Shaped).data) && Array.isArray((v as Shaped).shape);
}

/**
 * Stacks a batch: numbers -> Float64Array [B] (lossless; cast when making
 * tensors), typed arrays of length L -> same type [B, L], Shaped items of
 * shape S -> [B, ...S]; arrays and plain objects are collated per element / key.
 */
export function defaultCollate<T>(items: T[]): Collated<T> {
  return collateAt(items, 'item') as Collated<T>;
}

function collateAt(items: unknown[], path: string): unknown {
  if (items.length === 0) throw new Error('defaultCollate: empty batch');
  const first = items[0];
  if (typeof first === 'number') {
    const out = new Float64Array(items.length);
    items.forEach((v, b) => {
      if (typeof v !== 'number') throw mismatch(path, b, 'a number', v);
      out[b] = v;
    });
    return { data: out, shape: [items.length] };
  }
  if (isNumericArray(first) || isShaped(first)) {
    const shape = isShaped(first) ? first.shape : [first.length];
    const size = shape.reduce((a, b) => a * b, 1);
    const ctor = (isShaped(first) ? first.data : first).constructor as NumericArrayConstructor;
    const out = new ctor(items.length * size);
    items.forEach((v, b) => {
      const data = isShaped(v) ? v.data : v;
      if (!isNumericArray(data) || data.constructor !== ctor) throw mismatch(path, b, `a ${ctor.name}`, v);
      const itemShape = isShaped(v) ? v.shape : [data.length];
      if (itemShape.length !== shape.length || itemShape.some((d, i) => d !== shape[i])) {
        throw new Error(`defaultCollate: ${path} of batch element ${b} has shape [${itemShape}], element 0 has [${shape}]`);
      }
      if (data.length !== size) throw new Error(`defaultCollate: ${path} of batch element ${b} has ${data.length} values for shape [${shape}]`);
      out.set(data, b * size);
    });
    return { data: out, shape: [items.length, ...shape] };
  }
  if (Array.isArray(first)) {
    return first.map((_, k) => collateAt(items.map((v, b) => {
      if (!Array.isArray(v) || v.length !== first.length) throw mismatch(path, b, `an array of length ${first.length}`, v);
      return v[k];
    }), `${path}[${k}]`));
  }
  if (typeof first === 'object' && first !== null && Object.getPrototypeOf(first) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(first)) {
      out[key] = collateAt(items.map((v, b) => {
        if (typeof v !== 'object' || v === null || !(key in v)) throw mismatch(path, b, `an object with key '${key}'`, v);
        return (v as Record<string, unknown>)[key];
      }), `${path}.${key}`);
    }
    return out;
  }
  throw new Error(`defaultCollate: cannot stack ${path} of type ${describe(first)}; pass a collate function`);
}

function describe(v: unknown): string {
  return v === null ? 'null' : typeof v === 'object' ? (v as object).constructor?.name ?? 'object' : typeof v;
}

function mismatch(path: string, b: number, expected: string, got: unknown): Error {
  return new Error(`defaultCollate: ${path} of batch element ${b} is ${describe(got)}, expected ${expected} like element 0`);
}

export interface DataLoaderOptions<T, B> {
  dataset: Dataset<T>;
  batchSize: number;
  /** Visit items in a fresh seeded permutation each epoch. Default false. */
  shuffle?: boolean;
  /** Seed of the shuffling; epoch e of seed s is the same permutation on every run. Default 0. */
  seed?: number;
  /** Skip the last batch when it is smaller than batchSize. Default false. */
  dropLast?: boolean;
  collate?: (items: T[]) => B;
}

/**
 * Iterating a DataLoader yields one epoch of batches; each new iteration is
 * the next epoch (a new permutation when shuffling). `epoch(e)` replays a given
 * epoch, for resuming.
 */
export class DataLoader<T, B = Collated<T>> implements Iterable<B> {
  readonly dataset: Dataset<T>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  private readonly collate: (items: T[]) => B;
  private nextEpoch = 0;

  constructor(options: DataLoaderOptions<T, B>) {
    const { dataset, batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`DataLoader: batchSize must be an integer >= 1, got ${batchSize}`);
    if (!Number.isInteger(dataset.length) || dataset.length < 0) throw new Error(`DataLoader: dataset.length must be a non-negative integer, got ${dataset.length}`);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.seed = options.seed ?? 0;
    this.dropLast = options.dropLast ?? false;
    this.collate = options.collate ?? (defaultCollate as unknown as (items: T[]) => B);
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Item indices of epoch e, in visiting order. */
  order(e: number): Int32Array {
    const n = this.dataset.length;
    if (!this.shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    // Each epoch gets its own stream so that epoch e can be replayed alone.
    return new Rng((Math.imul(this.seed, 0x9e3779b1) ^ Math.imul(e + 1, 0x85ebca6b)) | 0).permutation(n);
  }

  *epoch(e: number): Generator<B> {
    this.nextEpoch = e + 1;
    const order = this.order(e);
    for (let b = 0; b < this.length; b++) {
      const idx = order.subarray(b * this.batchSize, (b + 1) * this.batchSize);
      yield this.collate(Array.from(idx, (i) => this.dataset.get(i)));
    }
  }

  [Symbol.iterator](): Iterator<B> { return this.epoch(this.nextEpoch++); }
}

/**
 * A dataset over the rows of several arrays of equal leading dimension n:
 * item i maps each column to its row i, as a Shaped with the remaining shape
 * (shape [] for a column of shape [n]).
 */
export function rowDataset<C extends Record<string, Shaped>>(columns: C): Dataset<{ [K in keyof C]: Shaped<C[K]['data']> }> {
  const names = Object.keys(columns);
  if (names.length === 0) throw new Error('rowDataset: no columns');
  const n = columns[names[0]].shape[0];
  for (const name of names) {
    const { data, shape } = columns[name];
    if (shape.length === 0 || shape[0] !== n) throw new Error(`rowDataset: column '${name}' has shape [${shape}], expected leading dimension ${n} like '${names[0]}'`);
    if (data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`rowDataset: column '${name}' has ${data.length} values for shape [${shape}]`);
  }
  return {
    length: n,
    get(i: number) {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`rowDataset: index ${i} outside [0, ${n})`);
      const item: Record<string, Shaped> = {};
      for (const name of names) {
        const { data, shape } = columns[name];
        const rest = shape.slice(1);
        const size = rest.reduce((a, b) => a * b, 1);
        item[name] = { data: data.subarray(i * size, (i + 1) * size), shape: rest };
      }
      return item as { [K in keyof C]: Shaped<C[K]['data']> };
    },
  };
}

/** The items of `dataset` at `indices` (e.g. a train split), in that order. */
export function subset<T>(dataset: Dataset<T>, indices: ArrayLike<number>): Dataset<T> {
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= dataset.length) throw new RangeError(`subset: index ${i} (position ${k}) outside [0, ${dataset.length})`);
  }
  return {
    length: indices.length,
    get(k: number) {
      if (!Number.isInteger(k) || k < 0 || k >= indices.length) throw new RangeError(`subset: index ${k} outside [0, ${indices.length})`);
      return dataset.get(indices[k]);
    },
  };
}
