// Optimizers against torch's update rules written out in float64 (a few steps
// on a quadratic, on every backend present), LR schedules against their closed
// forms, gradient clipping against hand-computed norms.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, randomValues, values, assertClose } from './helpers.js';

type Tensor = T.Tensor;
const optim = T.optim;
const backends = await backendsUnderTest();

/** f(p) = sum(a p^2 / 2 - b p), so grad = a p - b. */
interface Quadratic { a: Float64Array; b: Float64Array; p0: Float64Array }
const quadratic = (n: number): Quadratic => ({
  a: randomValues({ shape: [n], kind: 'positive' }), b: randomValues({ shape: [n] }), p0: randomValues({ shape: [n] }),
});

/** Hyperparameters of one parameter group as torch names them, with our per-group multipliers folded in. */
interface Hyper { lr: number; wd: number; momentum?: number; dampening?: number; nesterov?: boolean; beta1?: number; beta2?: number; eps?: number }

type Rule = (p: number[], g: number[], st: Record<string, number[]>, h: Hyper, t: number) => void;

// torch.optim.SGD.step, element by element.
const sgdRule: Rule = (p, g, st, h) => {
  for (let i = 0; i < p.length; i++) {
    let d = g[i] + h.wd * p[i];
    if (h.momentum) {
      st.buf = st.buf ?? [];
      st.buf[i] = st.buf[i] === undefined ? d : h.momentum * st.buf[i] + (1 - (h.dampening ?? 0)) * d;
      d = h.nesterov ? d + h.momentum * st.buf[i] : st.buf[i];
    }
    p[i] -= h.lr * d;
  }
};

// torch.optim.Adam / AdamW (decoupled: p *= 1 - lr wd before the Adam step).
const adamRule = (decoupled: boolean): Rule => (p, g, st, h, t) => {
  const b1 = h.beta1!, b2 = h.beta2!, eps = h.eps!;
  st.m = st.m ?? p.map(() => 0); st.v = st.v ?? p.map(() => 0);
  for (let i = 0; i < p.length; i++) {
    let gi = g[i];
    if (decoupled) p[i] *= 1 - h.lr * h.wd; else gi += h.wd * p[i];
    st.m[i] = b1 * st.m[i] + (1 - b1) * gi;
    st.v[i] = b2 * st.v[i] + (1 - b2) * gi * gi;
    const denom = Math.sqrt(st.v[i]) / Math.sqrt(1 - b2 ** t) + eps;
    p[i] -= (h.lr / (1 - b1 ** t)) * (st.m[i] / denom);
  }
};

/** Runs `steps` optimizer steps on two quadratics (two groups) with tensors, and the rule by hand; compares. */
async function checkAgainstRule(backend: string, name: string, make: (groups: { params: Tensor[]; [k: string]: unknown }[]) => T.optim.Optimizer,
  groupOpts: Record<string, number>[], hypers: Hyper[], rule: Rule, steps = 5): Promise<void> {
  const qs = [quadratic(4), quadratic(3)];
  const o = { backend };
  const params = qs.map((q) => T.fromArray(Float32Array.from(q.p0), [q.p0.length], { ...o, requiresGrad: true }));
  const consts = qs.map((q) => ({ a: T.fromArray(Float32Array.from(q.a), [q.a.length], o), b: T.fromArray(Float32Array.from(q.b), [q.b.length], o) }));
  const opt = make(params.map((p, i) => ({ params: [p], ...groupOpts[i] })));
  // By hand from the same float32-rounded starting values.
  const hand = qs.map((q) => ({ p: Array.from(Float32Array.from(q.p0)), a: Array.from(Float32Array.from(q.a)), b: Array.from(Float32Array.from(q.b)), st: {} as Record<string, number[]> }));
  for (let t = 1; t <= steps; t++) {
    opt.zeroGrad();
    const loss = params.map((p, i) => T.sum(T.sub(T.mul(T.mul(consts[i].a, T.square(p)), 0.5), T.mul(consts[i].b, p)))).reduce((x, y) => T.add(x, y));
    loss.backward();
    opt.step();
    hand.forEach((h, i) => rule(h.p, h.p.map((pi, k) => h.a[k] * pi - h.b[k]), h.st, hypers[i], t));
  }
  for (let i = 0; i < 2; i++) assertClose(await values(params[i]), hand[i].p, `${name} group ${i} on ${backend}`, 1e-4, 1e-6);
}

const s = suite('optim: updates vs torch formulas');
for (const b of backends) {
  s(`SGD plain and with weight decay, per-group lrMult/wdMult (${b})`, () => checkAgainstRule(b, 'SGD',
    (g) => new optim.SGD(g, { lr: 0.1, weightDecay: 0.05 }),
    [{}, { lrMult: 0.5, wdMult: 2 }],
    [{ lr: 0.1, wd: 0.05 }, { lr: 0.05, wd: 0.1 }], sgdRule));
  s(`SGD momentum with dampening (${b})`, () => checkAgainstRule(b, 'SGD momentum',
    (g) => new optim.SGD(g, { lr: 0.05, momentum: 0.9, dampening: 0.1 }),
    [{}, { lr: 0.2, momentum: 0.5 }],
    [{ lr: 0.05, wd: 0, momentum: 0.9, dampening: 0.1 }, { lr: 0.2, wd: 0, momentum: 0.5, dampening: 0.1 }], sgdRule));
  s(`SGD Nesterov with weight decay (${b})`, () => checkAgainstRule(b, 'SGD nesterov',
    (g) => new optim.SGD(g, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.01 }),
    [{}, { lrMult: 3 }],
    [{ lr: 0.05, wd: 0.01, momentum: 0.8, nesterov: true }, { lr: 0.15, wd: 0.01, momentum: 0.8, nesterov: true }], sgdRule));
  s(`Adam with L2 weight decay (${b})`, () => checkAgainstRule(b, 'Adam',
    (g) => new optim.Adam(g, { lr: 0.01, weightDecay: 0.1, beta2: 0.99 }),
    [{}, { lrMult: 2, wdMult: 0 }],
    [{ lr: 0.01, wd: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8 }, { lr: 0.02, wd: 0, beta1: 0.9, beta2: 0.99, eps: 1e-8 }], adamRule(false)));
  s(`AdamW decoupled weight decay (${b})`, () => checkAgainstRule(b, 'AdamW',
    (g) => new optim.AdamW(g, { lr: 0.01, beta1: 0.8, eps: 1e-6 }),
    [{}, { weightDecay: 0.5, lrMult: 0.5 }],
    [{ lr: 0.01, wd: 0.01, beta1: 0.8, beta2: 0.999, eps: 1e-6 }, { lr: 0.005, wd: 0.5, beta1: 0.8, beta2: 0.999, eps: 1e-6 }], adamRule(true)));
}
s('SGD refuses nesterov without momentum', () => {
  assert.throws(() => new optim.SGD([T.zeros([2], { requiresGrad: true })], { nesterov: true }), /nesterov needs momentum/);
});
s.run();

// ---- LR schedulers ----
const sch = suite('optim: LR schedulers');
const twoGroups = () => new optim.SGD([
  { params: [T.zeros([1], { requiresGrad: true })], lr: 1 },
  { params: [T.zeros([1], { requiresGrad: true })], lr: 0.1 },
]);
/** lrs of each group at steps 0..n-1 (step 0 is what the constructor set). */
function trace(sched: T.optim.LRScheduler, n: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) { if (i > 0) sched.step(); out.push(sched.getLastLr()); }
  return out;
}
const closeLists = (got: number[][], want: number[][], what: string) =>
  assertClose(got.flat(), want.flat(), what, 1e-12, 1e-15);

sch('StepLR', () => {
  closeLists(trace(new optim.StepLR(twoGroups(), 2, 0.5), 6), [0, 1, 2, 3, 4, 5].map((e) => [1, 0.1].map((b) => b * 0.5 ** Math.floor(e / 2))), 'StepLR');
});

sch('CosineAnnealingLR', () => {
  const want = [1, 0.8535533905932737, 0.5, 0.14644660940672627, 0, 0.14644660940672627];
  closeLists(trace(new optim.CosineAnnealingLR(twoGroups(), 4), 6), want.map((f) => [f, 0.1 * f]), 'cosine');
  const withMin = trace(new optim.CosineAnnealingLR(twoGroups(), 4, 0.01), 5).map((r) => r[1]);
  closeLists([withMin], [[0.1, 0.01 + 0.09 * 0.8535533905932737, 0.055, 0.01 + 0.09 * 0.14644660940672627, 0.01]], 'cosine etaMin');
});

sch('LinearWarmup alone and chained into cosine', () => {
  closeLists(trace(new optim.LinearWarmup(twoGroups(), 4), 6), [0, 0.25, 0.5, 0.75, 1, 1].map((f) => [f, 0.1 * f]), 'warmup from 0');
  closeLists(trace(new optim.LinearWarmup(twoGroups(), 2, { startFactor: 0.5 }), 3), [[0.5, 0.05], [0.75, 0.075], [1, 0.1]], 'warmup from 0.5');
  const opt = twoGroups();
  const chained = new optim.LinearWarmup(opt, 2, { then: new optim.CosineAnnealingLR(opt, 4) });
  const cos = [1, 0.8535533905932737, 0.5, 0.14644660940672627, 0];
  closeLists(trace(chained, 7), [0, 0.5, ...cos].map((f) => [f, 0.1 * f]), 'warmup then cosine');
  assert.throws(() => new optim.LinearWarmup(twoGroups(), 2, { then: new optim.StepLR(twoGroups(), 1) }), /different optimizer/);
});

sch('InverseSqrt', () => {
  const W = 4;
  const want = [0, 1, 2, 3, 4, 5, 15].map((e) => Math.min((e + 1) / W, Math.sqrt(W / (e + 1))));
  const s2 = new optim.InverseSqrt(twoGroups(), W);
  const got: number[] = [];
  for (let e = 0; e <= 15; e++) { if (e > 0) s2.step(); if ([0, 1, 2, 3, 4, 5, 15].includes(e)) got.push(s2.getLastLr()[0]); }
  closeLists([got], [want], 'inverse sqrt with warmup');
  assert.is(got[3], 1, 'peak at the end of warmup');
  closeLists(trace(new optim.InverseSqrt(twoGroups()), 3).map((r) => [r[0]]), [[1], [1 / Math.SQRT2], [1 / Math.sqrt(3)]], 'no warmup');
});

sch('LambdaLR: one function or one per group', () => {
  closeLists(trace(new optim.LambdaLR(twoGroups(), (e) => 1 / (e + 1)), 3), [[1, 0.1], [0.5, 0.05], [1 / 3, 0.1 / 3]], 'shared lambda');
  closeLists(trace(new optim.LambdaLR(twoGroups(), [(e) => e, (e) => 2 * e]), 2), [[0, 0], [1, 0.2]], 'per-group lambdas');
  assert.throws(() => new optim.LambdaLR(twoGroups(), [(e) => e]), /1 functions for 2 parameter groups/);
});

sch('schedules start from initialLr, which the first scheduler records', () => {
  const opt = twoGroups();
  const first = new optim.StepLR(opt, 1, 0.5);
  first.step(); first.step();
  assert.is(opt.paramGroups[0].lr, 0.25);
  const second = new optim.LambdaLR(opt, () => 2);
  assert.equal(second.baseLrs, [1, 0.1]);
  assert.equal(second.getLastLr(), [2, 0.2]);
  second.loadStateDict({ lastEpoch: 5 });
  assert.is(second.lastEpoch, 5);
  assert.throws(() => second.loadStateDict({ lastEpoch: -1 }), /lastEpoch/);
});

sch('invalid arguments name the scheduler', () => {
  assert.throws(() => new optim.StepLR(twoGroups(), 0), /StepLR: stepSize must be a positive integer/);
  assert.throws(() => new optim.CosineAnnealingLR(twoGroups(), 1.5), /CosineAnnealingLR: tMax/);
  assert.throws(() => new optim.LinearWarmup(twoGroups(), 3, { startFactor: 2 }), /LinearWarmup: startFactor/);
  assert.throws(() => new optim.LambdaLR(twoGroups(), () => NaN), /LambdaLR: lr of group 0 at step 0/);
});
sch.run();

// ---- gradient clipping ----
const clip = suite('optim: gradient clipping');
for (const b of backends) {
  const o = { backend: b };
  const withGrads = (gs: number[][]) => gs.map((g) => {
    const p = T.zeros([g.length], { ...o, requiresGrad: true });
    p.grad = T.tensor(g, o);
    return p;
  });
  clip(`clipGradNorm: total 2-norm of all gradients, rescaled to maxNorm (${b})`, async () => {
    const ps = withGrads([[3, 0], [0, 4, 0]]);
    const total = optim.clipGradNorm(ps, 2.5);
    assertClose(await values(total), [5], 'total norm');
    assertClose(await values(ps[0].grad!), [1.5, 0], 'scaled grad 0', 1e-5, 1e-6);
    assertClose(await values(ps[1].grad!), [0, 2, 0], 'scaled grad 1', 1e-5, 1e-6);
    const small = withGrads([[0.3, 0.4]]);
    assertClose(await values(optim.clipGradNorm(small, 1)), [0.5], 'small norm');
    assert.equal(Array.from(await values(small[0].grad!)), [Math.fround(0.3), Math.fround(0.4)], 'below maxNorm: unchanged');
  });
  clip(`clipGradNorm: infinity and p norms (${b})`, async () => {
    const ps = withGrads([[1, -6], [2]]);
    assertClose(await values(optim.clipGradNorm(ps, 3, Infinity)), [6], 'inf norm');
    assertClose(await values(ps[0].grad!), [0.5, -3], 'inf-norm scaling', 1e-5, 1e-6);
    const q = withGrads([[1, -2], [2]]);
    assertClose(await values(optim.clipGradNorm(q, 100, 1)), [5], '1-norm');
    assertClose(await values(optim.clipGradNorm(withGrads([[1, -2], [2]]), 100, 3)), [Math.cbrt(17)], '3-norm');
  });
  clip(`clipGradValue (${b})`, async () => {
    const ps = withGrads([[0.5, -3, 2]]);
    ps.push(T.zeros([2], { ...o, requiresGrad: true })); // no gradient: skipped
    optim.clipGradValue(ps, 1);
    assert.equal(Array.from(await values(ps[0].grad!)), [0.5, -1, 1]);
    assert.is(ps[1].grad, null);
  });
}
clip('bad arguments', () => {
  assert.throws(() => optim.clipGradNorm([], -1), /clipGradNorm: maxNorm/);
  assert.throws(() => optim.clipGradValue([], NaN), /clipGradValue: clipValue/);
});
clip.run();
