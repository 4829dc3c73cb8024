// Shared test machinery: which backends to test, random inputs, tolerant
// comparison, and gradient checks against float64 finite differences.
import * as assert from 'uvu/assert';
import * as T from '../src/index.js';
import { HostBuf } from '../src/backend/hostbuf.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { Rng } from '../src/rng.js';

export { T };

T.registerBackend('reference64', () => new ReferenceBackend({ float64: true }));

/** TESSERA_TEST_BACKENDS=cuda,cpu limits the suites to those backends (the reference oracle always runs). */
const onlyBackends = process.env.TESSERA_TEST_BACKENDS?.split(',').map((b) => b.trim()).filter(Boolean);

/** Backends present on this machine, the oracle first. webgpu is required under CI=true. */
export async function backendsUnderTest(): Promise<string[]> {
  const unknown = onlyBackends?.filter((b) => !T.listBackends().includes(b)) ?? [];
  if (unknown.length) throw new Error(`TESSERA_TEST_BACKENDS names unknown backends ${unknown.join(', ')} (known: ${T.listBackends().join(', ')})`);
  const out = ['reference'];
  for (const name of T.listBackends()) {
    if (name === 'reference' || name === 'reference64') continue;
    if (onlyBackends && !onlyBackends.includes(name)) continue;
    try {
      await T.initBackend(name);
      out.push(name);
    } catch (e) {
      const required = (name === 'cpu' || name === 'webgpu') && process.env.CI === 'true';
      if (required) throw new Error(`backend ${name} is required in CI but failed: ${(e as Error).message}`);
      console.log(`  (skipping backend ${name}: ${(e as Error).message.split('\n')[0]})`);
    }
  }
  return out;
}

export const seed = Number(process.env.TESSERA_TEST_SEED ?? (Date.now() % 1e9));
export const rng = new Rng(seed);

export type InputKind = 'normal' | 'positive' | 'unit' | 'int';
export interface InputSpec {
  shape: number[];
  kind?: InputKind;
  /** For int inputs: values in [0, high). */
  high?: number;
  /** Make the input a non-contiguous view: 'T' transposes the last two axes, 'step' takes every other element of the last axis. */
  layout?: 'T' | 'step';
  /** No gradient for this input. */
  noGrad?: boolean;
}

export function randomValues(spec: InputSpec, r: Rng = rng): Float64Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (spec.kind ?? 'normal') {
      case 'normal': v[i] = r.normal(); break;
      case 'positive': v[i] = 0.5 + 2 * r.uniform(); break;
      case 'unit': v[i] = 0.05 + 0.9 * r.uniform(); break;
      case 'int': v[i] = r.int(spec.high ?? 4); break;
    }
  }
  return v;
}

/** Builds the tensor for a spec on a backend from given values (float64 values kept exactly on reference64). */
export function makeInput(spec: InputSpec, values: Float64Array, backend: string, requiresGrad: boolean): T.Tensor {
  const dtype = spec.kind === 'int' ? 'int32' : 'float32';
  const shape = spec.shape;
  let storedShape = shape, data = values;
  if (spec.layout === 'T' && shape.length >= 2) {
    const r = shape[shape.length - 2], c = shape[shape.length - 1], batch = values.length / Math.max(r * c, 1);
    storedShape = [...shape.slice(0, -2), c, r];
    data = new Float64Array(values.length);
    for (let b = 0; b < batch; b++) for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[b * r * c + j * r + i] = values[b * r * c + i * c + j];
  } else if (spec.layout === 'step') {
    const c = shape[shape.length - 1];
    storedShape = [...shape.slice(0, -1), 2 * c];
    data = new Float64Array(values.length * 2).fill(NaN);
    for (let i = 0; i < values.length; i++) data[Math.floor(i / c) * 2 * c + 2 * (i % c)] = values[i];
  }
  let t = T.fromArray(dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data), storedShape, { backend, dtype });
  if (backend === 'reference64' && dtype === 'float32') (t.storage.buf as HostBuf).data.set(data);
  if (spec.layout === 'T' && shape.length >= 2) t = t.transpose();
  else if (spec.layout === 'step') t = t.slice(-1, 0, undefined, 2);
  if (requiresGrad && dtype === 'float32' && !spec.noGrad) {
    // A view is not a leaf; gradients are taken on the view itself through a detached leaf copy.
    t = t.detach();
    t.requiresGrad_();
  }
  return t;
}

export async function values(t: T.Tensor): Promise<Float64Array> {
  if (t.backend.name === 'reference64') {
    const dense = t.contiguous();
    return (t.backend as ReferenceBackend).readF64(dense.storage.buf!);
  }
  return Float64Array.from(await t.data());
}

/** Max |a - b| / (atol + rtol |b|) must stay below 1. */
export function closeness(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): { ok: boolean; worst: string } {
  if (actual.length !== expected.length) return { ok: false, worst: `length ${actual.length} vs ${expected.length}` };
  let worstRatio = 0, worstAt = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], b = expected[i];
    if (Number.isNaN(b) && Number.isNaN(a)) continue;
    if (a === b) continue;
    const ratio = Math.abs(a - b) / (atol + rtol * Math.abs(b));
    if (!(ratio <= worstRatio)) { worstRatio = Number.isNaN(ratio) ? Infinity : ratio; worstAt = i; }
  }
  return { ok: worstRatio <= 1, worst: worstAt < 0 ? 'none' : `at ${worstAt}: ${actual[worstAt]} vs ${expected[worstAt]}` };
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-5): void {
  const c = closeness(actual, expected, rtol, atol);
  if (!c.ok) throw new Error(`${what}: mismatch ${c.worst} (seed ${seed})`);
}

/** Central finite differences in float64 on reference64 vs the analytic gradient of sum(f(x) * w). */
export async function gradcheck(name: string, specs: InputSpec[], fn: (...ts: T.Tensor[]) => T.Tensor, eps = 1e-6): Promise<void> {
  const vals = specs.map((s) => randomValues(s));
  const inputs = specs.map((s, i) => makeInput(s, vals[i], 'reference64', true));
  const out = fn(...inputs);
  const w = randomValues({ shape: [...out.shape] });
  const wT = makeInput({ shape: [...out.shape] }, w, 'reference64', false);
  const loss = T.sum(T.mul(out, wT));
  if (!loss.requiresGrad) throw new Error(`${name}: output does not require grad`);
  loss.backward();
  const evalAt = (k: number, i: number, delta: number): number => T.noGrad(() => {
    const v = vals[k].slice(); v[i] += delta;
    const ins = specs.map((s, j) => makeInput(s, j === k ? v : vals[j], 'reference64', false));
    const o = fn(...ins);
    const ov = (o.backend as ReferenceBackend).readF64(o.contiguous().storage.buf!);
    let acc = 0;
    for (let e = 0; e < ov.length; e++) acc += ov[e] * w[e];
    return acc;
  });
  for (let k = 0; k < specs.length; k++) {
    if (specs[k].kind === 'int' || specs[k].noGrad) continue;
    const g = inputs[k].grad;
    const analytic = g ? await values(g) : new Float64Array(vals[k].length);
    const numeric = new Float64Array(vals[k].length);
    for (let i = 0; i < numeric.length; i++) numeric[i] = (evalAt(k, i, eps) - evalAt(k, i, -eps)) / (2 * eps);
    assertClose(analytic, numeric, `${name}: gradient of input ${k}`, 1e-5, 1e-6);
  }
}

export interface OpCase {
  name: string;
  inputs: InputSpec[];
  fn: (...ts: T.Tensor[]) => T.Tensor;
  /** false for ops without a gradient (comparisons, argmax, ...). */
  grad?: boolean;
  rtol?: number;
}

/** Runs one case on `backend` and on reference64 with the same fresh inputs; compares outputs and gradients. */
export async function checkCaseOnBackend(c: OpCase, backend: string): Promise<void> {
  const vals = c.inputs.map((spec) => randomValues(spec));
  const run = (b: string) => {
    const ins = c.inputs.map((spec, i) => makeInput(spec, vals[i], b, c.grad !== false));
    return { ins, out: c.fn(...ins) };
  };
  const ref = run('reference64');
  const got = run(backend);
  if (got.out.backend.name !== backend) throw new Error(`${c.name}: result landed on ${got.out.backend.name}, not ${backend}`);
  const rtol = c.rtol ?? 1e-4;
  assertClose(await values(got.out), await values(ref.out), `${c.name} forward on ${backend}`, rtol, 1e-5);
  if (c.grad === false) return;
  const w = randomValues({ shape: [...ref.out.shape] });
  for (const side of [ref, got]) {
    const wt = makeInput({ shape: [...ref.out.shape] }, w, side.out.backend.name, false);
    T.sum(T.mul(side.out, wt)).backward();
  }
  for (let i = 0; i < c.inputs.length; i++) {
    if (!ref.ins[i].requiresGrad) continue;
    const gr = ref.ins[i].grad, gg = got.ins[i].grad;
    if (!gr) { if (gg) throw new Error(`${c.name}: gradient for input ${i} on ${backend} where the reference has none`); continue; }
    if (!gg) throw new Error(`${c.name}: no gradient for input ${i} on ${backend}`);
    assertClose(await values(gg), await values(gr), `${c.name} gradient ${i} on ${backend}`, rtol * 10, 1e-4);
  }
}

/** fn must throw an Error whose message contains every one of `parts`. */
export function throwsWith(fn: () => unknown, ...parts: string[]): void {
  try { fn(); } catch (e) {
    const message = (e as Error).message;
    for (const part of parts) assert.ok(message.includes(part), `'${message}' should mention '${part}'`);
    return;
  }
  assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
}

/** fn must throw an Error whose message matches `pattern`. */
export const throwsMatching = (fn: () => unknown, pattern: RegExp): void =>
  assert.throws(fn, (e: Error) => pattern.test(e.message));
