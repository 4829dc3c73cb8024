// An electricity-like panel made in code (seeded): hourly load of many items,
// each with a static category that sets its daily and weekly profile and a
// static size that sets its level, with noise. Made for cold-start forecasting:
// an item's static features say much of what its series looks like.

import { Rng } from '../rng.js';

export interface LoadProfileOptions {
  /** Items (default 370, as UCI electricity). */
  items?: number;
  /** Categories, each with its own daily/weekly profile (default 6). */
  categories?: number;
  /** Hours per series (default 6 weeks: 1008). */
  length?: number;
  /** Std of the log-scale AR(1) noise (default 0.15). */
  noise?: number;
  seed?: number;
}

export interface LoadProfileItem {
  id: string;
  /** Hourly values, starting at `start`. */
  target: Float32Array;
  /** UTC ms of the first hour (2014-01-06 00:00, a Monday). */
  start: number;
  /** [category]. */
  staticCat: number[];
  /** [log10 size], the level's static predictor. */
  staticReal: number[];
  size: number;
}

export interface LoadProfilePanel {
  freq: 'H';
  predictionLength: number;
  cardinality: number[];
  items: LoadProfileItem[];
}

const KNOWN = ['items', 'categories', 'length', 'noise', 'seed'];

/**
 * Item i: y_t = size * profile_c(t) * exp(e_t), e_t an AR(1) (phi 0.8) with stationary std `noise`;
 * size log-uniform on [10, 1000]; profile_c = daily shape (two harmonics with the
 * category's amplitudes and phases) times the category's weekday/weekend factor.
 */
export function loadProfiles(opts: LoadProfileOptions = {}): LoadProfilePanel {
  for (const key of Object.keys(opts)) if (!KNOWN.includes(key)) throw new Error(`loadProfiles: unknown option '${key}'`);
  const items = opts.items ?? 370, categories = opts.categories ?? 6, length = opts.length ?? 1008, noise = opts.noise ?? 0.15;
  for (const [name, v] of [['items', items], ['categories', categories], ['length', length]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`loadProfiles: ${name} must be a positive integer, got ${v}`);
  }
  if (!(noise >= 0)) throw new Error(`loadProfiles: noise must be >= 0, got ${noise}`);
  const rng = new Rng(opts.seed ?? 0);
  const profiles = Array.from({ length: categories }, () => {
    const a1 = 0.2 + 0.5 * rng.uniform(), a2 = 0.3 * rng.uniform();
    const p1 = 24 * rng.uniform(), p2 = 12 * rng.uniform();
    const weekend = 0.4 + 0.9 * rng.uniform();
    const daily = Float64Array.from({ length: 24 }, (_, h) =>
      Math.max(0.05, 1 + a1 * Math.cos((2 * Math.PI * (h - p1)) / 24) + a2 * Math.cos((4 * Math.PI * (h - p2)) / 24)));
    return { daily, weekend };
  });
  const start = Date.UTC(2014, 0, 6);
  const phi = 0.8, innovation = noise * Math.sqrt(1 - phi * phi);
  const out: LoadProfileItem[] = [];
  for (let i = 0; i < items; i++) {
    const category = rng.int(categories);
    const logSize = 1 + 2 * rng.uniform();
    const size = 10 ** logSize;
    const { daily, weekend } = profiles[category];
    const target = new Float32Array(length);
    let e = noise * rng.normal();
    for (let t = 0; t < length; t++) {
      const dayOfWeek = Math.floor(t / 24) % 7; // 0 = Monday
      target[t] = size * daily[t % 24] * (dayOfWeek >= 5 ? weekend : 1) * Math.exp(e);
      e = phi * e + innovation * rng.normal();
    }
    out.push({ id: `item${i}`, target, start, staticCat: [category], staticReal: [logSize], size });
  }
  return { freq: 'H', predictionLength: 24, cardinality: [categories], items: out };
}
