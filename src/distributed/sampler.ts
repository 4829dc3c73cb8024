// Each rank's shard of a dataset, the same split on every rank for a given seed and epoch (the
// semantics of torch's DistributedSampler): the epoch's order (a seeded permutation when shuffling)
// is padded by wrapping around to a multiple of worldSize, and rank r takes positions r, r + worldSize, ...
import type { Dataset } from '../data/loader.js';
import { Rng } from '../rng.js';
import { rank as currentRank, worldSize as currentWorldSize } from './collectives.js';

export interface DistributedSamplerOptions {
  /** Default: this process's rank / world size. */
  rank?: number;
  worldSize?: number;
  /** A fresh seeded permutation each epoch. Default true. */
  shuffle?: boolean;
  /** Default 0; must be the same on every rank. */
  seed?: number;
  /** Drop the tail that does not divide evenly instead of padding it with repeated items. Default false. */
  dropLast?: boolean;
}

const SAMPLER_KEYS = new Set(['rank', 'worldSize', 'shuffle', 'seed', 'dropLast']);

export class DistributedSampler<T> implements Dataset<T> {
  readonly rank: number;
  readonly worldSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  private epochIndices: Int32Array;
  private currentEpoch = 0;

  /** A Dataset of this rank's items for the current epoch: pass it to a DataLoader (with shuffle: false). */
  constructor(readonly dataset: Dataset<T>, opts: DistributedSamplerOptions = {}) {
    for (const k of Object.keys(opts)) if (!SAMPLER_KEYS.has(k)) throw new Error(`DistributedSampler: unknown option '${k}' (known: ${[...SAMPLER_KEYS].join(', ')})`);
    this.worldSize = opts.worldSize ?? currentWorldSize();
    this.rank = opts.rank ?? currentRank();
    if (!Number.isInteger(this.worldSize) || this.worldSize < 1) throw new Error(`DistributedSampler: worldSize must be an integer >= 1, got ${this.worldSize}`);
    if (!Number.isInteger(this.rank) || this.rank < 0 || this.rank >= this.worldSize) throw new Error(`DistributedSampler: rank must be an integer in [0, ${this.worldSize}), got ${this.rank}`);
    this.shuffle = opts.shuffle ?? true;
    this.seed = opts.seed ?? 0;
    this.dropLast = opts.dropLast ?? false;
    if (dataset.length < this.worldSize && this.dropLast) throw new Error(`DistributedSampler: ${dataset.length} items cannot give ${this.worldSize} ranks one each with dropLast`);
    this.epochIndices = this.indices(0);
  }

  /** Dataset indices of this rank in epoch e, in visiting order. */
  indices(e: number): Int32Array {
    const n = this.dataset.length;
    const order = this.shuffle
      ? new Rng((Math.imul(this.seed, 0x9e3779b1) ^ Math.imul(e + 1, 0x85ebca6b)) | 0).permutation(n)
      : Int32Array.from({ length: n }, (_, i) => i);
    const perRank = this.dropLast ? Math.floor(n / this.worldSize) : Math.ceil(n / this.worldSize);
    const out = new Int32Array(perRank);
    for (let j = 0; j < perRank; j++) out[j] = order[(this.rank + j * this.worldSize) % n];
    return out;
  }

  /** Selects the shard of epoch e (call at the start of every epoch, as torch's set_epoch). */
  setEpoch(e: number): void {
    if (!Number.isInteger(e) || e < 0) throw new Error(`DistributedSampler.setEpoch: epoch must be a non-negative integer, got ${e}`);
    this.currentEpoch = e;
    this.epochIndices = this.indices(e);
  }

  get epoch(): number { return this.currentEpoch; }
  get length(): number { return this.epochIndices.length; }
  get(i: number): T {
    if (!Number.isInteger(i) || i < 0 || i >= this.epochIndices.length) throw new Error(`DistributedSampler.get: index ${i} outside [0, ${this.epochIndices.length})`);
    return this.dataset.get(this.epochIndices[i]);
  }
}
