// Learning-rate schedules. As in torch, a scheduler sets each group's lr from
// that group's base lr (group.initialLr, recorded by the first scheduler made
// on the optimizer) as a function of the number of step() calls so far; the
// constructor applies step 0. Call scheduler.step() once per optimizer step
// (or per epoch, as the schedule is meant).
import type { Optimizer } from './optimizer.js';

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
