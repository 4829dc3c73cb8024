// A small dense convex QP solver for problems with lower bounds and linear
// equalities (KMM instance weights in SR-GNN):
//
//   minimize 1/2 x^T P x + q^T x   subject to   E x = d,   x >= lower.
//
// Primal-dual interior point with Mehrotra's predictor-corrector, as cvxopt's
// `solvers.qp` that the SR-GNN reference calls. An interior point method is used
// rather than projected gradient because the KMM Hessian is badly conditioned
// (a mean of RBF kernels over nearby PPR vectors is close to the all-ones matrix,
// so on the feasible set the curvature is tiny): first-order methods crawl there,
// while Newton steps are unaffected by the scaling.

import { denseCholesky, denseCholeskySolve } from './cholesky.js';

export interface QpProblem {
  /** Number of variables. */
  n: number;
  /** Symmetric positive semidefinite n x n matrix, row-major (only this is read). */
  P: Float64Array;
  q: Float64Array;
  /** Lower bound per variable; -Infinity leaves a variable free. */
  lower: Float64Array;
  /** Equality constraints E x = d: E is m x n row-major, m = d.length (full row rank). */
  E?: Float64Array;
  d?: Float64Array;
}

export interface QpOptions {
  /** Stop when ||E x - d||_inf / (1 + ||d||_inf), ||P x + q - E^T y - z||_inf / (1 + ||q||_inf)
   *  and max_i min(x_i - lower_i, z_i) are all at most this (default 1e-10). */
  tolerance?: number;
  maxIterations?: number;
}

export interface QpSolution {
  x: Float64Array;
  /** Multipliers of E x = d. */
  y: Float64Array;
  /** Multipliers of x >= lower (0 for free variables). */
  z: Float64Array;
  objective: number;
  iterations: number;
}

/** Absolute KKT residuals of a candidate (x, y, z); `max` is their maximum. */
export interface KktResidual {
  /** ||E x - d||_inf */
  primal: number;
  /** ||P x + q - E^T y - z||_inf */
  dual: number;
  /** Largest violation of x >= lower or z >= 0. */
  sign: number;
  /** max_i min(|x_i - lower_i|, |z_i|): zero when every bound is active or has a zero multiplier. */
  complementarity: number;
  max: number;
}

function checkProblem(p: QpProblem, where: string): number {
  const { n, P, q, lower, E, d } = p;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${where}: variable count must be a positive integer, got ${n}`);
  if (P.length !== n * n) throw new Error(`${where}: P has ${P.length} elements, expected ${n} x ${n}`);
  if (q.length !== n) throw new Error(`${where}: q has length ${q.length}, expected ${n}`);
  if (lower.length !== n) throw new Error(`${where}: lower has length ${lower.length}, expected ${n}`);
  if ((E === undefined) !== (d === undefined)) throw new Error(`${where}: E and d must be given together`);
  const m = d === undefined ? 0 : d.length;
  if (E !== undefined && E.length !== m * n) throw new Error(`${where}: E has ${E.length} elements, expected ${m} x ${n}`);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(lower[i]) || lower[i] === Infinity) throw new Error(`${where}: lower[${i}] = ${lower[i]} is not a usable bound`);
  }
  return m;
}

/** r = P x + q - E^T y - z */
function dualResidual(p: QpProblem, m: number, x: Float64Array, y: Float64Array, z: Float64Array, r: Float64Array): void {
  const { n, P, q, E } = p;
  for (let i = 0; i < n; i++) {
    let s = q[i] - z[i];
    const ri = i * n;
    for (let j = 0; j < n; j++) s += P[ri + j] * x[j];
    r[i] = s;
  }
  for (let a = 0; a < m; a++) {
    const ea = a * n;
    for (let i = 0; i < n; i++) r[i] -= (E as Float64Array)[ea + i] * y[a];
  }
}

/** r = E x - d */
function primalResidual(p: QpProblem, m: number, x: Float64Array, r: Float64Array): void {
  const { n, E, d } = p;
  for (let a = 0; a < m; a++) {
    let s = -(d as Float64Array)[a];
    for (let i = 0; i < n; i++) s += (E as Float64Array)[a * n + i] * x[i];
    r[a] = s;
  }
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

/** KKT residuals of (x, y, z) for `p`, to check a solution independently of the solver. */
export function qpKktResidual(p: QpProblem, x: Float64Array, y: Float64Array, z: Float64Array): KktResidual {
  const m = checkProblem(p, 'qpKktResidual');
  const rd = new Float64Array(p.n);
  const rp = new Float64Array(m);
  dualResidual(p, m, x, y, z, rd);
  primalResidual(p, m, x, rp);
  let sign = 0, complementarity = 0;
  for (let i = 0; i < p.n; i++) {
    sign = Math.max(sign, p.lower[i] - x[i], -z[i]);
    complementarity = Math.max(complementarity, Math.min(Math.abs(x[i] - p.lower[i]), Math.abs(z[i])));
  }
  const primal = maxAbs(rp), dual = maxAbs(rd);
  return { primal, dual, sign, complementarity, max: Math.max(primal, dual, sign, complementarity) };
}

/** 1/2 x^T P x + q^T x */
export function qpObjective(p: QpProblem, x: Float64Array): number {
  let f = 0;
  for (let i = 0; i < p.n; i++) {
    let s = 0;
    for (let j = 0; j < p.n; j++) s += p.P[i * p.n + j] * x[j];
    f += x[i] * (0.5 * s + p.q[i]);
  }
  return f;
}

/**
 * Newton systems of one interior point iteration share one factorization:
 * H = P + diag(z / s) (s = x - lower on bounded variables) by Cholesky, then the
 * m x m Schur complement E H^-1 E^T.
 */
class KktFactor {
  private readonly h: Float64Array;
  private readonly hInvEt: Float64Array; // m x n, row a = H^-1 E_a^T
  private readonly schur: Float64Array;

  constructor(private readonly p: QpProblem, private readonly m: number, private readonly bounded: Uint8Array,
    private readonly s: Float64Array, private readonly z: Float64Array, where: string) {
    const { n, P, E } = p;
    this.h = P.slice();
    for (let i = 0; i < n; i++) if (bounded[i]) this.h[i * n + i] += z[i] / s[i];
    denseCholesky(this.h, n, where);
    this.hInvEt = new Float64Array(m * n);
    for (let a = 0; a < m; a++) {
      const w = (E as Float64Array).slice(a * n, (a + 1) * n);
      denseCholeskySolve(this.h, n, w);
      this.hInvEt.set(w, a * n);
    }
    this.schur = new Float64Array(m * m);
    for (let a = 0; a < m; a++) {
      for (let b = 0; b < m; b++) {
        let t = 0;
        for (let i = 0; i < n; i++) t += (E as Float64Array)[a * n + i] * this.hInvEt[b * n + i];
        this.schur[a * m + b] = t;
      }
    }
    denseCholesky(this.schur, m, where);
  }

  /** Solves for (dx, dy, dz) given residuals rd, rp and the complementarity target rc (per variable). */
  solve(rd: Float64Array, rp: Float64Array, rc: Float64Array, dx: Float64Array, dy: Float64Array, dz: Float64Array): void {
    const { n, E } = this.p;
    const { m, bounded, s, z } = this;
    for (let i = 0; i < n; i++) dx[i] = -rd[i] + (bounded[i] ? rc[i] / s[i] : 0);
    denseCholeskySolve(this.h, n, dx);
    for (let a = 0; a < m; a++) {
      let t = -rp[a];
      for (let i = 0; i < n; i++) t -= (E as Float64Array)[a * n + i] * dx[i];
      dy[a] = t;
    }
    denseCholeskySolve(this.schur, m, dy);
    for (let a = 0; a < m; a++) {
      for (let i = 0; i < n; i++) dx[i] += this.hInvEt[a * n + i] * dy[a];
    }
    for (let i = 0; i < n; i++) dz[i] = bounded[i] ? (rc[i] - z[i] * dx[i]) / s[i] : 0;
  }
}

/** Supremum of the steps t keeping s + t ds > 0 and z + t dz > 0 on bounded variables. */
function maxStep(bounded: Uint8Array, s: Float64Array, ds: Float64Array, z: Float64Array, dz: Float64Array): number {
  let t = Infinity;
  for (let i = 0; i < s.length; i++) {
    if (!bounded[i]) continue;
    if (ds[i] < 0) t = Math.min(t, -s[i] / ds[i]);
    if (dz[i] < 0) t = Math.min(t, -z[i] / dz[i]);
  }
  return t;
}

/**
 * Solves the convex QP to the `tolerance` of QpOptions; the returned x is strictly
 * inside its bounds (x > lower) by at most about the tolerance. Throws when the
 * iteration limit is reached or the Newton systems break down (infeasible or
 * unbounded problems, P not positive definite on free variables).
 */
export function solveQp(problem: QpProblem, options: QpOptions = {}): QpSolution {
  const where = 'solveQp';
  const m = checkProblem(problem, where);
  const { n, q, lower } = problem;
  const tol = options.tolerance ?? 1e-10;
  const maxIterations = options.maxIterations ?? 100;
  const E = problem.E as Float64Array;
  if (m > 0) {
    // E E^T is positive definite exactly when the rows of E are independent; a
    // pivot lost to rounding relative to the largest diagonal counts as dependent.
    const eet = new Float64Array(m * m);
    let largest = 0;
    for (let a = 0; a < m; a++) {
      for (let b = 0; b < m; b++) {
        let t = 0;
        for (let i = 0; i < n; i++) t += E[a * n + i] * E[b * n + i];
        eet[a * m + b] = t;
      }
      largest = Math.max(largest, eet[a * m + a]);
    }
    denseCholesky(eet, m, `${where}: the rows of E must be linearly independent`, 1e-12 * largest);
  }
  const bounded = new Uint8Array(n);
  let nb = 0;
  for (let i = 0; i < n; i++) if (lower[i] > -Infinity) { bounded[i] = 1; nb++; }

  // Start one unit inside every bound with unit multipliers; the method does not
  // need a feasible start (residuals shrink with the steps).
  const x = new Float64Array(n);
  const z = new Float64Array(n);
  const s = new Float64Array(n);
  // The slacks s = x - lower are iterated themselves, not recomputed from x: near an active bound s falls far
  // below the rounding unit of x (KMM's 0.2 bound: 3e-17), and x - lower would give 0 and a NaN Newton system.
  for (let i = 0; i < n; i++) if (bounded[i]) { s[i] = 1; x[i] = lower[i] + 1; z[i] = 1; }
  const y = new Float64Array(m);
  const rd = new Float64Array(n), rp = new Float64Array(m), rc = new Float64Array(n);
  const dxAff = new Float64Array(n), dyAff = new Float64Array(m), dzAff = new Float64Array(n);
  const dx = new Float64Array(n), dy = new Float64Array(m), dz = new Float64Array(n);
  const dualScale = 1 + maxAbs(q);
  const primalScale = 1 + (problem.d === undefined ? 0 : maxAbs(problem.d));

  for (let it = 0; ; it++) {
    dualResidual(problem, m, x, y, z, rd);
    primalResidual(problem, m, x, rp);
    let gap = 0, complementarity = 0;
    for (let i = 0; i < n; i++) {
      if (!bounded[i]) continue;
      gap += s[i] * z[i];
      complementarity = Math.max(complementarity, Math.min(s[i], z[i]));
    }
    const mu = nb > 0 ? gap / nb : 0;
    const primalRes = maxAbs(rp) / primalScale;
    const dualRes = maxAbs(rd) / dualScale;
    if (primalRes <= tol && dualRes <= tol && complementarity <= tol) {
      return { x, y, z, objective: qpObjective(problem, x), iterations: it };
    }
    if (it === maxIterations) {
      throw new Error(`${where}: no convergence after ${maxIterations} iterations (scaled primal residual ${primalRes.toExponential(2)}, ` +
        `dual ${dualRes.toExponential(2)}, complementarity ${complementarity.toExponential(2)}); the problem may be infeasible or unbounded`);
    }
    const kkt = new KktFactor(problem, m, bounded, s, z,
      `${where}: numerical breakdown at iteration ${it} (P must be positive definite on the variables without bounds; ` +
      'otherwise the problem may be infeasible or unbounded)');
    // Predictor: the pure Newton (affine scaling) direction towards s z = 0.
    for (let i = 0; i < n; i++) rc[i] = bounded[i] ? -s[i] * z[i] : 0;
    kkt.solve(rd, rp, rc, dxAff, dyAff, dzAff);
    const tAff = Math.min(1, maxStep(bounded, s, dxAff, z, dzAff));
    let gapAff = 0;
    for (let i = 0; i < n; i++) {
      if (bounded[i]) gapAff += (s[i] + tAff * dxAff[i]) * (z[i] + tAff * dzAff[i]);
    }
    const sigma = nb > 0 ? Math.pow(gapAff / gap, 3) : 0;
    // Corrector: centre towards sigma * mu and compensate the second-order term.
    for (let i = 0; i < n; i++) rc[i] = bounded[i] ? sigma * mu - s[i] * z[i] - dxAff[i] * dzAff[i] : 0;
    kkt.solve(rd, rp, rc, dx, dy, dz);
    const t = Math.min(1, 0.99 * maxStep(bounded, s, dx, z, dz));
    for (let i = 0; i < n; i++) {
      if (bounded[i]) { s[i] += t * dx[i]; x[i] = lower[i] + s[i]; z[i] += t * dz[i]; } else x[i] += t * dx[i];
    }
    for (let a = 0; a < m; a++) y[a] += t * dy[a];
  }
}
