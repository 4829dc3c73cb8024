// Fused optimizer updates: one kernel call per parameter that reads the parameter, its gradient and its state
// and rewrites the parameter and the state in place (torch's fused / foreach steps do the same). Composed from
// ops, an Adam step was about a dozen elementwise ops per parameter, each a dispatch, a temporary and a full pass
// over memory. The updates record no gradient: they run under noGrad, as torch.optim's steps do.
import type { Tensor } from '../tensor.js';
import { isGradEnabled } from '../tape.js';
import { contiguous } from './elementwise.js';
import { checkOptions, commonBackend, opError, requireFinite, requireFloat, runKernel } from './util.js';

export interface AdamUpdateOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** The step count t >= 1 of this update: the bias corrections are 1 - beta1^t and 1 - beta2^t. */
  step: number;
  /** Default 0. */
  weightDecay?: number;
  /** AdamW's decoupled decay (param *= 1 - lr weightDecay) instead of Adam's weightDecay param added to the
   *  gradient; default false. */
  decoupled?: boolean;
}

export interface SgdUpdateOptions {
  lr: number;
  momentum: number;
  /** Default 0. */
  dampening?: number;
  /** Default false. */
  nesterov?: boolean;
  /** Default 0. */
  weightDecay?: number;
  /** The buffer holds no history yet: it becomes the (decayed) gradient, undamped, as in torch's first step
   *  (its contents are not read). Default false. */
  firstStep?: boolean;
}

/**
 * The checks every update shares: live float32 tensors of param's shape on one backend, param and its state
 * dense and in storage of their own (they are written in place), and no gradient recording for param.
 * Returns grad as a dense tensor.
 */
function checkUpdate(op: string, param: Tensor, grad: Tensor, state: Tensor[]): Tensor {
  const all = [param, grad, ...state];
  commonBackend(op, all);
  requireFloat(op, all);
  if (all.some((t) => t.shape.length !== param.shape.length || t.shape.some((s, i) => s !== param.shape[i]))) {
    throw opError(op, 'the gradient and the state must have the parameter\'s shape', all);
  }
  if ([param, ...state].some((t) => !t.isContiguous)) {
    throw opError(op, 'the parameter and its state are updated in place and must be dense (contiguous)', all);
  }
  if (new Set(all.map((t) => t.storage)).size !== all.length) {
    throw opError(op, 'the parameter, its gradient and its state must not share storage', all);
  }
  if (isGradEnabled() && param.requiresGrad) {
    throw opError(op, 'updates a parameter that requires grad in place: call it under noGrad', all);
  }
  return contiguous(grad);
}

function checkHyperparameters(op: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) requireFinite(op, name, v);
}

/**
 * One torch.optim.Adam step (AdamW with `decoupled`) of `param` from `grad`, updating the first and second
 * moment estimates expAvg and expAvgSq in place: g = grad (+ weightDecay param for Adam);
 * expAvg = beta1 expAvg + (1 - beta1) g; expAvgSq = beta2 expAvgSq + (1 - beta2) g^2;
 * param = param (1 - lr weightDecay for AdamW) - lr / (1 - beta1^t) expAvg / (sqrt(expAvgSq / (1 - beta2^t)) + eps),
 * the last as torch computes it: sqrt(expAvgSq) / sqrt(1 - beta2^t) + eps. One kernel call.
 */
export function adamUpdate(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, opts: AdamUpdateOptions): void {
  const op = 'adamUpdate';
  checkOptions(op, opts, ['lr', 'beta1', 'beta2', 'eps', 'step', 'weightDecay', 'decoupled']);
  const { lr, beta1, beta2, eps, step, weightDecay = 0, decoupled = false } = opts;
  checkHyperparameters(op, { lr, beta1, beta2, eps, weightDecay });
  if (!Number.isInteger(step) || step < 1) throw new Error(`${op}: step must be an integer >= 1, got ${step}`);
  const g = checkUpdate(op, param, grad, [expAvg, expAvgSq]);
  const record = {
    n: param.size, lr, beta1, beta2, eps, weight_decay: weightDecay, decoupled: decoupled ? 1 : 0,
    step_size: lr / (1 - beta1 ** step), bias_correction2_sqrt: Math.sqrt(1 - beta2 ** step),
  };
  runKernel(op, [param, grad, expAvg, expAvgSq], () => param.backend.adamUpdate(param.denseBuf(), g.denseBuf(),
    expAvg.denseBuf(), expAvgSq.denseBuf(), record));
  if (g !== grad) g.dispose();
}

/**
 * One torch.optim.SGD step with a momentum buffer, in place: d = grad + weightDecay param;
 * buf = firstStep ? d : momentum buf + (1 - dampening) d; param -= lr (nesterov ? d + momentum buf : buf).
 * One kernel call.
 */
export function sgdUpdate(param: Tensor, grad: Tensor, momentumBuffer: Tensor, opts: SgdUpdateOptions): void {
  const op = 'sgdUpdate';
  checkOptions(op, opts, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'firstStep']);
  const { lr, momentum, dampening = 0, nesterov = false, weightDecay = 0, firstStep = false } = opts;
  checkHyperparameters(op, { lr, momentum, dampening, weightDecay });
  const g = checkUpdate(op, param, grad, [momentumBuffer]);
  const record = {
    n: param.size, lr, weight_decay: weightDecay, momentum, dampening, nesterov: nesterov ? 1 : 0, first: firstStep ? 1 : 0,
  };
  runKernel(op, [param, grad, momentumBuffer], () => param.backend.sgdUpdate(param.denseBuf(), g.denseBuf(),
    momentumBuffer.denseBuf(), record));
  if (g !== grad) g.dispose();
}
