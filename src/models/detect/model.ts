// A small anchor-free detector in the FCOS / YOLOv8 manner, on the public API only:
// Conv-BN-SiLU backbone (width and depth multipliers) -> top-down neck (nearest 2x upsample +
// concat) over strides 8, 16, 32 -> one decoupled head shared by the levels (class logits; box
// distances left, top, right, bottom in units of the level's stride; centerness logit).
import * as T from '../../index.js';

type Tensor = T.Tensor;

export interface DetectorConfig {
  numClasses: number;
  inChannels: number;
  /** Channels of the five backbone stages at width 1 (default [16, 32, 64, 96, 128]). */
  widths?: number[];
  /** Width multiplier on every stage and the neck (default 1). */
  width?: number;
  /** Residual blocks after the downsampling conv of stages 2-5 at depth 1 (default [1, 1, 1, 1]). */
  blocks?: number[];
  /** Depth multiplier on the block counts (default 1). */
  depth?: number;
  /** Neck and head channels at width 1 (default 64). */
  neckWidth?: number;
}

const CONFIG_KEYS = new Set(['numClasses', 'inChannels', 'widths', 'width', 'blocks', 'depth', 'neckWidth']);

export function checkDetectorConfig(config: DetectorConfig): Required<DetectorConfig> {
  for (const k of Object.keys(config)) if (!CONFIG_KEYS.has(k)) throw new Error(`Detector: unknown option '${k}' (known: ${[...CONFIG_KEYS].join(', ')})`);
  const full: Required<DetectorConfig> = {
    widths: [16, 32, 64, 96, 128], width: 1, blocks: [1, 1, 1, 1], depth: 1, neckWidth: 64, ...config,
  };
  const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
  if (!positiveInt(full.numClasses) || !positiveInt(full.inChannels)) throw new Error(`Detector: numClasses and inChannels must be positive integers, got ${full.numClasses} and ${full.inChannels}`);
  if (full.widths.length !== 5 || full.blocks.length !== 4) throw new Error('Detector: widths needs 5 entries and blocks 4');
  if (!(full.width > 0) || !(full.depth >= 0)) throw new Error(`Detector: width must be > 0 and depth >= 0, got ${full.width} and ${full.depth}`);
  return full;
}

/** The strides of the three levels the head predicts on. */
export const STRIDES = [8, 16, 32] as const;

/** Conv (no bias) -> BatchNorm -> SiLU, the SiLU fused into the batch norm (one pass each way). */
export class ConvBnSilu extends T.nn.Module {
  readonly conv: T.nn.Conv2d;
  readonly bn: T.nn.BatchNorm2d;
  constructor(inC: number, outC: number, kernel: number, stride = 1) {
    super();
    this.conv = this.child('conv', new T.nn.Conv2d(inC, outC, kernel, { stride, padding: (kernel - 1) >> 1, bias: false }));
    this.bn = this.child('bn', new T.nn.BatchNorm2d(outC));
  }
  forward(x: Tensor): Tensor { return this.bn.forward(this.conv.forward(x), { activation: 'silu' }); }
}

/** x + conv3(conv3(x)), the residual unit of each stage. */
class Residual extends T.nn.Module {
  readonly a: ConvBnSilu;
  readonly b: ConvBnSilu;
  constructor(c: number) {
    super();
    this.a = this.child('a', new ConvBnSilu(c, c, 3));
    this.b = this.child('b', new ConvBnSilu(c, c, 3));
  }
  forward(x: Tensor): Tensor { return T.add(x, this.b.forward(this.a.forward(x))); }
}

/** Nearest-neighbour 2x upsampling of [N, C, H, W]. */
function upsample2x(x: Tensor): Tensor { return T.interpolate(x, { scaleFactor: 2, mode: 'nearest' }); }

export interface HeadOutput {
  /** [N, A, numClasses] logits over the A locations of all levels (stride 8 first, row-major). */
  cls: Tensor;
  /** [N, A, 4] distances (left, top, right, bottom) in pixels, positive. */
  box: Tensor;
  /** [N, A] centerness logits. */
  centerness: Tensor;
}

export class Detector extends T.nn.Module {
  readonly config: Required<DetectorConfig>;
  readonly stages: T.nn.ModuleList;
  readonly lateral: T.nn.ModuleList;
  readonly fuse: T.nn.ModuleList;
  readonly clsBranch: ConvBnSilu;
  readonly boxBranch: ConvBnSilu;
  readonly clsOut: T.nn.Conv2d;
  readonly boxOut: T.nn.Conv2d;
  readonly ctrOut: T.nn.Conv2d;
  /** One learnt scale per level on the box distances (FCOS). */
  readonly levelScale: Tensor;

  constructor(config: DetectorConfig) {
    super();
    const cfg = this.config = checkDetectorConfig(config);
    const w = cfg.widths.map((c) => Math.max(8, Math.round(c * cfg.width)));
    const neck = Math.max(8, Math.round(cfg.neckWidth * cfg.width));
    const stages: T.nn.Module[] = [new ConvBnSilu(cfg.inChannels, w[0], 3, 2)];
    for (let s = 1; s < 5; s++) {
      const layers: T.nn.Module[] = [new ConvBnSilu(w[s - 1], w[s], 3, 2)];
      for (let b = 0; b < Math.round(cfg.blocks[s - 1] * cfg.depth); b++) layers.push(new Residual(w[s]));
      stages.push(new T.nn.Sequential(...layers));
    }
    this.stages = this.child('stages', new T.nn.ModuleList(stages));
    // Stages 2, 3, 4 give strides 8, 16, 32.
    this.lateral = this.child('lateral', new T.nn.ModuleList([2, 3, 4].map((s) => new ConvBnSilu(w[s], neck, 1))));
    this.fuse = this.child('fuse', new T.nn.ModuleList([0, 1].map(() => new ConvBnSilu(2 * neck, neck, 3))));
    this.clsBranch = this.child('clsBranch', new ConvBnSilu(neck, neck, 3));
    this.boxBranch = this.child('boxBranch', new ConvBnSilu(neck, neck, 3));
    this.clsOut = this.child('clsOut', new T.nn.Conv2d(neck, cfg.numClasses, 1));
    this.boxOut = this.child('boxOut', new T.nn.Conv2d(neck, 4, 1));
    this.ctrOut = this.child('ctrOut', new T.nn.Conv2d(neck, 1, 1));
    // Class logits start at a prior of 1% (FCOS / RetinaNet): the many background locations
    // would otherwise dominate the first steps.
    const prior = T.full([cfg.numClasses], -Math.log(99));
    T.noGrad(() => this.clsOut.bias!.assign(prior));
    prior.dispose();
    this.levelScale = this.param('levelScale', T.ones([STRIDES.length]));
  }

  /** Feature maps at strides 8, 16, 32 after the neck. */
  features(x: Tensor): Tensor[] {
    if (x.ndim !== 4 || x.shape[1] !== this.config.inChannels || x.shape[2] % 32 || x.shape[3] % 32) {
      throw new Error(`Detector: expects images [N, ${this.config.inChannels}, H, W] with H and W multiples of 32, got [${x.shape.join(', ')}]`);
    }
    const outs: Tensor[] = [];
    let h = x;
    [...this.stages].forEach((stage, s) => { h = (stage as ConvBnSilu).forward(h); if (s >= 2) outs.push(h); });
    const [c3, c4, c5] = outs.map((o, i) => (this.lateral.at(i) as ConvBnSilu).forward(o));
    const p5 = c5;
    const p4 = (this.fuse.at(1) as ConvBnSilu).forward(T.concat([upsample2x(p5), c4], 1));
    const p3 = (this.fuse.at(0) as ConvBnSilu).forward(T.concat([upsample2x(p4), c3], 1));
    return [p3, p4, p5];
  }

  forward(x: Tensor): HeadOutput {
    const n = x.shape[0];
    const flat = (t: Tensor) => T.reshape(T.permute(t, [0, 2, 3, 1]), [n, -1, t.shape[1]]);
    const cls: Tensor[] = [], box: Tensor[] = [], ctr: Tensor[] = [];
    this.features(x).forEach((f, level) => {
      const c = this.clsBranch.forward(f), b = this.boxBranch.forward(f);
      cls.push(flat(this.clsOut.forward(c)));
      const scale = T.select(this.levelScale, 0, level);
      box.push(T.mul(T.softplus(T.mul(flat(this.boxOut.forward(b)), scale)), STRIDES[level]));
      ctr.push(flat(this.ctrOut.forward(b)));
    });
    return { cls: T.concat(cls, 1), box: T.concat(box, 1), centerness: T.squeeze(T.concat(ctr, 1), 2) };
  }
}

/** Centres (x, y) in pixels of every location of every level, in the head's order, for images of h x w. */
export function locations(height: number, width: number): { points: Float32Array; strides: Float32Array; count: number } {
  const pts: number[] = [], strides: number[] = [];
  for (const s of STRIDES) {
    for (let i = 0; i < height / s; i++) for (let j = 0; j < width / s; j++) { pts.push(j * s + s / 2, i * s + s / 2); strides.push(s); }
  }
  return { points: Float32Array.from(pts), strides: Float32Array.from(strides), count: strides.length };
}
