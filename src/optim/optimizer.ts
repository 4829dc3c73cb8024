// Optimizers update parameters in place (Tensor.assign) from their .grad.
// Parameters come in groups, each with its own hyperparameters: µP scales the
// learning rate per group, weight decay can be off for biases, and so on.
import { Tensor, scope } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { add, mul, sub, div, sqrt, square, clone } from '../ops/elementwise.js';
import { zerosLike } from '../ops/creation.js';
import { adamUpdate, sgdUpdate } from '../ops/optim.js';
import { checkOptions } from '../ops/util.js';

export interface GroupOptions {
  lr?: number;
  weightDecay?: number;
  /** Multiplies lr for this group (µP's per-parameter scaling); default 1. */
  lrMult?: number;
  /** Multiplies weightDecay for this group; default 1. */
  wdMult?: number;
  [extra: string]: unknown;
}

export interface ParamGroup extends Required<Pick<GroupOptions, 'lr' | 'weightDecay' | 'lrMult' | 'wdMult'>> {
  params: Tensor[];
  [extra: string]: unknown;
}

export type ParamsArg = Tensor[] | ({ params: Tensor[] } & GroupOptions)[];

/** The hyperparameters every optimizer has (GroupOptions). */
const GROUP_KEYS = ['lr', 'weightDecay', 'lrMult', 'wdMult'];
/** torch's option names that Tessera spells differently. */
const TORCH_NAMES = { weight_decay: 'weightDecay', betas: 'beta1 and beta2', lr_decay: 'lrDecay', initial_accumulator_value: 'initialAccumulatorValue' };

/** Checks an optimizer's own options: the shared hyperparameters plus `own`. */
function optimizerOptions<O extends object>(name: string, opts: O, own: readonly string[]): O {
  checkOptions(name, opts, [...GROUP_KEYS, ...own], TORCH_NAMES);
  return opts;
}

/** The range of each hyperparameter as torch checks it: [low, high, whether high itself is excluded]. */
const RANGES: Record<string, [number, number, boolean]> = {
  lr: [0, Infinity, false], weightDecay: [0, Infinity, false], lrMult: [0, Infinity, false], wdMult: [0, Infinity, false],
  momentum: [0, Infinity, false], dampening: [0, 1, false], beta1: [0, 1, true], beta2: [0, 1, true], eps: [0, Infinity, false],
  alpha: [0, Infinity, false], lrDecay: [0, Infinity, false], initialAccumulatorValue: [0, Infinity, false],
};

function checkHyper(op: string, name: string, v: unknown): void {
  if (typeof v !== 'number') return;
  if (!Number.isFinite(v)) throw new Error(`${op}: ${name} must be finite, got ${v}`);
  const range = RANGES[name];
  if (range && (v < range[0] || v > range[1] || (range[2] && v === range[1]))) {
    throw new Error(`${op}: ${name} must be in [${range[0]}, ${range[1]}${range[2] ? ')' : ']'}, got ${v}`);
  }
}

export abstract class Optimizer {
  readonly paramGroups: ParamGroup[];
  /** Per-parameter state tensors (momentum, Adam moments), by group and index. */
  protected readonly state = new Map<Tensor, Record<string, Tensor | number>>();

  /** `defaults`: every hyperparameter the optimizer has, with the user's options already checked and merged in. */
  constructor(params: ParamsArg, defaults: GroupOptions) {
    const name = this.constructor.name;
    for (const [k, v] of Object.entries(defaults)) checkHyper(name, k, v);
    const groups = params.length > 0 && !(params[0] instanceof Tensor)
      ? (params as ({ params: Tensor[] } & GroupOptions)[])
      : [{ params: params as Tensor[] }];
    const groupKeys = ['params', ...new Set([...GROUP_KEYS, ...Object.keys(defaults)])];
    this.paramGroups = groups.map((g, i) => {
      checkOptions(`${name} parameter group ${i}`, g, groupKeys, TORCH_NAMES);
      for (const [k, v] of Object.entries(g)) checkHyper(name, k, v);
      return { lrMult: 1, wdMult: 1, ...defaults, ...g, lr: g.lr ?? defaults.lr ?? 1e-3, weightDecay: g.weightDecay ?? defaults.weightDecay ?? 0 } as ParamGroup;
    });
    const seen = new Set<Tensor>();
    if (this.paramGroups.every((g) => g.params.length === 0)) throw new Error(`${name}: got an empty parameter list`);
    for (const g of this.paramGroups) for (const p of g.params) {
      if (!(p instanceof Tensor)) throw new Error(`${name}: parameters must be Tensors, got ${typeof p}`);
      if (seen.has(p)) throw new Error(`${name}: parameter ${p.name ?? p.describe()} appears more than once`);
      seen.add(p);
      if (!p.requiresGrad) throw new Error(`${name}: parameter ${p.name ?? p.describe()} does not require grad`);
    }
  }

  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) { p.grad?.dispose(); p.grad = null; }
  }

  /**
   * Frees the state tensors (momentum buffers, Adam moments: kept out of scopes) and forgets them; the
   * parameters belong to their module. A later step() starts from fresh state.
   */
  dispose(): void {
    for (const st of this.state.values()) for (const v of Object.values(st)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    noGrad(() => {
      for (const g of this.paramGroups) {
        checkHyper(this.constructor.name, 'lr', g.lr);
        for (const p of g.params) {
          if (!p.grad) continue;
          let st = this.state.get(p);
          if (!st) { st = {}; this.state.set(p, st); }
          const s = st;
          scope(() => { this.update(p, p.grad!, g, s); });
        }
      }
    });
  }

  /** Updates p (via assign) and its state (values replaced are disposed by the caller's scope unless kept). */
  protected abstract update(p: Tensor, grad: Tensor, group: ParamGroup, state: Record<string, Tensor | number>): void;

  /**
   * A state tensor that a fused update may rewrite in place: made (zeros) on first use, and copied when it is
   * not dense or shares its storage (a loaded checkpoint's view, say), so no other tensor sees the update.
   */
  protected ownState(p: Tensor, state: Record<string, Tensor | number>, key: string): Tensor {
    const t = state[key];
    if (!(t instanceof Tensor)) this.setState(state, key, zerosLike(p));
    else if (!ownsStorage(t)) this.setState(state, key, clone(t));
    return state[key] as Tensor;
  }

  /** Replaces a state tensor, keeping the new one alive across scopes. */
  protected setState(state: Record<string, Tensor | number>, key: string, value: Tensor): void {
    const old = state[key];
    state[key] = value.keep();
    if (old instanceof Tensor) old.dispose();
  }

  /**
   * State for a checkpoint: per-parameter tensors and numbers as `group.param.key`
   * (e.g. `0.3.m`, `0.3.step`) and every numeric group hyperparameter as `group.name`
   * (e.g. `0.lr`, `1.weightDecay`). Parameters are identified by position, as in torch. The tensors are the live
   * state, as torch's state_dict(): Adam's and SGD's steps rewrite them in place, so save (or clone) them before
   * the next step to keep these values.
   */
  stateDict(): OptimizerState {
    const tensors: Record<string, Tensor> = {}, scalars: Record<string, number> = {};
    this.paramGroups.forEach((g, gi) => {
      for (const [k, v] of Object.entries(g)) if (typeof v === 'number') scalars[`${gi}.${k}`] = v;
      g.params.forEach((p, pi) => {
        const st = this.state.get(p);
        if (!st) return;
        for (const [k, v] of Object.entries(st)) {
          if (v instanceof Tensor) tensors[`${gi}.${pi}.${k}`] = v; else scalars[`${gi}.${pi}.${k}`] = v;
        }
      });
    });
    return { tensors, scalars };
  }

  /**
   * Replaces the whole state (as torch's load_state_dict). Every problem is reported in one
   * error and nothing changes unless all entries fit; tensors are copied (onto each parameter's backend).
   */
  loadStateDict(sd: OptimizerState): void {
    const name = this.constructor.name;
    const problems: string[] = [];
    const perParam = new Map<Tensor, [string, Tensor | number][]>();
    const hypers: [ParamGroup, string, number][] = [];
    const entries: [string, Tensor | number][] = [...Object.entries(sd.tensors), ...Object.entries(sd.scalars)];
    for (const [key, v] of entries) {
      const parts = key.split('.');
      const g = /^\d+$/.test(parts[0]) ? this.paramGroups[Number(parts[0])] : undefined;
      if (!g) { problems.push(`'${key}': no parameter group ${parts[0]}`); continue; }
      if (parts.length === 2) {
        // A key the group lacks is taken (a scheduler's initialLr, say); one of another type is not.
        if (typeof v !== 'number' || (parts[1] in g && typeof g[parts[1]] !== 'number')) problems.push(`'${key}': not a numeric hyperparameter of group ${parts[0]}`);
        else hypers.push([g, parts[1], v]);
        continue;
      }
      const p = parts.length === 3 && /^\d+$/.test(parts[1]) ? g.params[Number(parts[1])] : undefined;
      if (!p) { problems.push(`'${key}': no parameter ${parts[1]} in group ${parts[0]}`); continue; }
      if (v instanceof Tensor && (v.dtype !== p.dtype || v.shape.length !== p.shape.length || v.shape.some((s, i) => s !== p.shape[i]))) {
        problems.push(`'${key}': ${v.dtype}[${v.shape}] does not match the parameter's ${p.dtype}[${p.shape}]`);
        continue;
      }
      if (!perParam.has(p)) perParam.set(p, []);
      perParam.get(p)!.push([parts[2], v]);
    }
    if (problems.length) throw new Error(`${name}.loadStateDict: ${problems.join('; ')}`);
    this.dispose();
    for (const [g, k, v] of hypers) g[k] = v;
    for (const [p, items] of perParam) {
      const st: Record<string, Tensor | number> = {};
      for (const [k, v] of items) {
        if (v instanceof Tensor) st[k] = (v.backend === p.backend ? v.clone() : v.to(p.backend.name)).keep();
        else st[k] = v;
      }
      this.state.set(p, st);
    }
  }
}

export interface OptimizerState { tensors: Record<string, Tensor>; scalars: Record<string, number> }

/** Whether t is dense and alone on its storage, so that writing the storage in place changes t only. */
function ownsStorage(t: Tensor): boolean { return t.isContiguous && t.storage.refs === 1; }

/**
 * Gives p storage of its own before a fused update writes it in place. A parameter that shares storage (a view
 * kept elsewhere) gets a dense copy, as assign() gave it before: the other tensor keeps the old values.
 */
function ownParameter(p: Tensor): void {
  if (!ownsStorage(p)) p.assign(clone(p));
}

export interface SgdOptions extends GroupOptions { momentum?: number; dampening?: number; nesterov?: boolean }

/** torch.optim.SGD semantics (weight decay added to the gradient, momentum buffer, optional Nesterov). */
export class SGD extends Optimizer {
  constructor(params: ParamsArg, opts: SgdOptions = {}) {
    super(params, { lr: 1e-3, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0,
      ...optimizerOptions(new.target.name, opts, ['momentum', 'dampening', 'nesterov']) });
    if (opts.nesterov && !(opts.momentum && opts.momentum > 0 && !opts.dampening)) {
      throw new Error('SGD: nesterov needs momentum > 0 and dampening 0');
    }
  }
  protected update(p: Tensor, grad: Tensor, g: ParamGroup, st: Record<string, Tensor | number>): void {
    const lr = g.lr * g.lrMult, wd = g.weightDecay * g.wdMult;
    const momentum = g.momentum as number, dampening = g.dampening as number;
    if (momentum !== 0) {
      // One fused pass rewrites p and its momentum buffer in place.
      const firstStep = !(st.momentum instanceof Tensor);
      ownParameter(p);
      sgdUpdate(p, grad, this.ownState(p, st, 'momentum'),
        { lr, momentum, dampening, nesterov: g.nesterov as boolean, weightDecay: wd, firstStep });
      return;
    }
    const d = wd !== 0 ? add(grad, mul(p, wd)) : grad;
    p.assign(sub(p, mul(d, lr)));
  }
}

export interface AdamOptions extends GroupOptions { beta1?: number; beta2?: number; eps?: number }

/** Adam (L2 weight decay added to the gradient, as torch.optim.Adam). */
export class Adam extends Optimizer {
  protected readonly decoupled: boolean = false;
  constructor(params: ParamsArg, opts: AdamOptions = {}) {
    super(params, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0,
      ...optimizerOptions(new.target.name, opts, ['beta1', 'beta2', 'eps']) });
  }
  protected update(p: Tensor, grad: Tensor, g: ParamGroup, st: Record<string, Tensor | number>): void {
    const lr = g.lr * g.lrMult, wd = g.weightDecay * g.wdMult;
    const b1 = g.beta1 as number, b2 = g.beta2 as number, eps = g.eps as number;
    const t = ((st.step as number) ?? 0) + 1;
    // One fused pass rewrites p and both moments in place (they start at zero, as torch's).
    ownParameter(p);
    adamUpdate(p, grad, this.ownState(p, st, 'm'), this.ownState(p, st, 'v'),
      { lr, beta1: b1, beta2: b2, eps, step: t, weightDecay: wd, decoupled: this.decoupled });
    st.step = t;
  }
}

/** AdamW: weight decay decoupled from the gradient (torch.optim.AdamW, default weight decay 0.01). */
export class AdamW extends Adam {
  protected override readonly decoupled = true;
  constructor(params: ParamsArg, opts: AdamOptions = {}) {
    super(params, { weightDecay: 0.01, ...opts });
  }
}


export interface RmspropOptions extends GroupOptions { alpha?: number; eps?: number; momentum?: number; centered?: boolean }

/**
 * torch.optim.RMSprop: v = alpha v + (1 - alpha) g^2; the step divides g by sqrt(v) + eps (centered: by
 * sqrt(v - mean(g)^2) + eps), through a momentum buffer when momentum > 0. Default lr 0.01.
 */
export class RMSprop extends Optimizer {
  constructor(params: ParamsArg, opts: RmspropOptions = {}) {
    super(params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false,
      ...optimizerOptions(new.target.name, opts, ['alpha', 'eps', 'momentum', 'centered']) });
  }
  protected update(p: Tensor, grad: Tensor, g: ParamGroup, st: Record<string, Tensor | number>): void {
    const lr = g.lr * g.lrMult, wd = g.weightDecay * g.wdMult;
    const alpha = g.alpha as number, eps = g.eps as number, momentum = g.momentum as number;
    st.step = ((st.step as number) ?? 0) + 1;
    const d = wd !== 0 ? add(grad, mul(p, wd)) : grad;
    const squareAvg = st.squareAvg instanceof Tensor ? add(mul(st.squareAvg, alpha), mul(square(d), 1 - alpha)) : mul(square(d), 1 - alpha);
    this.setState(st, 'squareAvg', squareAvg);
    let variance = squareAvg;
    if (g.centered) {
      const gradAvg = st.gradAvg instanceof Tensor ? add(mul(st.gradAvg, alpha), mul(d, 1 - alpha)) : mul(d, 1 - alpha);
      this.setState(st, 'gradAvg', gradAvg);
      variance = sub(squareAvg, square(gradAvg));
    }
    const scaled = div(d, add(sqrt(variance), eps));
    if (momentum > 0) {
      const buf = st.momentum instanceof Tensor ? add(mul(st.momentum, momentum), scaled) : scaled;
      this.setState(st, 'momentum', buf);
      p.assign(sub(p, mul(buf, lr)));
    } else {
      p.assign(sub(p, mul(scaled, lr)));
    }
  }
}

export interface AdagradOptions extends GroupOptions { lrDecay?: number; initialAccumulatorValue?: number; eps?: number }

/**
 * torch.optim.Adagrad: s += g^2 (s starts at initialAccumulatorValue); p -= lr / (1 + (t - 1) lrDecay)
 * g / (sqrt(s) + eps) at step t. Default lr 0.01, eps 1e-10.
 */
export class Adagrad extends Optimizer {
  constructor(params: ParamsArg, opts: AdagradOptions = {}) {
    super(params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10,
      ...optimizerOptions(new.target.name, opts, ['lrDecay', 'initialAccumulatorValue', 'eps']) });
  }
  protected update(p: Tensor, grad: Tensor, g: ParamGroup, st: Record<string, Tensor | number>): void {
    const lr = g.lr * g.lrMult, wd = g.weightDecay * g.wdMult;
    const t = ((st.step as number) ?? 0) + 1;
    st.step = t;
    const d = wd !== 0 ? add(grad, mul(p, wd)) : grad;
    const start = g.initialAccumulatorValue as number;
    const sum = st.sum instanceof Tensor ? add(st.sum, square(d)) : add(square(d), start);
    this.setState(st, 'sum', sum);
    const clr = lr / (1 + (t - 1) * (g.lrDecay as number));
    p.assign(sub(p, mul(div(d, add(sqrt(sum), g.eps as number)), clr)));
  }
}
