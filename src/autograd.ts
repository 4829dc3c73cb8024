// Reverse-mode autodiff over a tape. Each op that had an input requiring grad
// attaches a GradNode to its result; backward() walks the graph in reverse
// topological order. Backward formulas are written with ops, so they run on the
// backend the forward ran on.
import { Tensor } from './tensor.js';

export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** Gradients for each input (null where none flows), given the output's gradient. */
  backward(grad: Tensor): (Tensor | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean { return gradEnabled; }

/** Runs fn without recording gradients (like torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = prev; }
}

/** Records `out` as computed by `op` from `inputs` when any input requires grad. */
export function record(out: Tensor, op: string, inputs: Tensor[], backward: (g: Tensor) => (Tensor | null)[]): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

// Late-bound ops to avoid an import cycle with src/ops.
export const gradOps: {
  add: (a: Tensor, b: Tensor) => Tensor;
  onesLike: (t: Tensor) => Tensor;
  clone: (t: Tensor) => Tensor;
} = {} as never;

/** Accumulates d(root)/d(leaf) into every leaf's .grad. The graph is freed afterwards. */
export function backward(root: Tensor, seed?: Tensor): void {
  if (!root.requiresGrad) throw new Error(`backward: tensor ${root.describe()} does not require grad`);
  if (!seed && root.size !== 1) {
    throw new Error(`backward: ${root.describe()} is not a scalar; pass the gradient explicitly`);
  }
  const order = topoOrder(root);
  const grads = new Map<Tensor, Tensor>();
  noGrad(() => {
    grads.set(root, seed ? gradOps.clone(seed) : gradOps.onesLike(root));
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const node = t.node!;
      let gs: (Tensor | null)[];
      try {
        gs = node.backward(g);
      } catch (e) {
        throw new Error(`backward of ${node.op}: ${(e as Error).message}`);
      }
      // One tensor may come back for several inputs (add returns g twice): give each input its own.
      gs = gs.map((gi, k) => (gi && gs.indexOf(gi) < k ? gradOps.clone(gi) : gi));
      if (!gs.includes(g)) g.dispose();
      node.inputs.forEach((inp, k) => {
        const gi = gs[k];
        if (!gi || !inp.requiresGrad) { if (gi && gi !== g) gi.dispose(); return; }
        if (inp.node) {
          const prev = grads.get(inp);
          if (prev) { grads.set(inp, gradOps.add(prev, gi)); prev.dispose(); gi.dispose(); } else grads.set(inp, gi);
        } else {
          const owned = gi.isContiguous ? gi : gi.contiguous();
          if (owned !== gi) gi.dispose();
          if (inp.grad) { const sum = gradOps.add(inp.grad, owned); inp.grad.dispose(); owned.dispose(); inp.grad = sum.keep(); } else inp.grad = owned.keep();
        }
      });
    }
  });
  for (const t of order) { t.node = null; }
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node ? t.node.inputs : [];
    if (i < inputs.length) {
      top[1]++;
      const inp = inputs[i];
      if (inp.node && !seen.has(inp)) { seen.add(inp); stack.push([inp, 0]); }
    } else {
      stack.pop();
      if (t.node) order.push(t);
    }
  }
  return order;
}
