// The cpu backend's Winograd convolution (native/cpu/conv_winograd.cc, F(2, 3) along every 3-tap
// axis, chosen for stride 1, dilation 1, one group, 1 or 3 taps per axis) against the reference
// backend on fresh random inputs: forward (with bias), backward-input and backward-weight, on
// awkward shapes (odd sizes, extent 1 and 2 along an axis, padding 0, 1 and 2, C != O, batch > 1,
// many channels, enough tiles for several chunks), at every SIMD level of this CPU. Shapes whose
// tiles would mostly overhang the output do not pay for Winograd, so the addon's setConvWinograd
// ('always') makes every eligible shape take it here; its convAlgorithm export says which algorithm
// each kernel takes, so the test checks that these shapes do run the Winograd path (and that the
// others do not), and which path the automatic rule picks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConvParams } from '../src/backend/interface.js';
import { HostBuf } from '../src/backend/hostbuf.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { CpuBackend } from '../src/backend/cpu/index.js';
import { loadAddon } from '../src/backend/cpu/addon.js';
import { Rng } from '../src/rng.js';
import { packSlots } from '../src/schema.js';

const seed = Number(process.env.TESSERA_TEST_SEED ?? (Date.now() % 1e9));
const rng = new Rng(seed);
const s = suite('cpu conv: Winograd');
const ref = new ReferenceBackend();

type Triple = [number, number, number];
interface Shape { N: number; C: number; O: number; size: Triple; k: Triple; pad: Triple; stride?: Triple; dilation?: Triple; groups?: number }

function params(sh: Shape): ConvParams {
  const stride = sh.stride ?? [1, 1, 1], dilation = sh.dilation ?? [1, 1, 1];
  const out = (a: number) => Math.floor((sh.size[a] + 2 * sh.pad[a] - dilation[a] * (sh.k[a] - 1) - 1) / stride[a]) + 1;
  return {
    N: sh.N, C: sh.C, D: sh.size[0], H: sh.size[1], W: sh.size[2], O: sh.O, kd: sh.k[0], kh: sh.k[1], kw: sh.k[2],
    stride, padding: sh.pad, dilation, groups: sh.groups ?? 1, oD: out(0), oH: out(1), oW: out(2),
  };
}

const random = (n: number): Float32Array => {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = 2 * rng.uniform() - 1;
  return v;
};

/** max |got - want| <= tol * max |want|: Winograd rounds differently from a direct sum, by a few ulp
 *  of the largest terms; a wrong transform is off by O(1) of the scale. */
function assertNear(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 2e-5): void {
  assert.is(got.length, want.length, `${what}: length`);
  let scale = 0, worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  if (!(worst <= tol * scale)) assert.unreachable(`${what}: element ${at} is ${got[at]}, expected ${want[at]} (scale ${scale}; seed ${seed})`);
}

const eligible: Shape[] = [
  { N: 1, C: 2, O: 3, size: [3, 4, 5], k: [3, 3, 3], pad: [1, 1, 1] },
  { N: 2, C: 3, O: 2, size: [1, 1, 1], k: [3, 3, 3], pad: [1, 1, 1] },       // one cell: only padding around it
  { N: 1, C: 4, O: 5, size: [5, 6, 7], k: [3, 3, 3], pad: [0, 0, 0] },       // no padding, odd output sizes
  { N: 1, C: 2, O: 2, size: [2, 2, 2], k: [3, 3, 3], pad: [2, 2, 2] },       // padding 2: backward-input pads 0
  { N: 3, C: 17, O: 9, size: [4, 5, 6], k: [3, 3, 3], pad: [1, 0, 2] },
  { N: 2, C: 3, O: 4, size: [1, 7, 9], k: [1, 3, 3], pad: [0, 1, 1] },       // conv2d
  { N: 5, C: 6, O: 7, size: [1, 2, 13], k: [1, 3, 3], pad: [0, 1, 0] },      // conv2d, height 2
  { N: 2, C: 3, O: 4, size: [4, 5, 6], k: [3, 3, 1], pad: [1, 1, 0] },       // W has one tap
  { N: 1, C: 3, O: 2, size: [5, 1, 4], k: [3, 1, 1], pad: [1, 0, 0] },
  { N: 2, C: 5, O: 7, size: [1, 2, 9], k: [1, 1, 3], pad: [0, 0, 1] },
  { N: 1, C: 40, O: 33, size: [3, 9, 8], k: [3, 3, 3], pad: [1, 1, 1] },
  { N: 1, C: 160, O: 96, size: [2, 3, 5], k: [3, 3, 3], pad: [1, 1, 1] },    // many channels
  { N: 3, C: 8, O: 12, size: [1, 37, 41], k: [1, 3, 3], pad: [0, 1, 1] },   // many tiles: several chunks
];
const ineligible: Shape[] = [
  { N: 1, C: 2, O: 2, size: [5, 5, 5], k: [3, 3, 3], pad: [1, 1, 1], stride: [1, 2, 1] },
  { N: 1, C: 2, O: 2, size: [5, 5, 5], k: [3, 3, 3], pad: [1, 1, 1], dilation: [1, 1, 2] },
  { N: 1, C: 4, O: 2, size: [5, 5, 5], k: [3, 3, 3], pad: [1, 1, 1], groups: 2 },
  { N: 1, C: 2, O: 2, size: [5, 5, 5], k: [3, 5, 3], pad: [1, 2, 1] },
  { N: 1, C: 2, O: 2, size: [5, 5, 5], k: [1, 1, 1], pad: [0, 0, 0] },
  { N: 1, C: 2, O: 2, size: [5, 5, 5], k: [3, 3, 3], pad: [3, 1, 1] },       // padding past the taps
];

const loaded = loadAddon();
if (!loaded.addon) {
  console.log(`  (skipping cpu Winograd convolution: ${loaded.error})`);
} else {
  const cpu = new CpuBackend();
  // Diagnostic exports beside the kernels, not part of the addon's typed kernel interface.
  type Algorithms = { forward: string; backwardInput: string; backwardWeight: string };
  const native = cpu.addon as unknown as {
    convAlgorithm(record: Float64Array): Algorithms;
    setConvWinograd(mode: 'auto' | 'always' | 'never'): string;
  };
  const algorithm = (p: ConvParams): Algorithms => native.convAlgorithm(packSlots('conv', { ...p, precision: 'float32' }));
  const all = (name: string): Algorithms => ({ forward: name, backwardInput: name, backwardWeight: name });
  const withMode = (mode: 'auto' | 'always' | 'never', body: () => void): void => {
    const previous = native.setConvWinograd(mode);
    try { body(); } finally { native.setConvWinograd(previous as 'auto'); }
  };
  const levels = (['avx512', 'avx2', 'scalar'] as const).filter((l) => cpu.addon.setSimd(l) === l);
  cpu.addon.setSimd(levels[0]);

  s('convAlgorithm: Winograd exactly for stride 1, dilation 1, one group, 1 or 3 taps per axis (some 3)', () => {
    withMode('always', () => {
      for (const sh of eligible) assert.equal(algorithm(params(sh)), all('winograd'), JSON.stringify(sh));
      for (const sh of ineligible) assert.equal(algorithm(params(sh)), all('gemm'), JSON.stringify(sh));
    });
    withMode('never', () => assert.equal(algorithm(params(eligible[0])), all('gemm')));
    // The automatic rule: r3d_18's middle layer and the detector's 16x16 maps take Winograd; r3d_18's
    // last layer (2x7x7: few tiles, which overhang the output, for 512 x 512 weights to transform)
    // and the detector's 4x4 maps only for the weight gradient; a lone cell never.
    assert.equal(algorithm(params({ N: 4, C: 64, O: 64, size: [8, 28, 28], k: [3, 3, 3], pad: [1, 1, 1] })), all('winograd'));
    assert.equal(algorithm(params({ N: 16, C: 64, O: 64, size: [1, 16, 16], k: [1, 3, 3], pad: [0, 1, 1] })), all('winograd'));
    assert.equal(algorithm(params({ N: 2, C: 512, O: 512, size: [2, 7, 7], k: [3, 3, 3], pad: [1, 1, 1] })),
      { forward: 'gemm', backwardInput: 'gemm', backwardWeight: 'winograd' });
    assert.equal(algorithm(params({ N: 16, C: 128, O: 128, size: [1, 4, 4], k: [1, 3, 3], pad: [0, 1, 1] })),
      { forward: 'gemm', backwardInput: 'gemm', backwardWeight: 'winograd' });
    assert.equal(algorithm(params(eligible[1])), all('gemm'));
    assert.throws(() => native.setConvWinograd('sometimes' as never), /setConvWinograd: expected 'auto', 'always' or 'never'/);
  });

  s(`forward, backward-input and backward-weight match the reference (${levels.join(', ')})`, () => {
    const previous = native.setConvWinograd('always');
    try {
      for (const level of levels) {
        cpu.addon.setSimd(level);
        for (const sh of eligible) {
          const p = params(sh);
          const xSize = p.N * p.C * p.D * p.H * p.W, wSize = p.O * p.C * p.kd * p.kh * p.kw;
          const ySize = p.N * p.O * p.oD * p.oH * p.oW;
          const x = new HostBuf(random(xSize), 'float32'), w = new HostBuf(random(wSize), 'float32');
          const bias = new HostBuf(random(p.O), 'float32'), gy = new HostBuf(random(ySize), 'float32');
          const run = (b: CpuBackend | ReferenceBackend) => {
            const y = b.alloc(ySize, 'float32') as HostBuf, gx = b.alloc(xSize, 'float32') as HostBuf;
            const gw = b.alloc(wSize, 'float32') as HostBuf;
            // Garbage first: every output element must be written.
            y.data.fill(NaN);
            gx.data.fill(NaN);
            gw.data.fill(NaN);
            b.conv(x, w, bias, y, p);
            b.convBackwardInput(gy, w, gx, p);
            b.convBackwardWeight(x, gy, gw, p);
            return { y: y.data, gx: gx.data, gw: gw.data };
          };
          const got = run(cpu), want = run(ref);
          const what = `${level} ${JSON.stringify(sh)}`;
          assertNear(got.y, want.y, `${what} forward`);
          assertNear(got.gx, want.gx, `${what} backward-input`);
          assertNear(got.gw, want.gw, `${what} backward-weight`);
        }
      }
    } finally {
      cpu.addon.setSimd(levels[0]);
      native.setConvWinograd(previous as 'auto');
    }
  });
}

s.run();
