// JavaScript peers, in the bench's own process: TensorFlow.js on its cpu backend (plain JS) and its
// wasm backend (SIMD; single-threaded: tfjs turns wasm threads off under Node, tensorflow/tfjs#3830,
// and forcing WASM_HAS_MULTITHREAD_SUPPORT makes the backend fail to initialize), and onnxruntime-node's
// CPU execution provider (a one-node ONNX model per op, intra-op threads = the bench's threads).
// Each peer is optional (devDependencies): a missing one is skipped with a line saying so.
import { createRequire } from 'node:module';
import { benchThreads, describePeer } from '../case.js';
import { relativeDifference } from './signature_peers.js';

/** An op and its inputs in Tessera's layouts (row-major; convolutions NC[D]HW, weights O C k...). */
export type JsOp =
  | { kind: 'matmul'; n: number; a: Float32Array; b: Float32Array }
  | { kind: 'add'; a: Float32Array; b: Float32Array }
  | { kind: 'exp'; a: Float32Array }
  | { kind: 'conv'; x: Float32Array; w: Float32Array; xShape: number[]; wShape: number[]; stride: number[]; padding: number[] };

export interface JsPeerResult { ms: Record<string, number>; check: Record<string, number> }

const require = createRequire(import.meta.url);
const skipped = new Set<string>();
function skip(peer: string, why: string): undefined {
  if (!skipped.has(peer)) console.log(`  (peer ${peer} skipped: ${why})`);
  skipped.add(peer);
  return undefined;
}
function version(pkg: string): string {
  try { return (require(`${pkg}/package.json`) as { version: string }).version; } catch { return '?'; }
}

async function median(step: () => Promise<void> | void, repeats: number): Promise<number> {
  await step();
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await step();
    t.push(performance.now() - t0);
  }
  t.sort((x, y) => x - y);
  const m = t.length >> 1;
  return t.length % 2 ? t[m] : (t[m - 1] + t[m]) / 2;
}

/** import() of an optional package by a non-literal name: tsc does not load its type declarations
 *  (tfjs's bundle its own @webgpu/types, which clash with this project's). */
const optionalImport = (name: string): Promise<any> => import(name);

// ---- TensorFlow.js: the few calls used here ----

export interface TfTensor { dataSync(): ArrayLike<number>; data(): Promise<ArrayLike<number>>; dispose(): void }
export interface Tf {
  env(): { set(flag: string, value: unknown): void };
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  tensor(data: Float32Array, shape: number[]): TfTensor;
  randomNormal(shape: number[]): TfTensor;
  matMul(a: TfTensor, b: TfTensor): TfTensor;
  add(a: TfTensor, b: TfTensor): TfTensor;
  exp(a: TfTensor): TfTensor;
  conv2d(x: TfTensor, w: TfTensor, strides: number[], pad: 'same' | 'valid'): TfTensor;
  conv3d(x: TfTensor, w: TfTensor, strides: number[], pad: 'same' | 'valid'): TfTensor;
}
let tfLoaded: Promise<Tf | undefined> | undefined;
async function tfjs(): Promise<Tf | undefined> {
  tfLoaded ??= (async () => {
    try {
      const tf = (await optionalImport('@tensorflow/tfjs-core')) as Tf;
      await optionalImport('@tensorflow/tfjs-backend-cpu');
      try { await optionalImport('@tensorflow/tfjs-backend-wasm'); } catch (e) { skip('tfjs wasm', (e as Error).message.split('\n')[0]); }
      tf.env().set('IS_TEST', false);
      return tf;
    } catch (e) {
      return skip('tfjs', `@tensorflow/tfjs-core / tfjs-backend-cpu not installed (${(e as Error).message.split('\n')[0]})`);
    }
  })();
  return tfLoaded;
}

/** Gives TensorFlow.js's webgpu backend the adapter Tessera's webgpu backend uses: Node has no
 *  navigator.gpu, so both get the `webgpu` package's (Dawn) GPU object through globalThis.navigator,
 *  which Tessera's runtime prefers when present. Call before either backend starts. */
export async function shareWebGpuAdapter(): Promise<boolean> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu) return true;
  try {
    const dawn = await optionalImport('webgpu');
    Object.assign(globalThis, dawn.globals);
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu: dawn.create([]) }, configurable: true, writable: true });
    return true;
  } catch (e) {
    skip('tfjs webgpu', `the webgpu package does not load (${(e as Error).message.split('\n')[0]})`);
    return false;
  }
}

/** Switches TensorFlow.js to `backend`, or says why it cannot. */
export async function tfjsOn(backend: string): Promise<Tf | undefined> {
  const tf = await tfjs();
  if (!tf) return undefined;
  try {
    // tfjs-backend-webgpu registers itself at import only if navigator.gpu exists then, so it is imported
    // here, after the adapter is shared, rather than with the other backends.
    if (backend === 'webgpu') {
      if (!(await shareWebGpuAdapter())) return undefined;
      await optionalImport('@tensorflow/tfjs-backend-webgpu');
    }
    if (!(await tf.setBackend(backend))) return skip(`tfjs ${backend}`, 'backend did not initialize');
    await tf.ready();
    return tf;
  } catch (e) {
    return skip(`tfjs ${backend}`, (e as Error).message.split('\n')[0]);
  }
}

/** NCDHW -> NDHWC (tfjs's only conv3d layout; NCHW -> NHWC for 2D), and O C k... -> k... C O. */
function toChannelsLast(data: Float32Array, shape: number[], weights: boolean): Float32Array {
  const [a, b, ...space] = shape;
  const plane = space.reduce((p, s) => p * s, 1);
  const out = new Float32Array(data.length);
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let s = 0; s < plane; s++) {
        const src = (i * b + j) * plane + s;
        // Weights: [O, C, k] -> [k, C, O]; activations: [N, C, s] -> [N, s, C].
        out[weights ? (s * b + j) * a + i : (i * plane + s) * b + j] = data[src];
      }
  return out;
}

async function timeTfjs(backend: string, op: JsOp, repeats: number, expected: Float32Array | undefined, res: JsPeerResult): Promise<void> {
  const tf = await tfjsOn(backend);
  if (!tf) return;
  const label = `tfjs-${backend} ${version('@tensorflow/tfjs-core')}`;
  const inputs: TfTensor[] = [];
  let run: () => TfTensor;
  let layoutMatches = true;
  if (op.kind === 'matmul') {
    const a = tf.tensor(op.a, [op.n, op.n]), b = tf.tensor(op.b, [op.n, op.n]);
    inputs.push(a, b);
    run = () => tf.matMul(a, b);
  } else if (op.kind === 'add') {
    const a = tf.tensor(op.a, [op.a.length]), b = tf.tensor(op.b, [op.b.length]);
    inputs.push(a, b);
    run = () => tf.add(a, b);
  } else if (op.kind === 'exp') {
    const a = tf.tensor(op.a, [op.a.length]);
    inputs.push(a);
    run = () => tf.exp(a);
  } else {
    // tfjs takes 'same' / 'valid' padding only: 'same' does the same work as the symmetric padding
    // of these cases (its placement may differ by one at stride 2), so the output is not compared.
    layoutMatches = false;
    const space = op.xShape.length - 2;
    const [N, C, ...sizes] = op.xShape;
    const [O, , ...k] = op.wShape;
    const x = tf.tensor(toChannelsLast(op.x, op.xShape, false), [N, ...sizes, C]);
    const w = tf.tensor(toChannelsLast(op.w, op.wShape, true), [...k, C, O]);
    inputs.push(x, w);
    if (space === 3) {
      run = () => tf.conv3d(x, w, op.stride, 'same');
    } else {
      run = () => tf.conv2d(x, w, op.stride, 'same');
    }
  }
  try {
    let out: Float32Array = new Float32Array(0);
    res.ms[label] = await median(() => { const y = run(); out = y.dataSync() as Float32Array; y.dispose(); }, repeats);
    if (expected && layoutMatches) res.check[label] = relativeDifference(out, expected);
    describePeer(label, {
      summary: `@tensorflow/tfjs-core ${version('@tensorflow/tfjs-core')} + tfjs-backend-${backend} ${version(`@tensorflow/tfjs-backend-${backend}`)}` +
        (backend === 'wasm' ? ', SIMD, 1 thread (tfjs disables wasm threads under Node)' : backend === 'cpu' ? ', plain JS, 1 thread' : ''),
    });
  } catch (e) {
    skip(`${label} ${op.kind}`, (e as Error).message.split('\n')[0]);
  } finally {
    for (const t of inputs) t.dispose();
  }
}

// ---- onnxruntime-node ----

/** Minimal protobuf writer for the few ONNX messages a one-node model needs. */
class Proto {
  private bytes: number[] = [];
  private varint(v: number): void {
    let n = BigInt(v);
    if (n < 0n) n += 1n << 64n;
    do {
      let b = Number(n & 0x7fn);
      n >>= 7n;
      if (n) b |= 0x80;
      this.bytes.push(b);
    } while (n);
  }
  int(field: number, v: number): this { this.varint(field << 3); this.varint(v); return this; }
  ints(field: number, vs: number[]): this { for (const v of vs) this.int(field, v); return this; }
  raw(field: number, data: Uint8Array): this { this.varint((field << 3) | 2); this.varint(data.length); this.bytes.push(...data); return this; }
  str(field: number, s: string): this { return this.raw(field, new TextEncoder().encode(s)); }
  msg(field: number, m: Proto): this { return this.raw(field, m.done()); }
  done(): Uint8Array { return Uint8Array.from(this.bytes); }
}

const FLOAT = 1, ATTR_INTS = 7;
function valueInfo(name: string, shape: number[]): Proto {
  const dims = new Proto();
  for (const d of shape) dims.msg(1, new Proto().int(1, d));
  return new Proto().str(1, name).msg(2, new Proto().msg(1, new Proto().int(1, FLOAT).msg(2, dims)));
}

/** ModelProto with one node `opType(inputs) -> y` (opset 17). */
function oneNodeModel(opType: string, inputs: [string, number[]][], outShape: number[], attrs: Record<string, number[]> = {}): Uint8Array {
  const node = new Proto();
  for (const [name] of inputs) node.str(1, name);
  node.str(2, 'y').str(3, 'op').str(4, opType);
  for (const [name, values] of Object.entries(attrs)) node.msg(5, new Proto().str(1, name).int(20, ATTR_INTS).ints(8, values));
  const graph = new Proto().msg(1, node).str(2, 'bench');
  for (const [name, shape] of inputs) graph.msg(11, valueInfo(name, shape));
  graph.msg(12, valueInfo('y', outShape));
  return new Proto().int(1, 8).msg(8, new Proto().str(1, '').int(2, 17)).msg(7, graph).done();
}

// ---- onnxruntime-node: the few calls used here ----

interface OrtTensor { data: ArrayLike<number> }
interface Ort {
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, options: object): Promise<{ run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>; release(): Promise<void> }> };
}
let ortLoaded: Promise<Ort | undefined> | undefined;
async function ort(): Promise<Ort | undefined> {
  ortLoaded ??= optionalImport('onnxruntime-node').then((m) => m as Ort).catch((e: Error) =>
    skip('onnxruntime-node', `not installed or its binary does not load (${e.message.split('\n')[0]})`));
  return ortLoaded;
}

async function timeOrt(op: JsOp, repeats: number, expected: Float32Array | undefined, res: JsPeerResult): Promise<void> {
  const o = await ort();
  if (!o) return;
  const label = `onnxruntime-node ${version('onnxruntime-node')}`;
  let model: Uint8Array;
  const feeds: Record<string, OrtTensor> = {};
  if (op.kind === 'matmul') {
    model = oneNodeModel('MatMul', [['a', [op.n, op.n]], ['b', [op.n, op.n]]], [op.n, op.n]);
    feeds.a = new o.Tensor('float32', op.a, [op.n, op.n]);
    feeds.b = new o.Tensor('float32', op.b, [op.n, op.n]);
  } else if (op.kind === 'add') {
    model = oneNodeModel('Add', [['a', [op.a.length]], ['b', [op.b.length]]], [op.a.length]);
    feeds.a = new o.Tensor('float32', op.a, [op.a.length]);
    feeds.b = new o.Tensor('float32', op.b, [op.b.length]);
  } else if (op.kind === 'exp') {
    model = oneNodeModel('Exp', [['a', [op.a.length]]], [op.a.length]);
    feeds.a = new o.Tensor('float32', op.a, [op.a.length]);
  } else {
    const space = op.xShape.length - 2;
    const k = op.wShape.slice(2);
    const outSpace = op.xShape.slice(2).map((s, i) => Math.floor((s + 2 * op.padding[i] - k[i]) / op.stride[i]) + 1);
    model = oneNodeModel('Conv', [['x', op.xShape], ['w', op.wShape]], [op.xShape[0], op.wShape[0], ...outSpace], {
      strides: op.stride, pads: [...op.padding, ...op.padding], kernel_shape: k, dilations: new Array(space).fill(1),
    });
    feeds.x = new o.Tensor('float32', op.x, op.xShape);
    feeds.w = new o.Tensor('float32', op.w, op.wShape);
  }
  try {
    const session = await o.InferenceSession.create(model, {
      executionProviders: ['cpu'], intraOpNumThreads: benchThreads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
    });
    let out: Float32Array = new Float32Array(0);
    res.ms[label] = await median(async () => { out = (await session.run(feeds)).y.data as Float32Array; }, repeats);
    if (expected) res.check[label] = relativeDifference(out, expected);
    await session.release();
    describePeer(label, { summary: `onnxruntime-node ${version('onnxruntime-node')}, CPU execution provider, ${benchThreads} intra-op threads` });
  } catch (e) {
    skip(`${label} ${op.kind}`, (e as Error).message.split('\n')[0]);
  }
}

/** tfjs's cpu backend is plain JavaScript (~1 GFLOP/s): beyond this much work a case would take minutes. */
const TFJS_CPU_MAX_FLOPS = 3e9;

/** Times `op` on every JavaScript peer present; `expected` (Tessera's output) is compared where the
 *  layouts match. `flops`: the op's work, to leave out tfjs's cpu backend where it would take minutes. */
export async function jsPeers(op: JsOp, repeats: number, expected?: Float32Array, flops = 0): Promise<JsPeerResult> {
  const res: JsPeerResult = { ms: {}, check: {} };
  await timeTfjs('wasm', op, repeats, expected, res);
  if (flops <= TFJS_CPU_MAX_FLOPS) await timeTfjs('cpu', op, Math.min(repeats, 3), expected, res);
  else console.log(`  (peer tfjs-cpu left out of this case: ${(flops / 1e9).toFixed(0)} GFLOP in plain JavaScript would take minutes)`);
  await timeOrt(op, repeats, expected, res);
  return res;
}
