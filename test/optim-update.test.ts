// The fused optimizer updates (adamUpdate, sgdUpdate) on every backend against the float64 reference on fresh
// random inputs: several steps on the same state, sizes from empty to past the cpu kernel's threading grain,
// non-contiguous gradients, every option; then their errors, and the optimizers that run on them (a parameter
// sharing its storage, a gradient of the wrong shape). Step-for-step agreement with torch.optim is in
// test/torch-golden.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, rng, seed, values, assertClose, throwsWith } from './helpers.js';

const backends = await backendsUnderTest();
const ORACLE = 'reference64';

// 70001 elements exceed the cpu kernel's grain (65536) and run on several threads; 1031 ends in a partial
// workgroup on the GPUs.
const SHAPES = [[0], [1], [7], [3, 5], [1031], [70001]];

const normals = (n: number, scale = 1): number[] => Array.from({ length: n }, () => scale * rng.normal());
const positives = (n: number): number[] => Array.from({ length: n }, () => 0.01 + rng.uniform());

/** The values as a tensor of `shape` on backend; `transposed` stores a 2-D tensor column-major (a strided view). */
function tensorOf(vals: number[], shape: number[], backend: string, transposed = false): T.Tensor {
  if (transposed && shape.length === 2) {
    const [r, c] = shape, stored = new Float32Array(vals.length);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) stored[j * r + i] = vals[i * c + j];
    return T.transpose(T.fromArray(stored, [c, r], { backend }));
  }
  return T.fromArray(Float32Array.from(vals), shape, { backend });
}

interface Trial { shape: number[]; param: number[]; state: number[][]; grads: number[][] }

function trial(shape: number[], stateCount: number, positiveState: number): Trial {
  const n = shape.reduce((a, b) => a * b, 1), steps = 1 + rng.int(3);
  return {
    shape, param: normals(n),
    state: Array.from({ length: stateCount }, (_, k) => (k === positiveState ? positives(n) : normals(n, 0.1))),
    grads: Array.from({ length: steps }, () => normals(n)),
  };
}

/** Runs `update` (step k from 1) on backend from the trial's values; returns the parameter and state after. */
async function run(backend: string, t: Trial, update: (p: T.Tensor, g: T.Tensor, state: T.Tensor[], step: number) => void,
  transposedGrads: boolean): Promise<Float64Array[]> {
  const param = tensorOf(t.param, t.shape, backend), state = t.state.map((s) => tensorOf(s, t.shape, backend));
  t.grads.forEach((g, k) => T.scope(() => update(param, tensorOf(g, t.shape, backend, transposedGrads), state, k + 1)));
  const out = await Promise.all([param, ...state].map(values));
  [param, ...state].forEach((x) => x.dispose());
  return out;
}

const s = suite('fused optimizer updates');

for (const b of backends) {
  s(`adamUpdate vs the float64 reference (${b}, seed ${seed})`, async () => {
    for (const shape of SHAPES) {
      for (const decoupled of [false, true]) {
        const t = trial(shape, 2, 1);
        const opts = {
          lr: 10 ** -(1 + rng.int(3)), beta1: 0.5 + 0.45 * rng.uniform(), beta2: 0.9 + 0.099 * rng.uniform(),
          eps: rng.int(2) ? 1e-8 : 1e-3, weightDecay: rng.int(3) ? 0.1 * rng.uniform() : 0, decoupled,
        };
        const update = (p: T.Tensor, g: T.Tensor, [m, v]: T.Tensor[], step: number) => T.adamUpdate(p, g, m, v, { ...opts, step });
        const transposed = shape.length === 2;
        const [got, want] = [await run(b, t, update, transposed), await run(ORACLE, t, update, false)];
        const what = `adamUpdate [${shape}] ${JSON.stringify(opts)} ${t.grads.length} steps`;
        ['param', 'expAvg', 'expAvgSq'].forEach((name, k) => assertClose(got[k], want[k], `${what}: ${name}`, 1e-4, 1e-6));
      }
    }
  });

  s(`sgdUpdate vs the float64 reference (${b}, seed ${seed})`, async () => {
    for (const shape of SHAPES) {
      for (const nesterov of [false, true]) {
        const t = trial(shape, 1, -1);
        const opts = {
          lr: 10 ** -(1 + rng.int(2)), momentum: 0.5 + 0.45 * rng.uniform(), dampening: nesterov || rng.int(2) ? 0 : 0.3,
          weightDecay: rng.int(3) ? 0.1 * rng.uniform() : 0, nesterov,
        };
        // Every other trial starts the buffer as torch's first step does (its random contents are then ignored).
        const fresh = rng.int(2) === 1;
        const update = (p: T.Tensor, g: T.Tensor, [buf]: T.Tensor[], step: number) =>
          T.sgdUpdate(p, g, buf, { ...opts, firstStep: fresh && step === 1 });
        const [got, want] = [await run(b, t, update, shape.length === 2), await run(ORACLE, t, update, false)];
        const what = `sgdUpdate [${shape}] ${JSON.stringify(opts)} fresh ${fresh}, ${t.grads.length} steps`;
        ['param', 'momentumBuffer'].forEach((name, k) => assertClose(got[k], want[k], `${what}: ${name}`, 1e-4, 1e-6));
      }
    }
  });

  s(`adamUpdate and sgdUpdate reject bad input, naming the op, the shapes and the backend (${b})`, () => {
    const o = { backend: b };
    const adam = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 };
    const sgd = { lr: 0.1, momentum: 0.9 };
    const p = T.zeros([3], o), m = T.zeros([3], o), v = T.zeros([3], o);
    throwsWith(() => T.adamUpdate(p, T.zeros([4], o), m, v, adam), 'adamUpdate', 'shape', 'float32[3]', 'float32[4]', `on ${b}`);
    throwsWith(() => T.sgdUpdate(p, T.zeros([2, 2], o), m, sgd), 'sgdUpdate', 'shape', '[2, 2]', `on ${b}`);
    throwsWith(() => T.adamUpdate(p, T.zeros([3], { ...o, dtype: 'int32' }), m, v, adam), 'adamUpdate', 'float32', 'int32[3]');
    throwsWith(() => T.adamUpdate(p, p.clone(), m, m, adam), 'adamUpdate', 'share storage');
    throwsWith(() => T.sgdUpdate(p, p.clone(), p, sgd), 'sgdUpdate', 'share storage');
    const strided = T.transpose(T.zeros([3, 2], o));
    throwsWith(() => T.adamUpdate(strided, T.zeros([2, 3], o), T.zeros([2, 3], o), T.zeros([2, 3], o), adam), 'adamUpdate', 'dense', `on ${b}`);
    throwsWith(() => T.adamUpdate(p, p.clone(), m, v, { ...adam, step: 0 }), 'adamUpdate', 'step');
    throwsWith(() => T.adamUpdate(p, p.clone(), m, v, { ...adam, betas: [0.9, 0.99] } as never), 'adamUpdate', 'betas');
    throwsWith(() => T.sgdUpdate(p, p.clone(), m, { ...sgd, lr: NaN }), 'sgdUpdate', 'lr');
    const leaf = T.zeros([3], { ...o, requiresGrad: true });
    throwsWith(() => T.sgdUpdate(leaf, p.clone(), m, sgd), 'sgdUpdate', 'noGrad');
    T.noGrad(() => T.sgdUpdate(leaf, T.ones([3], o), m, { ...sgd, firstStep: true }));
    const elsewhere = T.zeros([3], { backend: b === ORACLE ? 'reference' : ORACLE });
    throwsWith(() => T.adamUpdate(p, elsewhere, m, v, adam), 'adamUpdate', 'different backends');
  });

  s(`Adam and SGD keep a view of a parameter at its old values, as assign did (${b})`, async () => {
    for (const make of [(ps: T.Tensor[]) => new T.optim.Adam(ps, { lr: 0.1 }), (ps: T.Tensor[]) => new T.optim.SGD(ps, { lr: 0.1, momentum: 0.9 })]) {
      const p = T.fromArray(Float32Array.from([1, 2, 3, 4]), [4], { backend: b, requiresGrad: true });
      const view = T.reshape(p.detach(), [2, 2]);
      const opt = make([p]);
      p.grad = T.ones([4], { backend: b });
      opt.step();
      assert.equal(Array.from(await view.data()), [1, 2, 3, 4]);
      assert.ok((await p.data()).every((x, i) => x < i + 1), 'the parameter moved down its gradient');
      opt.dispose();
    }
  });

  s(`an optimizer step with a gradient of the wrong shape names the update, the shapes and the backend (${b})`, () => {
    const p = T.zeros([2, 3], { backend: b, requiresGrad: true });
    const opt = new T.optim.AdamW([p]);
    p.grad = T.zeros([3, 2], { backend: b });
    throwsWith(() => opt.step(), 'adamUpdate', '[2, 3]', '[3, 2]', `on ${b}`);
    assert.equal(opt.stateDict().scalars['0.0.step'], undefined, 'a failed step counts no step');
    opt.dispose();
  });
}

s.run();
