// Video ResNets as torchvision builds them (torchvision/models/video/resnet.py):
// the same modules, the same child names and the same initialization, so a
// torchvision state_dict saved as safetensors loads by name
// (loadTorchvisionWeights). R3D-18 (3x3x3 convolutions everywhere), MC3-18
// (3x3x3 in stage 1, 1x3x3 after), R(2+1)D-18 ((1,3,3) then (3,1,1) with
// torchvision's mid-plane count) and a Bottleneck 3D ResNet-50; options scale
// the widths and the blocks per stage for small models.
import * as T from '../../index.js';

type Tensor = T.Tensor;
type Triple = [number, number, number];

export type ConvKind = '3d' | 'no-temporal' | '2plus1d';
export type BlockKind = 'basic' | 'bottleneck';
export type StemKind = 'basic' | 'r2plus1d';

export interface VideoResNetOptions {
  /** Output classes of the linear head; default 400 (Kinetics-400, torchvision's default). */
  numClasses?: number;
  /** Scales torchvision's stage widths 64/128/256/512 (rounded, at least 1); default 1. */
  widthMultiplier?: number;
  /** The four stage widths (planes); overrides widthMultiplier. The stem's output is the first. */
  widths?: readonly number[];
  /** Blocks per stage; default [2, 2, 2, 2] for the 18-layer models, [3, 4, 6, 3] for r3d50. */
  blocks?: readonly number[];
  /** Channels of the input clip; default 3. */
  inChannels?: number;
  /** Mid planes of the R(2+1)D stem; default torchvision's 45 scaled like the widths (45 * widths[0] / 64). */
  stemMidPlanes?: number;
  backend?: string;
  generator?: T.Rng;
}

const OPTION_KEYS = ['numClasses', 'widthMultiplier', 'widths', 'blocks', 'inChannels', 'stemMidPlanes', 'backend', 'generator'];

/** A bias-free Conv3d initialized as torchvision does: kaiming-normal, fan_out, gain for ReLU. */
export class VideoConv3d extends T.nn.Module {
  readonly weight: Tensor;
  constructor(inPlanes: number, outPlanes: number, readonly kernel: Triple, readonly stride: Triple, readonly padding: Triple,
    opts: { backend?: string; generator?: T.Rng }) {
    super();
    this.weight = this.param('weight', T.nn.init.kaimingNormal([outPlanes, inPlanes, ...kernel],
      { mode: 'fanOut', nonlinearity: 'relu', backend: opts.backend, generator: opts.generator }));
  }
  forward(x: Tensor): Tensor { return T.conv3d(x, this.weight, { stride: this.stride, padding: this.padding }); }
}

interface Build { backend?: string; generator?: T.Rng }

const bn = (planes: number, b: Build) => new T.nn.BatchNorm3d(planes, { backend: b.backend });

/**
 * Sequential(conv, BatchNorm3d[, ReLU]), torchvision's layout and parameter names, whose batch norm, ReLU
 * and (at a block's end) residual add run as one batchNorm call: the tape then keeps one tensor per unit
 * where BN, add and ReLU as separate ops kept three.
 */
class ConvBn extends T.nn.Sequential {
  constructor(conv: T.nn.Module, norm: T.nn.BatchNorm3d, readonly withRelu: boolean) {
    super(conv, norm, ...(withRelu ? [new T.nn.ReLU()] : []));
  }
  override forward(x: Tensor): Tensor {
    return this.norm().forward(this.conv(x), this.withRelu ? { activation: 'relu' } : {});
  }
  /** relu(BN(conv(x)) + residual): the end of a residual block. */
  forwardResidual(x: Tensor, residual: Tensor): Tensor {
    return this.norm().forward(this.conv(x), { addend: residual, activation: 'relu' });
  }
  // Read from `layers`: a module held in a property of its own would register a second time under that name.
  private norm(): T.nn.BatchNorm3d { return this.layers[1] as T.nn.BatchNorm3d; }
  private conv(x: Tensor): Tensor { return (this.layers[0] as unknown as { forward(t: Tensor): Tensor }).forward(x); }
}

/**
 * One 3x3x3-class convolution of a block, as torchvision's conv builders: Conv3DSimple (a Conv3d),
 * Conv3DNoTemporal (a (1,3,3) Conv3d) or Conv2Plus1D (a Sequential conv (1,3,3) - BN - ReLU - conv (3,1,1)).
 */
function convBuilder(kind: ConvKind, inPlanes: number, outPlanes: number, midPlanes: number, stride: number, b: Build): T.nn.Module {
  switch (kind) {
    case '3d': return new VideoConv3d(inPlanes, outPlanes, [3, 3, 3], [stride, stride, stride], [1, 1, 1], b);
    case 'no-temporal': return new VideoConv3d(inPlanes, outPlanes, [1, 3, 3], [1, stride, stride], [0, 1, 1], b);
    case '2plus1d': return new T.nn.Sequential(
      new VideoConv3d(inPlanes, midPlanes, [1, 3, 3], [1, stride, stride], [0, 1, 1], b),
      bn(midPlanes, b), new T.nn.ReLU(),
      new VideoConv3d(midPlanes, outPlanes, [3, 1, 1], [stride, 1, 1], [1, 0, 0], b));
  }
}

/** The stride of a block's 1x1x1 downsample: no temporal stride after a no-temporal convolution. */
function downsampleStride(kind: ConvKind, stride: number): Triple {
  return kind === 'no-temporal' ? [1, stride, stride] : [stride, stride, stride];
}

/** torchvision's mid-plane count: the (2+1)D factorization keeps the parameters of a full 3x3x3 convolution. */
export function midPlanes(inPlanes: number, planes: number): number {
  return Math.floor((inPlanes * planes * 27) / (inPlanes * 9 + 3 * planes));
}

/** A block's entry: the output of its residual branch plus the (optionally downsampled) input, then ReLU. */
abstract class ResidualBlock extends T.nn.Module {
  readonly downsample: T.nn.Sequential | null;
  constructor(downsample: T.nn.Sequential | null) {
    super();
    this.downsample = downsample ? this.child('downsample', downsample) : null;
  }
  /** relu(residual branch(x) + residual), the branch's last batch norm doing the add and the ReLU. */
  protected abstract branch(x: Tensor, residual: Tensor): Tensor;
  forward(x: Tensor): Tensor {
    return this.branch(x, this.downsample ? this.downsample.forward(x) : x);
  }
}

export class BasicBlock extends ResidualBlock {
  static readonly expansion = 1;
  readonly conv1: ConvBn;
  readonly conv2: ConvBn;
  constructor(inPlanes: number, planes: number, conv: ConvKind, stride: number, downsample: T.nn.Sequential | null, b: Build) {
    super(downsample);
    const mid = midPlanes(inPlanes, planes);
    this.conv1 = this.child('conv1', new ConvBn(convBuilder(conv, inPlanes, planes, mid, stride, b), bn(planes, b), true));
    this.conv2 = this.child('conv2', new ConvBn(convBuilder(conv, planes, planes, mid, 1, b), bn(planes, b), false));
  }
  protected branch(x: Tensor, residual: Tensor): Tensor { return this.conv2.forwardResidual(this.conv1.forward(x), residual); }
}

export class Bottleneck extends ResidualBlock {
  static readonly expansion = 4;
  readonly conv1: ConvBn;
  readonly conv2: ConvBn;
  readonly conv3: ConvBn;
  constructor(inPlanes: number, planes: number, conv: ConvKind, stride: number, downsample: T.nn.Sequential | null, b: Build) {
    super(downsample);
    // As torchvision: the mid planes come from inPlanes although the convolution maps planes -> planes.
    const mid = midPlanes(inPlanes, planes);
    const pointwise = (i: number, o: number) => new VideoConv3d(i, o, [1, 1, 1], [1, 1, 1], [0, 0, 0], b);
    this.conv1 = this.child('conv1', new ConvBn(pointwise(inPlanes, planes), bn(planes, b), true));
    this.conv2 = this.child('conv2', new ConvBn(convBuilder(conv, planes, planes, mid, stride, b), bn(planes, b), true));
    this.conv3 = this.child('conv3', new ConvBn(pointwise(planes, planes * Bottleneck.expansion), bn(planes * Bottleneck.expansion, b), false));
  }
  protected branch(x: Tensor, residual: Tensor): Tensor {
    return this.conv3.forwardResidual(this.conv2.forward(this.conv1.forward(x)), residual);
  }
}

export interface VideoResNetSpec {
  block: BlockKind;
  /** The convolution of each of the four stages. */
  convs: readonly ConvKind[];
  stem: StemKind;
}

/** Stage names in forward order, for features and Grad-CAM: the stem, then layer1..layer4. */
export const STAGES = ['stem', 'layer1', 'layer2', 'layer3', 'layer4'] as const;
export type StageName = (typeof STAGES)[number];

function positiveIntegers(name: string, v: readonly number[] | undefined, fallback: number[]): number[] {
  const list = v ? [...v] : fallback;
  if (list.length !== 4 || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`VideoResNet: ${name} must be four positive integers, got ${JSON.stringify(v)}`);
  }
  return list;
}

/** A linear head initialized as torchvision's: weight N(0, 0.01), bias 0. */
function head(inFeatures: number, numClasses: number, b: Build): T.nn.Linear {
  const fc = new T.nn.Linear(inFeatures, numClasses, b);
  T.noGrad(() => {
    for (const [param, value] of [[fc.weight, T.nn.init.normal([numClasses, inFeatures], 0, 0.01, b)], [fc.bias!, T.zeros([numClasses], { backend: b.backend })]]) {
      param.assign(value);
      value.dispose();
    }
  });
  return fc;
}

/** torchvision's VideoResNet: stem, four stages, adaptive average pool to 1x1x1, linear head. */
export class VideoResNet extends T.nn.Module {
  readonly stem: T.nn.Sequential;
  readonly layer1: T.nn.Sequential;
  readonly layer2: T.nn.Sequential;
  readonly layer3: T.nn.Sequential;
  readonly layer4: T.nn.Sequential;
  /** The linear head; resetHead replaces it. */
  fc: T.nn.Linear;
  readonly widths: number[];
  readonly blocks: number[];
  numClasses: number;
  readonly featureDim: number;

  constructor(readonly spec: VideoResNetSpec, opts: VideoResNetOptions = {}) {
    super();
    for (const k of Object.keys(opts)) if (!OPTION_KEYS.includes(k)) throw new Error(`VideoResNet: unknown option '${k}' (options: ${OPTION_KEYS.join(', ')})`);
    if (spec.convs.length !== 4) throw new Error(`VideoResNet: convs must name four stage convolutions, got ${spec.convs.length}`);
    const m = opts.widthMultiplier ?? 1;
    if (!(m > 0)) throw new Error(`VideoResNet: widthMultiplier must be positive, got ${m}`);
    this.widths = positiveIntegers('widths', opts.widths, [64, 128, 256, 512].map((w) => Math.max(1, Math.round(w * m))));
    this.blocks = positiveIntegers('blocks', opts.blocks, spec.block === 'bottleneck' ? [3, 4, 6, 3] : [2, 2, 2, 2]);
    this.numClasses = opts.numClasses ?? 400;
    if (!Number.isInteger(this.numClasses) || this.numClasses < 1) throw new Error(`VideoResNet: numClasses must be a positive integer, got ${this.numClasses}`);
    const inChannels = opts.inChannels ?? 3;
    const b: Build = { backend: opts.backend, generator: opts.generator };
    const w0 = this.widths[0];
    if (spec.stem === 'basic') {
      this.stem = this.child('stem', new ConvBn(new VideoConv3d(inChannels, w0, [3, 7, 7], [1, 2, 2], [1, 3, 3], b), bn(w0, b), true));
    } else {
      const mid = opts.stemMidPlanes ?? Math.max(1, Math.round((45 * w0) / 64));
      this.stem = this.child('stem', new T.nn.Sequential(
        new VideoConv3d(inChannels, mid, [1, 7, 7], [1, 2, 2], [0, 3, 3], b), bn(mid, b), new T.nn.ReLU(),
        new VideoConv3d(mid, w0, [3, 1, 1], [1, 1, 1], [1, 0, 0], b), bn(w0, b), new T.nn.ReLU()));
    }
    const expansion = spec.block === 'bottleneck' ? Bottleneck.expansion : BasicBlock.expansion;
    let inPlanes = w0;
    const makeLayer = (stage: number, stride: number): T.nn.Sequential => {
      const planes = this.widths[stage], conv = spec.convs[stage];
      const Block = spec.block === 'bottleneck' ? Bottleneck : BasicBlock;
      const downsample = stride !== 1 || inPlanes !== planes * expansion
        ? new T.nn.Sequential(new VideoConv3d(inPlanes, planes * expansion, [1, 1, 1], downsampleStride(conv, stride), [0, 0, 0], b), bn(planes * expansion, b))
        : null;
      const layers: T.nn.Module[] = [new Block(inPlanes, planes, conv, stride, downsample, b)];
      inPlanes = planes * expansion;
      for (let i = 1; i < this.blocks[stage]; i++) layers.push(new Block(inPlanes, planes, conv, 1, null, b));
      return new T.nn.Sequential(...layers);
    };
    this.layer1 = this.child('layer1', makeLayer(0, 1));
    this.layer2 = this.child('layer2', makeLayer(1, 2));
    this.layer3 = this.child('layer3', makeLayer(2, 2));
    this.layer4 = this.child('layer4', makeLayer(3, 2));
    this.featureDim = inPlanes;
    this.fc = this.child('fc', head(inPlanes, this.numClasses, b));
  }

  /** The stage module by name (stem, layer1..layer4). */
  stage(name: StageName): T.nn.Sequential {
    return this[name];
  }

  /** Runs the stages after `from` (or all, from the input clip, when `from` is undefined) up to and including `to`. */
  forwardStages(x: Tensor, from?: StageName, to: StageName = 'layer4'): Tensor {
    const start = from === undefined ? 0 : STAGES.indexOf(from) + 1, end = STAGES.indexOf(to);
    let y = x;
    for (let i = start; i <= end; i++) y = this.stage(STAGES[i]).forward(y);
    return y;
  }

  /** Pooled features [N, featureDim] of the last stage's output. */
  pool(features: Tensor): Tensor {
    return T.flatten(T.adaptiveAvgPool3d(features, 1), 1);
  }

  /** Logits [N, numClasses] from a clip batch x [N, C, T, H, W]. */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 5) throw new Error(`VideoResNet: expected a clip batch [N, C, T, H, W], got ${x.describe()}`);
    return this.fc.forward(this.pool(this.forwardStages(x)));
  }

  /** Replaces the head by a fresh one for `numClasses` classes (for fine-tuning), initialized as torchvision's. */
  resetHead(numClasses: number, generator?: T.Rng): void {
    const fresh = head(this.featureDim, numClasses, { backend: this.fc.weight.backend.name, generator });
    for (const p of this.fc.parameters()) p.dispose();
    this.fc = this.child('fc', fresh);
    this.numClasses = numClasses;
  }
}

/** R3D-18: 3x3x3 convolutions in every stage (torchvision's r3d_18). */
export function r3d18(opts: VideoResNetOptions = {}): VideoResNet {
  return new VideoResNet({ block: 'basic', convs: ['3d', '3d', '3d', '3d'], stem: 'basic' }, opts);
}

/** MC3-18: 3x3x3 convolutions in stage 1, (1,3,3) after (torchvision's mc3_18). */
export function mc318(opts: VideoResNetOptions = {}): VideoResNet {
  return new VideoResNet({ block: 'basic', convs: ['3d', 'no-temporal', 'no-temporal', 'no-temporal'], stem: 'basic' }, opts);
}

/** R(2+1)D-18: every 3x3x3 convolution factorized into (1,3,3) and (3,1,1) (torchvision's r2plus1d_18). */
export function r2plus1d18(opts: VideoResNetOptions = {}): VideoResNet {
  return new VideoResNet({ block: 'basic', convs: ['2plus1d', '2plus1d', '2plus1d', '2plus1d'], stem: 'r2plus1d' }, opts);
}

/** A 3D ResNet-50: Bottleneck blocks [3, 4, 6, 3] with 3x3x3 convolutions and the basic stem (SPL's student). */
export function r3d50(opts: VideoResNetOptions = {}): VideoResNet {
  return new VideoResNet({ block: 'bottleneck', convs: ['3d', '3d', '3d', '3d'], stem: 'basic' }, opts);
}

/**
 * Loads a torchvision video ResNet state_dict saved as safetensors (e.g. by
 * `safetensors.torch.save_file(model.state_dict(), path)`) into `model` by name. BatchNorm's
 * `num_batches_tracked` counters (int64, no counterpart here: momentum is fixed) are skipped;
 * every other entry must match, and every missing, unexpected or mis-shaped one is reported at once.
 */
export function loadTorchvisionWeights(model: VideoResNet, path: string): void {
  const { tensors } = T.loadSafetensors(path);
  const state: Record<string, Tensor> = {};
  const backend = model.fc.weight.backend.name;
  const problems: string[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name.endsWith('num_batches_tracked')) continue;
    if (t.dtype !== 'F32') { problems.push(`'${name}' is ${t.dtype}, expected F32`); continue; }
    state[name] = T.fromArray(t.data as Float32Array, t.shape, { backend });
  }
  try {
    if (problems.length) throw new Error(`loadTorchvisionWeights: ${path}: ${problems.join('; ')}`);
    model.loadStateDict(state);
  } finally {
    for (const t of Object.values(state)) t.dispose();
  }
}
