// µP optimizers (mup.MuSGD / MuAdam / MuAdamW): the model's parameters are split
// into groups by how they scale with width, and each group's lrMult and wdMult
// carry the µP factor (multiplying any the caller set), so the user's lr stays
// the base-model lr and schedulers that set lr keep working. Rules, read from
// microsoft/mup mup/optim.py (wm = InfShape.widthMult, the multiplier of the
// last width dimension, i.e. the fan-in of a hidden matrix):
//   Adam-like: hidden matrices (2 width dims): lr / wm, weight decay * wm;
//              everything else unchanged.
//   SGD-like:  vector-like (1 width dim: input weights, biases, readout weights):
//              lr * wm, weight decay / wm; hidden matrices: lr / (fan-in mult /
//              fan-out mult), weight decay * that ratio; fixed-size ones unchanged.
// The weight-decay factor undoes the lr factor in lr * wd (torch-style coupled
// decay, as Tessera's AdamW and SGD apply it); `decoupledWd` leaves weight decay
// unscaled, for optimizers whose decay does not multiply the learning rate.
import { Tensor, optim } from '../../index.js';
import Adam = optim.Adam;
import AdamW = optim.AdamW;
import SGD = optim.SGD;
import Optimizer = optim.Optimizer;
type AdamOptions = optim.AdamOptions;
type GroupOptions = optim.GroupOptions;
type ParamsArg = optim.ParamsArg;
type SgdOptions = optim.SgdOptions;
import { infShapeOf } from './shapes.js';

export type MuRule = 'adam' | 'sgd';

export interface MuOptions {
  /** Do not scale weight decay (for decay applied independently of the learning rate); default false. */
  decoupledWd?: boolean;
}

/** The µP lr and weight-decay factors of one parameter under an optimizer family. */
export function muFactors(p: Tensor, rule: MuRule, decoupledWd = false): { lrMult: number; wdMult: number } {
  const s = infShapeOf(p);
  if (s.ninf > 2) throw new Error(`µP ${rule}: parameter ${p.name ?? ''} ${s} has more than 2 width dimensions`);
  let lr = 1;
  if (rule === 'adam') {
    if (s.ninf === 2) lr = 1 / s.widthMult;
  } else if (s.ninf === 1) {
    lr = s.widthMult;
  } else if (s.ninf === 2) {
    lr = 1 / s.fanInFanOutMultRatio;
  }
  return { lrMult: lr, wdMult: decoupledWd ? 1 : 1 / lr };
}

type Group = { params: Tensor[] } & GroupOptions;

/**
 * Splits parameter groups so that each new group shares one µP factor pair, multiplied into
 * the group's own lrMult / wdMult. Groups keep their other options; order is first appearance.
 */
export function muParamGroups(params: ParamsArg, rule: MuRule, decoupledWd = false): Group[] {
  const groups: Group[] = params.length > 0 && !(params[0] instanceof Tensor) ? params as Group[] : [{ params: params as Tensor[] }];
  const out: Group[] = [];
  for (const g of groups) {
    const byFactor = new Map<string, Group>();
    for (const p of g.params) {
      const f = muFactors(p, rule, decoupledWd);
      const key = `${f.lrMult}|${f.wdMult}`;
      let ng = byFactor.get(key);
      if (!ng) {
        ng = { ...g, params: [], lrMult: (g.lrMult ?? 1) * f.lrMult, wdMult: (g.wdMult ?? 1) * f.wdMult };
        byFactor.set(key, ng);
        out.push(ng);
      }
      ng.params.push(p);
    }
  }
  return out;
}

/** SGD with µP per-parameter scaling; the model needs setBaseShapes first. */
export class MuSGD extends SGD {
  constructor(params: ParamsArg, opts: SgdOptions & MuOptions = {}) {
    const { decoupledWd, ...rest } = opts;
    super(muParamGroups(params, 'sgd', decoupledWd), rest);
  }
}

/** Adam with µP per-parameter scaling; the model needs setBaseShapes first. */
export class MuAdam extends Adam {
  constructor(params: ParamsArg, opts: AdamOptions & MuOptions = {}) {
    const { decoupledWd, ...rest } = opts;
    super(muParamGroups(params, 'adam', decoupledWd), rest);
  }
}

/** AdamW with µP per-parameter scaling; the model needs setBaseShapes first. */
export class MuAdamW extends AdamW {
  constructor(params: ParamsArg, opts: AdamOptions & MuOptions = {}) {
    const { decoupledWd, ...rest } = opts;
    super(muParamGroups(params, 'adam', decoupledWd), rest);
  }
}

export type OptimizerKind = 'sgd' | 'adam' | 'adamw';

/** The optimizer a parametrization trains with: µP's scaled one, or the plain one for SP. */
export function optimizerFor(parametrization: 'mup' | 'sp', kind: OptimizerKind, params: ParamsArg, opts: { lr: number; weightDecay?: number; momentum?: number }): Optimizer {
  const mup = parametrization === 'mup';
  switch (kind) {
    case 'sgd': return mup ? new MuSGD(params, opts) : new SGD(params, opts);
    case 'adam': return mup ? new MuAdam(params, opts) : new Adam(params, opts);
    case 'adamw': return mup ? new MuAdamW(params, opts) : new AdamW(params, opts);
    default: throw new Error(`optimizerFor: unknown optimizer '${kind as string}' (sgd, adam, adamw)`);
  }
}

