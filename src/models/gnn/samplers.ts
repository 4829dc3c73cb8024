// Training-set samplers of the SR-GNN experiments (Zhu et al., NeurIPS 2021):
// an IID sample of labelled nodes per class, and the "localized" biased samples
// that pick, per class, the nodes nearest to one random seed of that class.
// Labels: class ids 0..C-1, -1 for an unlabelled node (never picked).
// Every draw comes from the given `Rng`, so a seed reproduces a sample.

import type * as T from '../../index.js';
import type { FloatArray } from './cholesky.js';
import { checkPushArguments, degrees, pushFromSeed } from './ppr.js';

/** Candidate nodes: a count k means nodes 0..k-1, an array lists node ids. */
export type CandidatePool = number | Int32Array;

/** The candidate pools of the SR-GNN reference code for the Planetoid datasets
 *  (the first nodes in Planetoid order). */
export const SRGNN_CANDIDATE_POOL = { cora: 1500, citeseer: 1000, pubmed: 10000 } as const;

export interface SamplerOptions {
  rng: T.Rng;
  /** Nodes per class (default 20). A class with fewer candidates gives all of them. */
  perClass?: number;
  /** Where training nodes (and biased seeds) may come from (default: every node). */
  pool?: CandidatePool;
}

/** Candidates grouped by class (ascending ids); classes 0..max label. */
function candidatesByClass(labels: Int32Array, pool: CandidatePool | undefined, where: string): number[][] {
  const n = labels.length;
  let maxLabel = -1;
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (c < -1) throw new Error(`${where}: label ${c} of node ${i} is invalid (classes are >= 0, -1 marks unlabelled)`);
    if (c > maxLabel) maxLabel = c;
  }
  const byClass: number[][] = Array.from({ length: maxLabel + 1 }, () => []);
  const take = (i: number): void => { if (labels[i] >= 0) byClass[labels[i]].push(i); };
  if (pool === undefined) {
    for (let i = 0; i < n; i++) take(i);
  } else if (typeof pool === 'number') {
    if (!Number.isInteger(pool) || pool < 0 || pool > n) throw new Error(`${where}: pool size ${pool} outside [0, ${n}]`);
    for (let i = 0; i < pool; i++) take(i);
  } else {
    const inPool = new Uint8Array(n);
    for (const i of pool) {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`${where}: pool node ${i} outside [0, ${n})`);
      inPool[i] = 1;
    }
    for (let i = 0; i < n; i++) if (inPool[i]) take(i);
  }
  return byClass;
}

function perClassOf(options: SamplerOptions, where: string): number {
  const k = options.perClass ?? 20;
  if (!Number.isInteger(k) || k < 1) throw new Error(`${where}: perClass must be a positive integer, got ${k}`);
  return k;
}

/** IID sample: per class, `perClass` distinct candidates drawn uniformly. Output grouped by class. */
export function sampleIid(labels: Int32Array, options: SamplerOptions): Int32Array {
  const where = 'sampleIid';
  const k = perClassOf(options, where);
  const out: number[] = [];
  for (const members of candidatesByClass(labels, options.pool, where)) {
    const take = Math.min(k, members.length);
    // Partial Fisher-Yates: the first `take` slots become a uniform draw without replacement.
    for (let i = 0; i < take; i++) {
      const j = i + options.rng.int(members.length - i);
      const t = members[i]; members[i] = members[j]; members[j] = t;
      out.push(members[i]);
    }
  }
  return Int32Array.from(out);
}

/** Indices of `scores` ordered by ascending score, ties by ascending id. */
function rankBy(ids: number[], scores: Float64Array): number[] {
  const order = ids.map((_, k) => k);
  order.sort((a, b) => scores[a] - scores[b] || ids[a] - ids[b]);
  return order.map((k) => ids[k]);
}

/**
 * Biased (localized) sample with exact PPR, as the SR-GNN reference: per class,
 * one seed drawn uniformly from the class's candidates, then the `perClass`
 * candidates of that class nearest to it in squared Euclidean distance between
 * rows of the PPR matrix (the reference uses restart alpha = 0.01). The seed is a
 * candidate at distance 0, so it is always part of its class's sample.
 * `ppr` is dense row-major n x n (from `exactPpr`), n = labels.length.
 * Output grouped by class, each class ordered by distance.
 */
export function sampleBiasedPpr(ppr: FloatArray, labels: Int32Array, options: SamplerOptions): Int32Array {
  const where = 'sampleBiasedPpr';
  const k = perClassOf(options, where);
  const n = labels.length;
  if (ppr.length !== n * n) throw new Error(`${where}: PPR matrix has ${ppr.length} elements, expected ${n} x ${n} for ${n} labels`);
  const out: number[] = [];
  for (const members of candidatesByClass(labels, options.pool, where)) {
    if (members.length === 0) continue;
    const seed = members[options.rng.int(members.length)];
    const dist = new Float64Array(members.length);
    const seedRow = seed * n;
    for (let m = 0; m < members.length; m++) {
      const row = members[m] * n;
      let s = 0;
      for (let j = 0; j < n; j++) { const t = ppr[seedRow + j] - ppr[row + j]; s += t * t; }
      dist[m] = s;
    }
    out.push(...rankBy(members, dist).slice(0, k));
  }
  return Int32Array.from(out);
}

export interface PushSamplerOptions extends SamplerOptions {
  /** Restart probability of the push PPR (default 0.1, the reference's large-graph setting). */
  alpha?: number;
  /** Push tolerance (default 0.005, the paper's PPR-S setting). */
  epsilon?: number;
}

/**
 * Scalable biased sample (the paper's PPR-S): per class, seeds of the class are
 * visited in random order; each seed's approximate PPR vector (`pushPpr` on `graph`
 * as given) ranks its support by score, and the top-ranked candidates of the class
 * not yet taken are added until the class has `perClass` nodes. Usually the first
 * seed fills the class; later seeds only top up classes whose first seed's support
 * was too small. Output grouped by class.
 */
export function sampleBiasedPush(adjacency: T.Csr, labels: Int32Array, options: PushSamplerOptions): Int32Array {
  const where = 'sampleBiasedPush';
  const k = perClassOf(options, where);
  const alpha = options.alpha ?? 0.1;
  const epsilon = options.epsilon ?? 0.005;
  const graph = checkPushArguments(adjacency, alpha, epsilon, where);
  if (graph.n !== labels.length) throw new Error(`${where}: graph has ${graph.n} nodes but ${labels.length} labels`);
  const deg = degrees(graph);
  const byClass = candidatesByClass(labels, options.pool, where);
  const isCandidate = new Uint8Array(graph.n);
  for (const members of byClass) for (const i of members) isCandidate[i] = 1;
  const out: number[] = [];
  for (let c = 0; c < byClass.length; c++) {
    const members = byClass[c];
    const want = Math.min(k, members.length);
    const taken = new Set<number>();
    const seedOrder = options.rng.permutation(members.length);
    for (let s = 0; s < seedOrder.length && taken.size < want; s++) {
      const { ids, values } = pushFromSeed(graph, deg, members[seedOrder[s]], alpha, epsilon);
      const negated = values.map((v) => -v); // rank by descending score
      for (const i of rankBy(Array.from(ids), negated)) {
        if (taken.size === want) break;
        if (labels[i] === c && isCandidate[i] && !taken.has(i)) { taken.add(i); out.push(i); }
      }
    }
  }
  return Int32Array.from(out);
}
