// The fuzz corpus: seeded bad inputs for every public op. A case is plain data (JSON), so a child process can
// rebuild it on each backend; `realize` turns it into arguments on one backend. See test/fuzz.test.ts.
import * as T from '../../src/index.js';

/** A tensor to build on the backend under test, or a literal passed as is. */
export type ArgSpec =
  | { tensor: { shape: number[]; dtype: 'float32' | 'int32'; values: (number | string)[]; disposed?: boolean } }
  | { list: ArgSpec[] }
  | { literal: unknown };

export interface FuzzCase { id: number; op: string; args: ArgSpec[] }

/** The kinds of argument an op takes; each kind draws good and bad values. */
type Kind = 'xFinite' | 'x' | 'x01' | 'i' | 'axis' | 'shape' | 'int' | 'num' | 'opts' | 'dtype' | 'xs' | 'nested';

/** Every public op and the kinds of its arguments; `name` is how its errors must begin. */
export const OPS: Readonly<Record<string, { kinds: Kind[]; name?: string; call: (...a: unknown[]) => unknown }>> = (() => {
  const f = T as unknown as Record<string, (...a: unknown[]) => unknown>;
  const table: Record<string, { kinds: Kind[]; name?: string; call: (...a: unknown[]) => unknown }> = {};
  const add = (names: string[], kinds: Kind[]) => { for (const n of names) table[n] = { kinds, call: f[n] }; };
  add(['neg', 'exp', 'log', 'log1p', 'sqrt', 'rsqrt', 'abs', 'sign', 'floor', 'tanh', 'sigmoid', 'relu', 'elu', 'gelu',
    'softplus', 'sin', 'cos', 'square', 'reciprocal', 'contiguous', 'clone', 'flatten', 'detach'], ['x']);
  add(['add', 'sub', 'mul', 'div', 'pow', 'minimum', 'maximum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'], ['x', 'x']);
  add(['leakyRelu'], ['x', 'num']);
  add(['where', 'maskedFill'], ['x', 'x', 'x']);
  add(['clamp'], ['x', 'num', 'num']);
  // Known gap: casting NaN or ±Infinity to int32 gives 0 on reference/cpu but saturates on webgpu, so cast draws finite values.
  add(['cast'], ['xFinite', 'dtype']);
  add(['sum', 'mean', 'max', 'min', 'prod', 'argmax', 'argmin', 'logsumexp', 'softmax', 'logSoftmax', 'squeeze', 'unsqueeze'], ['x', 'axis']);
  add(['std'], ['x', 'axis', 'opts']);
  table.var_ = { kinds: ['x', 'axis', 'opts'], name: 'var', call: f.var_ };
  add(['reshape', 'expand', 'permute'], ['x', 'shape']);
  add(['transpose'], ['x', 'axis', 'axis']);
  add(['slice'], ['x', 'axis', 'int', 'int']);
  add(['select'], ['x', 'axis', 'int']);
  add(['matmul'], ['x', 'x', 'opts']);
  add(['linear'], ['x', 'x', 'opts']);
  add(['gather', 'indexSelect'], ['x', 'axis', 'i']);
  add(['scatterAdd'], ['x', 'axis', 'i', 'x']);
  add(['oneHot'], ['i', 'int']);
  add(['concat', 'stack'], ['xs', 'axis']);
  add(['crossEntropy', 'nll'], ['x', 'i', 'opts']);
  add(['mse', 'bceWithLogits', 'huber', 'l1'], ['x', 'x']);
  add(['bce'], ['x01', 'x01']);
  add(['cmd'], ['x', 'x']);
  add(['conv2d'], ['x', 'x', 'opts']);
  add(['maxPool2d', 'avgPool2d'], ['x', 'int']);
  add(['zeros', 'ones'], ['shape', 'opts']);
  add(['full'], ['shape', 'num', 'opts']);
  add(['arange'], ['int', 'int', 'int', 'opts']);
  add(['eye'], ['int', 'int']);
  add(['randn', 'rand'], ['shape', 'opts']);
  add(['randint'], ['int', 'int', 'shape']);
  add(['tensor'], ['nested', 'opts']);
  return table;
})();

/** mulberry32: small, seeded, the same on every platform. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Beyond int32 (every backend must refuse it at once) and far enough past it that no difference with the other
// drawn ints (at most 100000) falls back under 2^31 - 1: `arange(100000, 2 ** 31)` would be a legal 8 GiB tensor,
// which a 1,200-case run once built, taking minutes and 18 GB, instead of probing an error path.
const HUGE = 3 * 2 ** 30;

function draw(r: () => number, kind: Kind): ArgSpec {
  const pick = <V>(vs: readonly V[]): V => vs[Math.floor(r() * vs.length)];
  const shape = (): number[] => Array.from({ length: pick([0, 1, 2, 2, 3, 4]) }, () => pick([0, 1, 2, 3, 3, 4]));
  const tensorOf = (dtype: 'float32' | 'int32', lo: number, hi: number, nonFinite = true): ArgSpec => {
    const s = shape();
    const n = s.reduce((a, b) => a * b, 1);
    const special = nonFinite && r() < 0.3;
    const values = Array.from({ length: n }, () => {
      if (special && r() < 0.3) return dtype === 'int32' ? pick([2 ** 31 - 1, -(2 ** 31), 0]) : pick(['NaN', 'Infinity', '-Infinity', 0]);
      const v = lo + (hi - lo) * r();
      return dtype === 'int32' ? Math.floor(v) : Math.round(v * 1000) / 1000;
    });
    return { tensor: { shape: s, dtype, values, disposed: r() < 0.04 } };
  };
  const wrong = (): ArgSpec => ({ literal: pick(['a', null, undefined, {}, [1, 2], true, 2]) });
  if (r() < 0.06 && kind !== 'opts') return wrong();
  switch (kind) {
    case 'x': return r() < 0.15 ? tensorOf('int32', -3, 4) : tensorOf('float32', -3, 3);
    case 'x01': return tensorOf('float32', 0, 1);
    case 'xFinite': return r() < 0.15 ? tensorOf('int32', -3, 4) : tensorOf('float32', -3, 3, false);
    case 'i': return r() < 0.1 ? tensorOf('float32', 0, 3) : tensorOf('int32', -1, 5);
    case 'xs': return { list: Array.from({ length: pick([0, 1, 2, 3]) }, () => draw(r, 'x')) };
    case 'axis': return { literal: pick([0, 1, -1, 2, -2, 3, 5, NaN, 1.5, undefined]) };
    case 'shape': return { literal: r() < 0.15 ? pick([[HUGE + 8], [65536, 65536], [-1, 2], [NaN], [1.5], [2, -2]]) : shape() };
    case 'int': return { literal: pick([0, 1, 2, 3, -1, -3, NaN, 1.5, Infinity, HUGE, 100000]) };
    case 'num': return { literal: pick([0, 1, -1, 0.5, 2, NaN, Infinity, -Infinity]) };
    case 'nested': return { literal: pick([[[1, 2], [3]], [NaN], [[1, 2], [3, 4]], 'a', [1e10], [], [[]], [1, 'b'], 3, [-(2 ** 31) - 1]]) };
    case 'dtype': return { literal: pick(['float32', 'int32', 'int64', 'float16', 'bool', undefined]) };
    case 'opts': return { literal: pick([undefined, {}, { bogus: 1 }, null, 'x', { reduction: 'none' }, { dtype: 'int64' },
      { bias: 'a' }, { ignoreIndex: 1 }, { keepdims: true }, { correction: NaN }, { padding: 1 }, { dtype: 'int32' }]) };
  }
}

/** `count` cases from `seed`, cycling through the ops so each gets its share. */
export function corpus(seed: number, count: number): FuzzCase[] {
  const names = Object.keys(OPS).sort();
  const r = rng(seed);
  return Array.from({ length: count }, (_, id) => {
    const op = names[id % names.length];
    return { id, op, args: OPS[op].kinds.map((k) => draw(r, k)) };
  });
}

/** The case's arguments on `backend` (creation ops get the backend through their options). */
export function realize(c: FuzzCase, backend: string): unknown[] {
  const build = (a: ArgSpec): unknown => {
    if ('literal' in a) return a.literal;
    if ('list' in a) return a.list.map(build);
    const { shape, dtype, values, disposed } = a.tensor;
    const t = T.fromArray(values.map(Number), shape, { backend, dtype });
    if (disposed) t.dispose();
    return t;
  };
  const args = c.args.map(build);
  const creation = ['zeros', 'ones', 'full', 'arange', 'randn', 'rand', 'tensor'];
  if (creation.includes(c.op)) {
    const last = args.length - 1;
    const opts = args[last];
    // Options the case drew stay (bad ones included); the backend is added where they are an object or absent.
    if (opts === undefined || (typeof opts === 'object' && opts !== null && !Array.isArray(opts))) args[last] = { ...(opts as object), backend };
  }
  if (c.op === 'eye') args.push({ backend });
  if (c.op === 'randint') args.push({ backend });
  return args;
}
