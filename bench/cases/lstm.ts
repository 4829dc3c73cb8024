// nn.LSTM at DeepAR's shapes through the public API, vs torch.nn.LSTM with the same weights: a training
// pass (2 layers, batch-first [32, 60, 30], H = 40, forward + backward of sum(output * g)) and one
// ancestral-sampling step (T = 1 for 200 paths with carried state, forward only).
import * as T from '../../src/index.js';
import { Rng } from '../../src/rng.js';
import {
  type BenchCase, type CaseResult, Exchange, medianMs, peerTimes, pythonTorch, relativeDifference,
} from '../peers/signature_peers.js';
import { sized } from '../case.js';

const B = 32, STEPS = sized(60, 8), IN = 30, H = 40, LAYERS = 2, PATHS = sized(200, 16);

function normals(n: number, rng: Rng): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return v;
}

interface Measured { fwdBwdMs: number; stepMs: number; out: Float32Array; gw: Float32Array; step: Float32Array }

async function measure(): Promise<{ measured: Measured; arrays: Record<string, { data: Float32Array; shape: number[] }> }> {
  await T.setBackend('cpu');
  const rng = new Rng(11);
  const lstm = new T.nn.LSTM(IN, H, { numLayers: LAYERS, batchFirst: true, generator: new T.Rng(3) });
  const arrays: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const [name, p] of Object.entries(lstm.stateDict())) arrays[name] = { data: p.dataSync() as Float32Array, shape: [...p.shape] };
  const put = (name: string, shape: number[]) => {
    arrays[name] = { data: normals(shape.reduce((a, b) => a * b, 1), rng), shape };
    return T.fromArray(arrays[name].data, shape);
  };
  const x = put('x', [B, STEPS, IN]), g = put('g', [B, STEPS, H]);
  const stepX = put('step_x', [PATHS, 1, IN]), stepH = put('step_h', [LAYERS, PATHS, H]), stepC = put('step_c', [LAYERS, PATHS, H]);
  let out: Float32Array = new Float32Array(0), gw: Float32Array = new Float32Array(0), step: Float32Array = new Float32Array(0);
  const fwdBwd = () => T.scope(() => {
    lstm.zeroGrad();
    const [y] = lstm.forward(x);
    T.sum(T.mul(y, g)).backward();
    out = y.dataSync() as Float32Array;
    gw = lstm.layers[0].weightHh.grad!.dataSync() as Float32Array;
  });
  const sample = () => T.scope(() => T.noGrad(() => { step = lstm.forward(stepX, [stepH, stepC])[0].dataSync() as Float32Array; }));
  const fwdBwdMs = medianMs(fwdBwd, sized(10, 2));
  const stepMs = medianMs(sample, sized(200, 4));
  return { measured: { fwdBwdMs, stepMs, out, gw, step }, arrays };
}

let shared: ReturnType<typeof measureWithPeer> | undefined;

async function measureWithPeer(): Promise<{ m: Measured; torch?: Record<string, number>; check?: Record<string, number> }> {
  const { measured: m, arrays } = await measure();
  const ex = new Exchange({ input: IN, hidden: H, layers: LAYERS }, arrays);
  try {
    const torch = ex.runPeer(pythonTorch, 'lstm_torch.py', 'torch', sized(10, 2));
    if (!torch) return { m };
    return {
      m, torch,
      check: {
        output: relativeDifference(m.out, ex.read('out_torch')),
        weight_hh_l0: relativeDifference(m.gw, ex.read('gw_torch')),
        step: relativeDifference(m.step, ex.read('step_torch')),
      },
    };
  } finally {
    ex.dispose();
  }
}

/** Both cases come from one measurement (one peer process). */
async function result(which: 'fwdBwd' | 'step'): Promise<CaseResult> {
  shared ??= measureWithPeer();
  const { m, torch, check } = await shared;
  const label = which === 'fwdBwd' ? 'torch fwd+bwd' : 'torch step';
  return {
    tesseraMs: which === 'fwdBwd' ? m.fwdBwdMs : m.stepMs,
    peers: torch ? peerTimes(torch, label, `torch.nn.LSTM ${which === 'fwdBwd' ? 'fwd+bwd' : 'step'}`) : {},
    check,
  };
}

export const cases: BenchCase[] = [
  { name: `nn.LSTM ${LAYERS} x ${H}, batch-first [${B}, ${STEPS}, ${IN}], forward + backward`, kernel: 'lstm', run: () => result('fwdBwd') },
  { name: `nn.LSTM ${LAYERS} x ${H}, one sampling step of ${PATHS} paths with carried state`, kernel: 'lstm', run: () => result('step') },
];
