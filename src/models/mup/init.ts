// µP initialization. setBaseShapes attaches each parameter's InfShape and turns
// a standard (torch-style, variance ∝ 1/fan_in) init into µP's: readout weights
// and biases grow by sqrt(widthMult) so their variance is constant in width, and
// every Linear and convolution bias by sqrt(fan-in multiplier) so biases are constant too; hidden
// weights keep variance ∝ 1/fan_in and input weights (finite fan-in) are already
// constant. The initializers below re-draw one parameter the way mup.init does:
// the torch initializer's draw, times a width correction that makes the result
// equal to torch's at base shapes and scale correctly away from them.
import { Rng, Tensor, eye as eyeTensor, mul, nn, noGrad, ones as onesTensor } from '../../index.js';
import Module = nn.Module;
import Linear = nn.Linear;
import nnInit = nn.init;
import { BaseShapes, attachInfShape, infShapeOf, makeBaseShapes, zipInfShapes, type InfShape, type ShapeDict } from './shapes.js';
import { MuReadout, MuSharedReadout, rescaleOnce, scaleInPlace } from './readout.js';

export interface SetBaseShapesOptions {
  /** A model (or shapes) of another width: with it, `base` may be a plain model and the width dimensions are where they differ. */
  delta?: Module | ShapeDict;
  /** Convert the standard init to µP (readouts and biases, see above); default true. Pass false when re-setting shapes of a trained model. */
  rescaleParams?: boolean;
  /** Reject Linear layers with a width fan-in and a finite fan-out that are not readouts (mup's assert_hidden_size_inf); default true. */
  check?: boolean;
}

/**
 * Attaches an InfShape to every parameter of `model` (mup.set_base_shapes) and, by default,
 * rescales the init to µP. `base`: BaseShapes from makeBaseShapes, or a base model / shapes
 * (then a dimension is a width dimension where the model differs from the base, or from
 * `delta` when given). Returns the model.
 */
export function setBaseShapes<M extends Module>(model: M, base: BaseShapes | Module | ShapeDict, opts: SetBaseShapesOptions = {}): M {
  let shapes = base;
  if (opts.delta) {
    if (base instanceof BaseShapes) throw new Error('setBaseShapes: pass either BaseShapes or a base model with a delta, not both');
    shapes = makeBaseShapes(base, opts.delta);
  }
  const infShapes = zipInfShapes(shapes, model);
  for (const [name, p] of model.namedParameters()) attachInfShape(p, infShapes[name]);
  const modules = model.namedModules();
  if (opts.check ?? true) {
    for (const [name, m] of modules) {
      if (!(m instanceof Linear) || m instanceof MuReadout) continue;
      const s = infShapeOf(m.weight);
      if (!s.dims[0].isInf && s.dims[1].isInf) {
        throw new Error(`setBaseShapes: '${name}' has a width fan-in and a finite fan-out (${s}) but is not a MuReadout; make it a MuReadout or give it a width fan-out`);
      }
    }
  }
  if (opts.rescaleParams ?? true) {
    for (const [, m] of modules) {
      if (m instanceof MuReadout || m instanceof MuSharedReadout) m.rescaleToMup();
      else if ((m instanceof Linear || m instanceof nn.Conv2d || m instanceof nn.Conv3d) && m.bias) {
        // mup rescales Linear and convolution biases alike (its rescale_linear_bias on Linear and _ConvNd).
        const bias = m.bias, fanInMult = infShapeOf(m.weight).dims[1].widthMult;
        rescaleOnce(m, () => scaleInPlace(bias, Math.sqrt(fanInMult)));
      }
    }
  }
  return model;
}

export interface MuInitOptions { generator?: Rng }

/** Replaces p's values by `drawn * factor` (drawn is consumed). */
function redraw(p: Tensor, drawn: Tensor, factor: number): void {
  noGrad(() => {
    const v = factor === 1 ? drawn : mul(drawn, factor);
    p.assign(v);
    v.dispose();
    drawn.dispose();
  });
}

const drawOpts = (p: Tensor, opts: MuInitOptions) => ({ backend: p.backend.name, generator: opts.generator });

/** Hidden matrices (two width dimensions) must be drawn around 0: their scale shrinks with width. */
function constantStdFactor(fn: string, s: InfShape, centered: boolean): number {
  if (s.ninf > 2) throw new Error(`mup.init.${fn}: ${s} has more than 2 width dimensions`);
  // As mup: an off-centre draw is allowed only on vector-like parameters (one width dimension).
  if (!centered && s.ninf !== 1) throw new Error(`mup.init.${fn}: ${s} needs a distribution centred at 0 (only parameters with one width dimension may be drawn off-centre)`);
  if (s.ninf <= 1) return 1;
  return 1 / Math.sqrt(s.widthMult);
}

/** N(mean, std²) with std meant for base shapes: hidden matrices get std / sqrt(widthMult). */
export function normal(p: Tensor, opts: MuInitOptions & { mean?: number; std?: number } = {}): void {
  const mean = opts.mean ?? 0, std = opts.std ?? 1;
  const factor = constantStdFactor('normal', infShapeOf(p), mean === 0);
  redraw(p, nnInit.normal([...p.shape], mean, std, drawOpts(p, opts)), factor);
}

/** U(low, high) meant for base shapes: hidden matrices get the range / sqrt(widthMult). */
export function uniform(p: Tensor, low: number, high: number, opts: MuInitOptions = {}): void {
  const factor = constantStdFactor('uniform', infShapeOf(p), low === -high);
  redraw(p, nnInit.uniform([...p.shape], low, high, drawOpts(p, opts)), factor);
}

/** N(mean, std²) truncated to [a, b], all meant for base shapes: hidden matrices get each / sqrt(widthMult) (mup.init.trunc_normal_). */
export function truncatedNormal(p: Tensor, opts: MuInitOptions & { mean?: number; std?: number; a?: number; b?: number } = {}): void {
  const mean = opts.mean ?? 0, std = opts.std ?? 1, a = opts.a ?? -2, b = opts.b ?? 2;
  const factor = constantStdFactor('truncatedNormal', infShapeOf(p), mean === 0 && a === -b);
  redraw(p, nnInit.truncatedNormal([...p.shape], mean, std, a, b, drawOpts(p, opts)), factor);
}

/** All ones (torch's ones_), refused on hidden matrices: a constant is off-centre, and no width factor keeps it µP. */
export function ones(p: Tensor): void {
  constantStdFactor('ones', infShapeOf(p), false);
  redraw(p, onesTensor([...p.shape], { backend: p.backend.name }), 1);
}

/** The identity (torch's eye_) on a 2-D parameter; as mup, only on one with exactly one width dimension. */
export function eye(p: Tensor): void {
  if (p.ndim !== 2) throw new Error(`mup.init.eye: needs a 2-D parameter, got [${p.shape.join(', ')}]`);
  constantStdFactor('eye', infShapeOf(p), false);
  redraw(p, eyeTensor(p.shape[0], p.shape[1], { backend: p.backend.name }), 1);
}

/** mup's kaiming correction: a width fan of a vector-like weight counts at its base size; fan-out mode on a hidden matrix scales like fan-in. */
function kaimingFactor(s: InfShape, mode: 'fanIn' | 'fanOut'): number {
  if (s.dims.length < 2) throw new Error(`mup.init.kaiming: needs a weight of at least 2 dimensions, got ${s}`);
  const [fanOut, fanIn] = s.dims;
  if (s.ninf > 2) throw new Error(`mup.init.kaiming: ${s} has more than 2 width dimensions`);
  if (s.ninf === 2) return mode === 'fanOut' ? Math.sqrt(fanOut.widthMult / fanIn.widthMult) : 1;
  if (s.ninf === 1) {
    const fan = mode === 'fanIn' ? fanIn : fanOut;
    return fan.isInf ? Math.sqrt(fan.widthMult) : 1;
  }
  return 1;
}

export function kaimingNormal(p: Tensor, opts: MuInitOptions & Omit<nnInit.KaimingOptions, 'backend'> = {}): void {
  redraw(p, nnInit.kaimingNormal([...p.shape], { ...opts, backend: p.backend.name }), kaimingFactor(infShapeOf(p), opts.mode ?? 'fanIn'));
}

export function kaimingUniform(p: Tensor, opts: MuInitOptions & Omit<nnInit.KaimingOptions, 'backend'> = {}): void {
  redraw(p, nnInit.kaimingUniform([...p.shape], { ...opts, backend: p.backend.name }), kaimingFactor(infShapeOf(p), opts.mode ?? 'fanIn'));
}

/** mup's xavier correction: fans count at base size; a hidden matrix then scales like fan-in. */
function xavierFactor(s: InfShape): number {
  if (s.dims.length < 2) throw new Error(`mup.init.xavier: needs a weight of at least 2 dimensions, got ${s}`);
  if (s.ninf > 2) throw new Error(`mup.init.xavier: ${s} has more than 2 width dimensions`);
  const [fanOut, fanIn] = s.dims;
  let factor = Math.sqrt((fanOut.dim + fanIn.dim) / ((fanOut.base ?? fanOut.dim) + (fanIn.base ?? fanIn.dim)));
  if (s.ninf === 2) factor /= Math.sqrt(fanIn.widthMult);
  return factor;
}

export function xavierNormal(p: Tensor, gain = 1, opts: MuInitOptions = {}): void {
  redraw(p, nnInit.xavierNormal([...p.shape], gain, drawOpts(p, opts)), xavierFactor(infShapeOf(p)));
}

export function xavierUniform(p: Tensor, gain = 1, opts: MuInitOptions = {}): void {
  redraw(p, nnInit.xavierUniform([...p.shape], gain, drawOpts(p, opts)), xavierFactor(infShapeOf(p)));
}
