// Learning-rate schedules. As in torch, a scheduler sets each group's lr from
// that group's base lr (group.initialLr, recorded by the first scheduler made
// on the optimizer) as a function of the number of step() calls so far; the
// constructor applies step 0. Call scheduler.step() once per optimizer step
// (or per epoch, as the schedule is meant).
import type { Optimizer } from './optimizer.js';
import { checkOptions } from '../ops/util.js';

/** The lr of group `group`, whose base lr is `base`, after `step` scheduler steps. */
export type Schedule = (base: number, step: number, group: number) => number;

function positiveInt(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${op}: ${name} must be a positive integer, got ${v}`);
}
function finite(op: string, name: string, v: number): void {
  if (!Number.isFinite(v)) throw new Error(`${op}: ${name} must be a finite number, got ${v}`);
}

export class LRScheduler {
  /** Number of step() calls so far. */
  lastEpoch = 0;
  readonly baseLrs: number[];

  constructor(readonly optimizer: Optimizer, private readonly schedule: Schedule) {
    for (const g of optimizer.paramGroups) if (typeof g.initialLr !== 'number') g.initialLr = g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.apply();
  }

  /** The lr this schedule gives a group with base lr `base` at step `step` (no side effects). */
  lrAt(base: number, step: number, group = 0): number { return this.schedule(base, step, group); }

  step(): void {
    this.lastEpoch++;
    this.apply();
  }

  /** The lr of each group as last set. */
  getLastLr(): number[] { return this.optimizer.paramGroups.map((g) => g.lr); }

  stateDict(): { lastEpoch: number } { return { lastEpoch: this.lastEpoch }; }

  loadStateDict(sd: { lastEpoch: number }): void {
    if (!Number.isInteger(sd.lastEpoch) || sd.lastEpoch < 0) {
      throw new Error(`${this.constructor.name}.loadStateDict: lastEpoch must be a non-negative integer, got ${sd.lastEpoch}`);
    }
    this.lastEpoch = sd.lastEpoch;
    this.apply();
  }

  private apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const lr = this.schedule(this.baseLrs[i], this.lastEpoch, i);
      finite(this.constructor.name, `lr of group ${i} at step ${this.lastEpoch}`, lr);
      g.lr = lr;
    });
  }
}

/** lr = base * gamma^floor(step / stepSize). */
export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer, stepSize: number, gamma = 0.1) {
    positiveInt('StepLR', 'stepSize', stepSize);
    finite('StepLR', 'gamma', gamma);
    super(optimizer, (base, step) => base * gamma ** Math.floor(step / stepSize));
  }
}

/** lr = etaMin + (base - etaMin) (1 + cos(pi step / tMax)) / 2 (torch's closed form; periodic past tMax). */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer, tMax: number, etaMin = 0) {
    positiveInt('CosineAnnealingLR', 'tMax', tMax);
    finite('CosineAnnealingLR', 'etaMin', etaMin);
    super(optimizer, (base, step) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * step) / tMax))) / 2);
  }
}

export interface LinearWarmupOptions {
  /** Factor of the base lr at step 0; default 0 (the lr rises linearly from 0, as Hugging Face's warmup). */
  startFactor?: number;
  /** Schedule followed after the warmup, its step counted from the warmup's end; default the constant base lr. */
  then?: LRScheduler;
}

/**
 * lr = base * (startFactor + (1 - startFactor) * step / warmupSteps) for step < warmupSteps, then
 * `then`'s schedule at step - warmupSteps. Only the outer scheduler's step() should be called.
 */
export class LinearWarmup extends LRScheduler {
  constructor(optimizer: Optimizer, warmupSteps: number, opts: LinearWarmupOptions = {}) {
    checkOptions('LinearWarmup', opts, ['startFactor', 'then'], { start_factor: 'startFactor' });
    positiveInt('LinearWarmup', 'warmupSteps', warmupSteps);
    const start = opts.startFactor ?? 0;
    if (!(start >= 0 && start <= 1)) throw new Error(`LinearWarmup: startFactor must be in [0, 1], got ${start}`);
    const then = opts.then;
    if (then && then.optimizer !== optimizer) throw new Error('LinearWarmup: `then` schedules a different optimizer');
    super(optimizer, (base, step, group) => {
      if (step < warmupSteps) return base * (start + ((1 - start) * step) / warmupSteps);
      return then ? then.lrAt(base, step - warmupSteps, group) : base;
    });
  }
}

/**
 * The Transformer ("Noam") schedule: linear warmup to the base lr at step warmupSteps - 1,
 * then decay as 1/sqrt(step): lr = base * min((step + 1) / W, sqrt(W / (step + 1))).
 * warmupSteps = 1 is pure inverse-square-root decay base / sqrt(step + 1).
 */
export class InverseSqrt extends LRScheduler {
  constructor(optimizer: Optimizer, warmupSteps = 1) {
    positiveInt('InverseSqrt', 'warmupSteps', warmupSteps);
    super(optimizer, (base, step) => base * Math.min((step + 1) / warmupSteps, Math.sqrt(warmupSteps / (step + 1))));
  }
}

/** lr = base * lambda(step), with one function for all groups or one per group (torch.optim.lr_scheduler.LambdaLR). */
export class LambdaLR extends LRScheduler {
  constructor(optimizer: Optimizer, lrLambda: ((step: number) => number) | ((step: number) => number)[]) {
    const fns = Array.isArray(lrLambda) ? lrLambda : optimizer.paramGroups.map(() => lrLambda);
    if (fns.length !== optimizer.paramGroups.length) {
      throw new Error(`LambdaLR: ${fns.length} functions for ${optimizer.paramGroups.length} parameter groups`);
    }
    super(optimizer, (base, step, group) => base * fns[group](step));
  }
}

/** lr = base * gamma^(number of milestones <= step); a milestone listed twice counts twice (as torch). */
export class MultiStepLR extends LRScheduler {
  constructor(optimizer: Optimizer, milestones: readonly number[], gamma = 0.1) {
    if (!Array.isArray(milestones)) throw new Error(`MultiStepLR: milestones must be an array of step counts, got ${String(milestones)}`);
    for (const m of milestones) positiveInt('MultiStepLR', 'each milestone', m);
    finite('MultiStepLR', 'gamma', gamma);
    const sorted = [...milestones];
    super(optimizer, (base, step) => base * gamma ** sorted.filter((m) => m <= step).length);
  }
}

/** lr = base * gamma^step. */
export class ExponentialLR extends LRScheduler {
  constructor(optimizer: Optimizer, gamma: number) {
    finite('ExponentialLR', 'gamma', gamma);
    super(optimizer, (base, step) => base * gamma ** step);
  }
}

export interface OneCycleLROptions {
  /** Number of steps in the cycle (or give epochs and stepsPerEpoch, whose product it is). */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent raising the lr; default 0.3. */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the optimizer's momentum (SGD, RMSprop) or beta1 (Adam) inversely to the lr; default true. */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  /** The lr starts at maxLr / divFactor (default 25) ... */
  divFactor?: number;
  /** ... and ends at maxLr / divFactor / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Rise, fall back to the start, then anneal to the end (fastai's), instead of rise then anneal. */
  threePhase?: boolean;
}

const ONE_CYCLE_TORCH_NAMES: Record<string, string> = {
  total_steps: 'totalSteps', steps_per_epoch: 'stepsPerEpoch', pct_start: 'pctStart', anneal_strategy: 'annealStrategy',
  cycle_momentum: 'cycleMomentum', base_momentum: 'baseMomentum', max_momentum: 'maxMomentum', div_factor: 'divFactor',
  final_div_factor: 'finalDivFactor', three_phase: 'threePhase',
};

interface CyclePhase { endStep: number; startLr: number; endLr: number; startMomentum: number; endMomentum: number }

/**
 * torch.optim.lr_scheduler.OneCycleLR (Smith's 1cycle): the lr rises from maxLr / divFactor to maxLr over
 * pctStart of totalSteps, then anneals to maxLr / (divFactor * finalDivFactor); the momentum moves the other
 * way between maxMomentum and baseMomentum. Stepping past totalSteps is an error, as in torch.
 */
export class OneCycleLR extends LRScheduler {
  private readonly momentumKey: 'momentum' | 'beta1' | null;
  private readonly momentumAt: (step: number, group: number) => number;

  constructor(optimizer: Optimizer, maxLr: number | readonly number[], opts: OneCycleLROptions = {}) {
    const cls = 'OneCycleLR';
    checkOptions(cls, opts, ['totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'cycleMomentum',
      'baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase'], ONE_CYCLE_TORCH_NAMES);
    let totalSteps = opts.totalSteps;
    if (totalSteps === undefined) {
      if (opts.epochs === undefined || opts.stepsPerEpoch === undefined) throw new Error(`${cls}: give totalSteps, or epochs and stepsPerEpoch`);
      positiveInt(cls, 'epochs', opts.epochs);
      positiveInt(cls, 'stepsPerEpoch', opts.stepsPerEpoch);
      totalSteps = opts.epochs * opts.stepsPerEpoch;
    }
    positiveInt(cls, 'totalSteps', totalSteps);
    const pctStart = opts.pctStart ?? 0.3, divFactor = opts.divFactor ?? 25, finalDivFactor = opts.finalDivFactor ?? 1e4;
    if (!(pctStart >= 0 && pctStart <= 1)) throw new Error(`${cls}: pctStart must be in [0, 1], got ${pctStart}`);
    const anneal = opts.annealStrategy ?? 'cos';
    if (anneal !== 'cos' && anneal !== 'linear') throw new Error(`${cls}: annealStrategy must be 'cos' or 'linear', got ${String(anneal)}`);
    for (const [k, v] of [['divFactor', divFactor], ['finalDivFactor', finalDivFactor]] as const) {
      if (!(Number.isFinite(v) && v > 0)) throw new Error(`${cls}: ${k} must be a finite number > 0, got ${v}`);
    }
    const groups = optimizer.paramGroups.length;
    const maxLrs = typeof maxLr === 'number' ? new Array<number>(groups).fill(maxLr) : [...maxLr];
    if (maxLrs.length !== groups) throw new Error(`${cls}: ${maxLrs.length} maxLr values for ${groups} parameter groups`);
    for (const v of maxLrs) if (!(Number.isFinite(v) && v > 0)) throw new Error(`${cls}: maxLr must be a finite number > 0, got ${v}`);
    const cycleMomentum = opts.cycleMomentum ?? true;
    const baseMomentum = opts.baseMomentum ?? 0.85, maxMomentum = opts.maxMomentum ?? 0.95;
    let momentumKey: 'momentum' | 'beta1' | null = null;
    if (cycleMomentum) {
      const g0 = optimizer.paramGroups[0];
      momentumKey = typeof g0.momentum === 'number' ? 'momentum' : typeof g0.beta1 === 'number' ? 'beta1' : null;
      if (!momentumKey) throw new Error(`${cls}: cycleMomentum needs an optimizer with momentum or beta1 (or pass cycleMomentum: false)`);
    }
    const interpolate = anneal === 'cos'
      ? (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1)
      : (start: number, end: number, pct: number) => (end - start) * pct + start;
    const phasesOf = (top: number): CyclePhase[] => {
      const initial = top / divFactor, min = initial / finalDivFactor;
      return opts.threePhase
        ? [{ endStep: pctStart * totalSteps - 1, startLr: initial, endLr: top, startMomentum: maxMomentum, endMomentum: baseMomentum },
          { endStep: 2 * pctStart * totalSteps - 2, startLr: top, endLr: initial, startMomentum: baseMomentum, endMomentum: maxMomentum },
          { endStep: totalSteps - 1, startLr: initial, endLr: min, startMomentum: maxMomentum, endMomentum: maxMomentum }]
        : [{ endStep: pctStart * totalSteps - 1, startLr: initial, endLr: top, startMomentum: maxMomentum, endMomentum: baseMomentum },
          { endStep: totalSteps - 1, startLr: top, endLr: min, startMomentum: baseMomentum, endMomentum: maxMomentum }];
    };
    const phases = maxLrs.map(phasesOf);
    /** The lr (or momentum) of a group at a step, from the phase the step falls in. */
    const at = (step: number, group: number, which: 'lr' | 'momentum') => {
      if (step > totalSteps) throw new Error(`${cls}: stepped ${step} times, past totalSteps ${totalSteps}`);
      let start = 0;
      const ps = phases[group];
      for (let i = 0; i < ps.length; i++) {
        const p = ps[i];
        if (step <= p.endStep || i === ps.length - 1) {
          const pct = (step - start) / (p.endStep - start);
          return which === 'lr' ? interpolate(p.startLr, p.endLr, pct) : interpolate(p.startMomentum, p.endMomentum, pct);
        }
        start = p.endStep;
      }
      throw new Error(`${cls}: no phase for step ${step}`);
    };
    for (const [i, g] of optimizer.paramGroups.entries()) g.initialLr = maxLrs[i] / divFactor;
    super(optimizer, (_base, step, group) => at(step, group, 'lr'));
    this.momentumKey = momentumKey;
    this.momentumAt = (step, group) => at(step, group, 'momentum');
    this.applyMomentum();
  }

  override step(): void { super.step(); this.applyMomentum(); }

  override loadStateDict(sd: { lastEpoch: number }): void { super.loadStateDict(sd); this.applyMomentum(); }

  private applyMomentum(): void {
    const key = this.momentumKey;
    if (key) this.optimizer.paramGroups.forEach((g, i) => { g[key] = this.momentumAt(this.lastEpoch, i); });
  }
}

export interface ReduceLROnPlateauOptions {
  /** 'min' (default): the metric should fall (a loss); 'max': it should rise (an accuracy). */
  mode?: 'min' | 'max';
  /** The lr is multiplied by factor (< 1; default 0.1) on a plateau. */
  factor?: number;
  /** Steps without improvement tolerated before the lr is cut; default 10. */
  patience?: number;
  /** What counts as an improvement: by threshold relative to the best ('rel', default) or absolute ('abs'). */
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  /** Steps after a cut during which bad steps are not counted; default 0. */
  cooldown?: number;
  /** Floor of the lr, one for all groups or one per group; default 0. */
  minLr?: number | number[];
  /** A cut smaller than eps is skipped; default 1e-8. */
  eps?: number;
}

const PLATEAU_TORCH_NAMES: Record<string, string> = { threshold_mode: 'thresholdMode', min_lr: 'minLr' };

/**
 * torch.optim.lr_scheduler.ReduceLROnPlateau: step(metric) once per evaluation; when the metric has not
 * improved for more than `patience` steps, every group's lr is multiplied by `factor` (not below minLr).
 */
export class ReduceLROnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;

  constructor(readonly optimizer: Optimizer, opts: ReduceLROnPlateauOptions = {}) {
    const cls = 'ReduceLROnPlateau';
    checkOptions(cls, opts, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'], PLATEAU_TORCH_NAMES);
    this.mode = opts.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max') throw new Error(`${cls}: mode must be 'min' or 'max', got ${String(this.mode)}`);
    this.thresholdMode = opts.thresholdMode ?? 'rel';
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') throw new Error(`${cls}: thresholdMode must be 'rel' or 'abs', got ${String(this.thresholdMode)}`);
    this.factor = opts.factor ?? 0.1;
    if (!(this.factor >= 0 && this.factor < 1)) throw new Error(`${cls}: factor must be in [0, 1), got ${this.factor}`);
    this.patience = opts.patience ?? 10;
    this.cooldown = opts.cooldown ?? 0;
    for (const [k, v] of [['patience', this.patience], ['cooldown', this.cooldown]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`${cls}: ${k} must be a non-negative integer, got ${v}`);
    }
    this.threshold = opts.threshold ?? 1e-4;
    this.eps = opts.eps ?? 1e-8;
    for (const [k, v] of [['threshold', this.threshold], ['eps', this.eps]] as const) {
      if (!(Number.isFinite(v) && v >= 0)) throw new Error(`${cls}: ${k} must be a finite number >= 0, got ${v}`);
    }
    const groups = optimizer.paramGroups.length;
    const minLr = opts.minLr ?? 0;
    this.minLrs = Array.isArray(minLr) ? [...minLr] : new Array<number>(groups).fill(minLr);
    if (this.minLrs.length !== groups) throw new Error(`${cls}: ${this.minLrs.length} minLr values for ${groups} parameter groups`);
    for (const v of this.minLrs) if (!(Number.isFinite(v) && v >= 0)) throw new Error(`${cls}: minLr must be a finite number >= 0, got ${v}`);
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(value: number): boolean {
    const { best, threshold } = this;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? value < best * (1 - threshold) : value < best - threshold;
    return this.thresholdMode === 'rel' ? value > best * (1 + threshold) : value > best + threshold;
  }

  /** Records one evaluation of the metric (a number; read a tensor's value first). */
  step(metric: number): void {
    if (typeof metric !== 'number' || Number.isNaN(metric)) throw new Error(`ReduceLROnPlateau.step: metric must be a number, got ${String(metric)}`);
    this.lastEpoch++;
    if (this.isBetter(metric)) { this.best = metric; this.numBadEpochs = 0; } else this.numBadEpochs++;
    if (this.cooldownCounter > 0) { this.cooldownCounter--; this.numBadEpochs = 0; }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const next = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  getLastLr(): number[] { return this.optimizer.paramGroups.map((g) => g.lr); }

  stateDict(): { lastEpoch: number; best: number; numBadEpochs: number; cooldownCounter: number } {
    return { lastEpoch: this.lastEpoch, best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter };
  }

  loadStateDict(sd: { lastEpoch: number; best: number; numBadEpochs: number; cooldownCounter: number }): void {
    for (const k of ['lastEpoch', 'numBadEpochs', 'cooldownCounter'] as const) {
      if (!Number.isInteger(sd[k]) || sd[k] < 0) throw new Error(`ReduceLROnPlateau.loadStateDict: ${k} must be a non-negative integer, got ${sd[k]}`);
    }
    if (typeof sd.best !== 'number') throw new Error(`ReduceLROnPlateau.loadStateDict: best must be a number, got ${String(sd.best)}`);
    Object.assign(this, { lastEpoch: sd.lastEpoch, best: sd.best, numBadEpochs: sd.numBadEpochs, cooldownCounter: sd.cooldownCounter });
  }
}
