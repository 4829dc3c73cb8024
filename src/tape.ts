// The autograd tape, below the ops: ops record how their results were computed, and noGrad turns recording
// off. Reading the tape backwards is src/autograd.ts's job (above the ops); the derivatives of the primitive
// ops are src/gradients.ts's table. Nothing here is wired at load time.
import type { BinaryOp, UnaryOp } from './backend/interface.js';
import type { Tensor } from './tensor.js';

let gradEnabled = true;

export function isGradEnabled(): boolean { return gradEnabled; }

/** Runs fn without recording gradients (like torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = prev; }
}

/** Binary ops with a gradient (comparisons and floorDivide have none and are not recorded). */
export type DifferentiableBinaryOp = Exclude<BinaryOp, 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'floorDivide'>;

/** What each primitive op saves for its gradient rule in src/gradients.ts, besides its inputs and output. */
export type SavedByOp = { [K in UnaryOp]: { alpha: number } } & { [K in DifferentiableBinaryOp]: null } & {
  cast: null; contiguous: null; clone: null;
  where: { cond: Tensor };
  reshape: null; expand: null; squeeze: null; unsqueeze: null;
  permute: { axes: number[] };
  slice: { axis: number; start: number; step: number };
  sum: { axes: number[] }; prod: { axes: number[] }; max: { axes: number[] }; min: { axes: number[] };
  gather: { axis: number; index: Tensor };
  scatterAdd: { axis: number; index: Tensor };
  /** a2, b2: the operands as at least 2-D views; productShape: the product's shape before 1-D operands' axes were squeezed. */
  matmul: { alpha: number; a2: Tensor; b2: Tensor; productShape: number[] };
};

export type Primitive = keyof SavedByOp;

function wantsGrad(inputs: Tensor[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

/** Records `out` as computed by the primitive `op` from `inputs` when any input requires grad. */
export function record<K extends Primitive>(out: Tensor, op: K, inputs: Tensor[], saved: SavedByOp[K]): Tensor {
  if (wantsGrad(inputs)) {
    out.requiresGrad = true;
    out.node = { op, inputs, saved };
  }
  return out;
}

/** Records `out` as computed by a fused kernel whose gradient is its own `backward` (conv, spmm, linear, ...). */
export function recordBackward(out: Tensor, op: string, inputs: Tensor[], backward: (g: Tensor) => (Tensor | null)[]): Tensor {
  if (wantsGrad(inputs)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}
