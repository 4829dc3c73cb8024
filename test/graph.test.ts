// SR-GNN's graph preprocessing (tessera-tensor/models/gnn): the undirected adjacency,
// exact and push PPR, the training-set samplers and KMM instance weights.
// Graphs are the library's Csr; the oracles here use dense float64 arrays.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as T from '../src/index.js';
import {
  denseCholesky, denseCholeskySolve, exactPpr, kmmProblem, kmmWeights, pushPpr, sampleBiasedPpr, sampleBiasedPush,
  sampleIid, solveQp, undirectedAdjacency, SRGNN_CANDIDATE_POOL,
} from '../src/models/gnn/index.js';
import { qpKktResidual, qpObjective } from '../src/models/gnn/qp.js';

const { Rng } = T;
type Rng = T.Rng;
type Csr = T.Csr;

const close = (a: number, b: number, tol: number, what: string): void => {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);
};

/** Row sums of a Csr's host values, in float64. */
function hostDegrees(g: Csr): Float64Array {
  const { rowPtr, values } = g.hostArrays();
  return Float64Array.from({ length: g.rows }, (_, i) => {
    let s = 0;
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) s += values ? values[k] : 1;
    return s;
  });
}

/** Â = D^-1/2 (A + I) D^-1/2 as a dense row-major float64 matrix, D the degrees of A + I. */
function denseGcn(g: Csr): Float64Array {
  const n = g.rows;
  const { rowPtr, colIdx, values } = g.hostArrays();
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    a[i * n + i] += 1;
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) a[i * n + colIdx[k]] += values ? values[k] : 1;
  }
  const d = Float64Array.from({ length: n }, (_, i) => a.subarray(i * n, (i + 1) * n).reduce((x, y) => x + y, 0));
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] /= Math.sqrt(d[i] * d[j]);
  return a;
}

/** Π by the power series Π = alpha Σ_k ((1 - alpha) Â)^k, iterated to convergence (float64). */
function pprByPowerIteration(g: Csr, alpha: number): Float64Array {
  const n = g.rows;
  const a = denseGcn(g);
  let x = new Float64Array(n * n);
  for (let i = 0; i < n; i++) x[i * n + i] = alpha;
  for (let it = 0; it < 100000; it++) {
    const next = new Float64Array(n * n);
    for (let i = 0; i < n; i++) next[i * n + i] = alpha;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        const aik = (1 - alpha) * a[i * n + k];
        if (aik === 0) continue;
        for (let j = 0; j < n; j++) next[i * n + j] += aik * x[k * n + j];
      }
    }
    let change = 0;
    for (let i = 0; i < n * n; i++) change = Math.max(change, Math.abs(next[i] - x[i]));
    x = next;
    if (change < 1e-15) return x;
  }
  throw new Error('power iteration did not converge');
}

/** Random graph with hubs: a preferential-attachment tree plus random chords, and an extra small component. */
function randomGraph(n: number, chords: number, rng: Rng): Csr {
  const edges: number[] = [];
  const ends: number[] = [0];
  for (let v = 1; v < n - 3; v++) {
    const u = ends[rng.int(ends.length)];
    edges.push(u, v);
    ends.push(u, v);
  }
  for (let c = 0; c < chords; c++) edges.push(rng.int(n - 3), rng.int(n - 3));
  edges.push(n - 3, n - 2); // small component {n-3, n-2}; node n-1 is isolated
  return undirectedAdjacency(n, Int32Array.from(edges));
}

/** width x height grid graph (4-neighbour). */
function gridGraph(width: number, height: number): Csr {
  const edges: number[] = [];
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const v = r * width + c;
      if (c + 1 < width) edges.push(v, v + 1);
      if (r + 1 < height) edges.push(v, v + width);
    }
  }
  return undirectedAdjacency(width * height, Int32Array.from(edges));
}

const Adjacency = suite('graph: adjacency');

Adjacency('undirectedAdjacency sorts columns, merges duplicates in either orientation, keeps self-loops', () => {
  const g = undirectedAdjacency(5, Int32Array.of(3, 1, 0, 3, 1, 3, 3, 0, 2, 2, 0, 1));
  const { rowPtr, colIdx, values } = g.hostArrays();
  assert.equal(Array.from(rowPtr), [0, 2, 4, 5, 7, 7]);
  assert.equal(Array.from(colIdx), [1, 3, 0, 3, 2, 0, 1]);
  assert.is(values, null);
  assert.equal(Array.from(hostDegrees(g)), [2, 2, 1, 2, 0]);
  g.dispose();
});

Adjacency('undirectedAdjacency rejects out-of-range ids and odd lists with the offending edge', () => {
  assert.throws(() => undirectedAdjacency(3, Int32Array.of(0, 1, 2, 3)), /undirectedAdjacency: edge 1 = \(2, 3\).*outside \[0, 3\)/);
  assert.throws(() => undirectedAdjacency(3, Int32Array.of(-1, 0)), /edge 0 = \(-1, 0\)/);
  assert.throws(() => undirectedAdjacency(3, Int32Array.of(0, 1, 2)), /odd/);
});

Adjacency('denseCholesky factors and solves an SPD system; rejects an indefinite one', () => {
  const rng = new Rng(3);
  const n = 12;
  const b = new Float64Array(n * n).map(() => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = i === j ? n : 0;
      for (let k = 0; k < n; k++) s += b[i * n + k] * b[j * n + k];
      a[i * n + j] = s;
    }
  }
  const rhs = new Float64Array(n).map(() => rng.normal());
  const l = a.slice();
  denseCholesky(l, n);
  const x = rhs.slice();
  denseCholeskySolve(l, n, x);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j] * x[j];
    close(s, rhs[i], 1e-10, `row ${i} of A x`);
  }
  assert.throws(() => denseCholesky(Float64Array.of(1, 2, 2, 1), 2), /not positive definite \(pivot 1/);
});

const Ppr = suite('graph: ppr');

Ppr('exactPpr on one edge matches the closed form [[1+a, 1-a], [1-a, 1+a]] / 2', () => {
  const alpha = 0.2;
  const p = exactPpr(undirectedAdjacency(2, Int32Array.of(0, 1)), alpha, { dtype: 'float64' });
  const expected = [(1 + alpha) / 2, (1 - alpha) / 2, (1 - alpha) / 2, (1 + alpha) / 2];
  expected.forEach((v, k) => close(p[k], v, 1e-15, `entry ${k}`));
});

Ppr('exactPpr matches power iteration on a graph with hubs, several components and an isolated node', () => {
  const g = randomGraph(60, 25, new Rng(7));
  for (const alpha of [0.15, 0.5]) {
    const expected = pprByPowerIteration(g, alpha);
    // All-sparse, mixed, and all-dense factorizations must agree.
    for (const denseSwitchDensity of [1, 0.25, 0]) {
      const p = exactPpr(g, alpha, { dtype: 'float64', denseSwitchDensity });
      let err = 0;
      for (let k = 0; k < p.length; k++) err = Math.max(err, Math.abs(p[k] - expected[k]));
      assert.ok(err < 1e-12, `alpha ${alpha}, switch ${denseSwitchDensity}: max error ${err}`);
    }
  }
});

Ppr('exactPpr float32 output agrees with float64; bad inputs give clear errors', () => {
  const g = randomGraph(40, 10, new Rng(8));
  const p64 = exactPpr(g, 0.1, { dtype: 'float64' });
  const p32 = exactPpr(g, 0.1);
  assert.ok(p32 instanceof Float32Array);
  for (let k = 0; k < p64.length; k++) close(p32[k], p64[k], 1e-7, `entry ${k}`);
  assert.throws(() => exactPpr(g, 0), /alpha must be in \(0, 1\]/);
  assert.throws(() => exactPpr(T.Csr.fromCoo([0], [1], undefined, [2, 2]), 0.1), /exactPpr: graph is not symmetric/);
  assert.throws(() => exactPpr(T.Csr.fromCoo([0], [1], undefined, [2, 3]), 0.1), /exactPpr: needs a square adjacency, got 2 x 3/);
  assert.throws(() => pushPpr(T.Csr.fromCoo([0], [1], undefined, [2, 3]), 0, 0.1, 1e-3), /pushPpr: needs a square adjacency/);
});

Ppr('pushPpr stays within epsilon * degree below the exact random-walk PPR', () => {
  const g = randomGraph(80, 40, new Rng(9));
  const withLoops = g.addSelfLoops();
  const d = hostDegrees(withLoops);
  const alpha = 0.1;
  const exact = exactPpr(g, alpha, { dtype: 'float64' });
  for (const seed of [0, 5, 33, 78, 79]) {
    for (const epsilon of [1e-2, 1e-4, 1e-7]) {
      const { ids, values } = pushPpr(withLoops, seed, alpha, epsilon);
      const approx = new Float64Array(g.rows);
      ids.forEach((i, k) => { approx[i] = values[k]; });
      for (let i = 0; i < g.rows; i++) {
        // random-walk PPR from the symmetric one: π_seed(i) = Π[i][seed] sqrt(d_i / d_seed)
        const pi = exact[i * g.rows + seed] * Math.sqrt(d[i] / d[seed]);
        const gap = pi - approx[i];
        assert.ok(gap > -1e-12 && gap < epsilon * d[i],
          `seed ${seed}, epsilon ${epsilon}, node ${i}: exact ${pi}, push ${approx[i]}`);
      }
    }
  }
  const isolated = pushPpr(g, 79, alpha, 1e-4);
  assert.equal(Array.from(isolated.ids), [79]);
  assert.equal(Array.from(isolated.values), [1]);
  assert.throws(() => pushPpr(withLoops, 80, alpha, 1e-4), /seed 80 outside/);
});

const Samplers = suite('graph: samplers');

/** Grid graph with three classes drawn independently per node (so every class spans the grid) and a few unlabelled nodes. */
let gridCache: { g: Csr; labels: Int32Array; ppr: Float64Array } | undefined;
function labelledGrid(): { g: Csr; labels: Int32Array; ppr: Float64Array } {
  if (gridCache === undefined) {
    const g = gridGraph(24, 24);
    const rng = new Rng(11);
    const labels = new Int32Array(g.rows).map(() => (rng.uniform() < 0.05 ? -1 : rng.int(3)));
    gridCache = { g, labels, ppr: exactPpr(g, 0.01, { dtype: 'float64' }) };
  }
  return gridCache;
}

function checkBalanced(sample: Int32Array, labels: Int32Array, perClass: number[], what: string): void {
  assert.is(new Set(sample).size, sample.length, `${what}: duplicates`);
  const counts = perClass.map(() => 0);
  for (const i of sample) {
    assert.ok(labels[i] >= 0, `${what}: picked unlabelled node ${i}`);
    counts[labels[i]]++;
  }
  assert.equal(counts, perClass, `${what}: class counts`);
}

function meanPairwisePprDistance(ppr: Float64Array, n: number, sample: Int32Array, labels: Int32Array): number {
  let sum = 0, pairs = 0;
  for (let a = 0; a < sample.length; a++) {
    for (let b = 0; b < a; b++) {
      if (labels[sample[a]] !== labels[sample[b]]) continue;
      let s = 0;
      for (let j = 0; j < n; j++) { const t = ppr[sample[a] * n + j] - ppr[sample[b] * n + j]; s += t * t; }
      sum += Math.sqrt(s); pairs++;
    }
  }
  return sum / pairs;
}

Samplers('IID and biased samplers give 20 labelled nodes per class, reproducibly, from the pool', () => {
  const { g, labels, ppr } = labelledGrid();
  const draws = {
    iid: (seed: number, pool?: number) => sampleIid(labels, { rng: new Rng(seed), pool }),
    biased: (seed: number, pool?: number) => sampleBiasedPpr(ppr, labels, { rng: new Rng(seed), pool }),
    push: (seed: number, pool?: number) => sampleBiasedPush(g.addSelfLoops(), labels, { rng: new Rng(seed), pool }),
  };
  for (const [name, draw] of Object.entries(draws)) {
    const a = draw(1);
    checkBalanced(a, labels, [20, 20, 20], name);
    assert.equal(Array.from(draw(1)), Array.from(a), `${name}: same seed, same sample`);
    assert.not.equal(Array.from(draw(2)), Array.from(a), `${name}: another seed, another sample`);
    const pooled = draw(3, 300);
    checkBalanced(pooled, labels, [20, 20, 20], `${name} with pool`);
    assert.ok(pooled.every((i) => i < 300), `${name}: node outside the pool`);
  }
});

Samplers('a class with fewer candidates than perClass gives all of them', () => {
  const { g, labels, ppr } = labelledGrid();
  const few = labels.slice();
  let kept = 0;
  for (let i = 0; i < few.length; i++) if (few[i] === 2 && ++kept > 5) few[i] = -1;
  const expected = [20, 20, 5];
  checkBalanced(sampleIid(few, { rng: new Rng(1) }), few, expected, 'iid');
  checkBalanced(sampleBiasedPpr(ppr, few, { rng: new Rng(1) }), few, expected, 'biased');
  checkBalanced(sampleBiasedPush(g.addSelfLoops(), few, { rng: new Rng(1) }), few, expected, 'push');
});

Samplers('biased samples contain their seed and are more local in PPR space than IID samples', () => {
  const { g, labels, ppr } = labelledGrid();
  const n = g.rows;
  let biased = 0, push = 0, iid = 0;
  const runs = 5;
  for (let seed = 0; seed < runs; seed++) {
    const b = sampleBiasedPpr(ppr, labels, { rng: new Rng(seed) });
    // The first node of each class block is at distance 0 from the seed: the seed itself,
    // drawn by the first rng.int of that class.
    const rng = new Rng(seed);
    const firstOfClass0 = labels.reduce<number[]>((acc, c, i) => (c === 0 ? [...acc, i] : acc), []);
    assert.is(b[0], firstOfClass0[rng.int(firstOfClass0.length)]);
    biased += meanPairwisePprDistance(ppr, n, b, labels);
    push += meanPairwisePprDistance(ppr, n, sampleBiasedPush(g.addSelfLoops(), labels, { rng: new Rng(seed) }), labels);
    iid += meanPairwisePprDistance(ppr, n, sampleIid(labels, { rng: new Rng(seed) }), labels);
  }
  console.log(`  mean pairwise PPR distance within a class: biased ${(biased / runs).toExponential(3)}, ` +
    `push ${(push / runs).toExponential(3)}, iid ${(iid / runs).toExponential(3)}`);
  assert.ok(biased < 0.8 * iid, `biased ${biased / runs} vs iid ${iid / runs}`);
  assert.ok(push < 0.8 * iid, `push ${push / runs} vs iid ${iid / runs}`);
});

Samplers('samplers reject bad labels, pools and PPR shapes', () => {
  const labels = Int32Array.of(0, 1, -2);
  assert.throws(() => sampleIid(labels, { rng: new Rng(0) }), /label -2 of node 2/);
  assert.throws(() => sampleIid(Int32Array.of(0, 1), { rng: new Rng(0), pool: 3 }), /pool size 3/);
  assert.throws(() => sampleIid(Int32Array.of(0, 1), { rng: new Rng(0), pool: Int32Array.of(5) }), /pool node 5/);
  assert.throws(() => sampleBiasedPpr(new Float64Array(3), Int32Array.of(0, 1), { rng: new Rng(0) }), /expected 2 x 2/);
});

const Kmm = suite('graph: kmm');

Kmm('KMM weights keep b >= 0.2 and class sums, satisfy KKT and do not raise the objective over b = 1', () => {
  const { labels, ppr } = labelledGrid();
  const n = labels.length;
  for (let seed = 0; seed < 3; seed++) {
    const rng = new Rng(seed);
    const trainIds = sampleBiasedPpr(ppr, labels, { rng });
    const testIds = sampleIid(labels, { rng });
    const input = { features: ppr, dim: n, trainIds, testIds, labels };
    const { weights, objective } = kmmWeights(input);
    const counts = [0, 0, 0], sums = [0, 0, 0];
    trainIds.forEach((i, a) => {
      assert.ok(weights[a] >= 0.2, `weight ${a} = ${weights[a]} below 0.2`);
      counts[labels[i]]++; sums[labels[i]] += weights[a];
    });
    counts.forEach((c, k) => close(sums[k], c, 1e-9, `class ${k} weight sum`));
    const problem = kmmProblem(input);
    const start = qpObjective(problem, new Float64Array(trainIds.length).fill(1));
    assert.ok(objective <= start, `objective ${objective} above the start ${start}`);
    const again = solveQp(problem);
    assert.ok(qpKktResidual(problem, again.x, again.y, again.z).max < 1e-8);
  }
});

Kmm('KMM moves weight to the training node that matches the test sample', () => {
  // One class, training rows at 0 and 3, every test row at 0: the far node drops to the bound.
  const features = Float64Array.of(0, 3, 0, 0, 0);
  const { weights } = kmmWeights({
    features, dim: 1, trainIds: Int32Array.of(0, 1), testIds: Int32Array.of(2, 3, 4), labels: Int32Array.of(0, 0, 0, 0, 0),
  });
  close(weights[0], 1.8, 1e-9, 'near node');
  close(weights[1], 0.2, 1e-9, 'far node');
  assert.throws(() => kmmWeights({ features, dim: 1, trainIds: Int32Array.of(0), testIds: Int32Array.of(1), labels: Int32Array.of(-1, 0, 0, 0, 0) }),
    /training node 0 has no label/);
});

const Planetoid = suite('graph: planetoid data');

function readCsvGz(path: string): string[][] {
  return gunzipSync(readFileSync(path)).toString('utf8').trim().split('\n').map((line) => line.split(','));
}

for (const name of ['cora', 'citeseer'] as const) {
  const dir = join(T.data.dataDir(), `planetoid-${name}`);
  if (!existsSync(dir)) console.log(`  (skipping planetoid-${name}: ${dir} not found)`);
  (existsSync(dir) ? Planetoid : Planetoid.skip)(`${name}: exact PPR solves (I - (1 - alpha) Â) Π = alpha I; SR-GNN samples and KMM hold their constraints`, () => {
    const labels = Int32Array.from(readCsvGz(join(dir, 'raw', 'node-label.csv.gz')).map((r) => Number(r[0])));
    const edges = Int32Array.from(readCsvGz(join(dir, 'raw', 'edge.csv.gz')).flatMap((r) => [Number(r[0]), Number(r[1])]));
    const g = undirectedAdjacency(labels.length, edges);
    const alpha = 0.01;
    const ppr = exactPpr(g, alpha, { dtype: 'float64' });
    const n = g.rows;
    // Â's entries in float64: D^-1/2 (A + I) D^-1/2 on the pattern of A + I.
    const withLoops = g.addSelfLoops();
    const a = withLoops.hostArrays();
    const d = hostDegrees(withLoops);
    for (const j of [0, 1, 500, n - 1]) {
      // Row i of M Π e_j = Π[i][j] - (1 - alpha) Σ_k Â[i][k] Π[k][j], which must be alpha [i == j].
      for (let i = 0; i < n; i++) {
        let s = ppr[i * n + j];
        for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) {
          const c = a.colIdx[k];
          s -= (1 - alpha) * (a.values![k] / Math.sqrt(d[i] * d[c])) * ppr[c * n + j];
        }
        close(s, i === j ? alpha : 0, 1e-12, `column ${j}, row ${i}`);
      }
    }
    const pool = SRGNN_CANDIDATE_POOL[name];
    const rng = new Rng(0);
    const trainIds = sampleBiasedPpr(ppr, labels, { rng, pool });
    const classes = Math.max(...labels) + 1;
    checkBalanced(trainIds, labels, new Array(classes).fill(20), `${name} biased`);
    assert.ok(trainIds.every((i) => i < pool));
    const testIds = sampleIid(labels, { rng, pool });
    const { weights } = kmmWeights({ features: ppr, dim: n, trainIds, testIds, labels });
    assert.ok(weights.every((w) => w >= 0.2));
  });
}

Adjacency.run();
Ppr.run();
Samplers.run();
Kmm.run();
Planetoid.run();
