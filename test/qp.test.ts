// The dense convex QP solver (lower bounds + equalities) on problems with
// hand-derived KKT solutions, and on random problems checked by their KKT residual.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../src/rng.js';
import { qpKktResidual, qpObjective, solveQp, type QpProblem } from '../src/models/gnn/qp.js';

const Qp = suite('solvers: qp');

function expectSolution(p: QpProblem, x: number[], y: number[], z: number[]): void {
  const sol = solveQp(p);
  const tol = 1e-8;
  x.forEach((v, i) => assert.ok(Math.abs(sol.x[i] - v) <= tol, `x[${i}] = ${sol.x[i]}, expected ${v}`));
  y.forEach((v, a) => assert.ok(Math.abs(sol.y[a] - v) <= tol, `y[${a}] = ${sol.y[a]}, expected ${v}`));
  z.forEach((v, i) => assert.ok(Math.abs(sol.z[i] - v) <= tol, `z[${i}] = ${sol.z[i]}, expected ${v}`));
  const r = qpKktResidual(p, sol.x, sol.y, sol.z);
  assert.ok(r.max <= tol, `KKT residual ${JSON.stringify(r)}`);
  // The hand solution itself must be a KKT point of the problem as posed.
  assert.ok(qpKktResidual(p, Float64Array.from(x), Float64Array.from(y), Float64Array.from(z)).max <= 1e-14);
}

Qp('interior optimum: bounds inactive, x = -P^-1 q', () => {
  expectSolution({
    n: 2, P: Float64Array.of(2, 0, 0, 4), q: Float64Array.of(-2, -4), lower: Float64Array.of(-10, -10),
  }, [1, 1], [], [0, 0]);
});

Qp('active bound: min 1/2 |x|^2 + x0 - x1 with x >= 0 gives x = (0, 1), z = (1, 0)', () => {
  expectSolution({
    n: 2, P: Float64Array.of(1, 0, 0, 1), q: Float64Array.of(1, -1), lower: Float64Array.of(0, 0),
  }, [0, 1], [], [1, 0]);
});

Qp('an active bound far from zero: the slack falls below the rounding unit of x and the solver still converges', () => {
  // min 1/2 |x|^2 - (L - 1) x0 - (L + 1) x1 with x >= L: x = (L, L + 1), z = (1, 0). Near x0 = L the slack
  // x0 - L must reach ~1e-10, far below the spacing of doubles at 1e8 (1.5e-8); computed as x - lower it rounds to 0.
  const L = 1e8;
  expectSolution({
    n: 2, P: Float64Array.of(1, 0, 0, 1), q: Float64Array.of(-(L - 1), -(L + 1)), lower: Float64Array.of(L, L),
  }, [L, L + 1], [], [1, 0]);
});

Qp('projection onto the simplex: c = (1, 0.5, -1) gives x = c + y with y = -0.25, x2 at its bound', () => {
  // min 1/2 |x - c|^2 s.t. sum x = 1, x >= 0: x_i = max(c_i + y, 0), z_2 = -(c_2 + y) = 1.25.
  expectSolution({
    n: 3, P: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1), q: Float64Array.of(-1, -0.5, 1),
    lower: Float64Array.of(0, 0, 0), E: Float64Array.of(1, 1, 1), d: Float64Array.of(1),
  }, [0.75, 0.25, 0], [-0.25], [0, 0, 1.25]);
});

Qp('equality only with free variables: P = diag(1, 2), x0 + x1 = 1 gives x = (2/3, 1/3), y = 2/3', () => {
  expectSolution({
    n: 2, P: Float64Array.of(1, 0, 0, 2), q: Float64Array.of(0, 0), lower: Float64Array.of(-Infinity, -Infinity),
    E: Float64Array.of(1, 1), d: Float64Array.of(1),
  }, [2 / 3, 1 / 3], [2 / 3], [0, 0]);
});

Qp('KMM-shaped groups: per-group sums with a 0.2 bound, one group pushed to its bound', () => {
  // Group {0, 1}: x0 - 3 = y0 = x1 - z1 with x1 = 0.2 gives x0 = 1.8, y0 = -1.2, z1 = 1.4.
  // Group {2, 3}: interior, x2 = x3 = 1, y1 = 1.
  const P = new Float64Array(16);
  for (let i = 0; i < 4; i++) P[i * 4 + i] = 1;
  expectSolution({
    n: 4, P, q: Float64Array.of(-3, 0, 0, 0), lower: new Float64Array(4).fill(0.2),
    E: Float64Array.of(1, 1, 0, 0, 0, 0, 1, 1), d: Float64Array.of(2, 2),
  }, [1.8, 0.2, 1, 1], [-1.2, 1], [0, 1.4, 0, 0]);
});

Qp('random PSD problems: KKT residual below 1e-8 and no feasible random point does better', () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 5; trial++) {
    const n = 30, groups = 3, rank = 10; // rank-deficient P: only positive semidefinite
    const b = new Float64Array(n * rank).map(() => rng.normal());
    const P = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < rank; k++) s += b[i * rank + k] * b[j * rank + k];
        P[i * n + j] = s;
      }
    }
    const group = Int32Array.from({ length: n }, (_, i) => i % groups);
    const E = new Float64Array(groups * n);
    group.forEach((g, i) => { E[g * n + i] = 1; });
    const lower = new Float64Array(n).map(() => rng.uniform() - 0.5);
    const d = new Float64Array(groups);
    group.forEach((g, i) => { d[g] += lower[i] + 1; });
    const p: QpProblem = { n, P, q: new Float64Array(n).map(() => 3 * rng.normal()), lower, E, d };
    const sol = solveQp(p);
    const r = qpKktResidual(p, sol.x, sol.y, sol.z);
    assert.ok(r.max < 1e-8, `trial ${trial}: ${JSON.stringify(r)}`);
    for (let k = 0; k < 20; k++) {
      // Feasible point: lower plus each group's slack split by random positive shares.
      const share = new Float64Array(n).map(() => rng.uniform() + 1e-3);
      const shareSum = new Float64Array(groups);
      group.forEach((g, i) => { shareSum[g] += share[i]; });
      const x = new Float64Array(n);
      group.forEach((g, i) => { x[i] = lower[i] + (n / groups) * share[i] / shareSum[g]; });
      assert.ok(sol.objective <= qpObjective(p, x) + 1e-9, `trial ${trial}: a feasible point beats the solution`);
    }
  }
});

Qp('clear errors: shapes, infeasible constraints, dependent equalities', () => {
  const P = Float64Array.of(1, 0, 0, 1);
  assert.throws(() => solveQp({ n: 2, P: Float64Array.of(1), q: Float64Array.of(0, 0), lower: Float64Array.of(0, 0) }), /P has 1 elements, expected 2 x 2/);
  assert.throws(() => solveQp({ n: 2, P, q: Float64Array.of(0, 0), lower: Float64Array.of(0, 0), E: Float64Array.of(1, 1) }), /E and d must be given together/);
  // sum x = 1 with x >= 1 is infeasible.
  assert.throws(() => solveQp({ n: 2, P, q: Float64Array.of(0, 0), lower: Float64Array.of(1, 1), E: Float64Array.of(1, 1), d: Float64Array.of(1) }),
    /solveQp: (no convergence|numerical breakdown).*infeasible/);
  assert.throws(() => solveQp({ n: 2, P, q: Float64Array.of(0, 0), lower: Float64Array.of(0, 0), E: Float64Array.of(1, 1, 2, 2), d: Float64Array.of(1, 2) }),
    /rows of E must be linearly independent/);
});

Qp.run();
