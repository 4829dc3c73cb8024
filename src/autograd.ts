// Reverse-mode autodiff, above the ops: backward() walks the tape that ops recorded (src/tape.ts) in reverse
// topological order, taking each primitive's gradient from src/gradients.ts and each fused kernel's from its
// node. Gradients are computed with ops, so they run on the backend the forward ran on.
import { noGrad, type Primitive } from './tape.js';
import type { Tensor } from './tensor.js';
import { gradients, type GradientRule } from './gradients.js';
import { add, clone, contiguous } from './ops/elementwise.js';
import { onesLike } from './ops/creation.js';

export { noGrad, isGradEnabled } from './tape.js';

/** The gradients of t's inputs given t's gradient g. */
function inputGradients(t: Tensor, g: Tensor): (Tensor | null)[] {
  const node = t.node!;
  if (node.backward) return node.backward(g);
  const rule = gradients[node.op as Primitive] as GradientRule<unknown> | undefined;
  if (!rule) throw new Error(`no gradient rule for op ${node.op}`);
  return rule(g, node.inputs, t, node.saved);
}

/** Accumulates d(root)/d(leaf) into every leaf's .grad. The graph is freed afterwards. */
export function backward(root: Tensor, seed?: Tensor): void {
  if (!root.requiresGrad) throw new Error(`backward: tensor ${root.describe()} does not require grad`);
  if (!seed && root.size !== 1) {
    throw new Error(`backward: ${root.describe()} is not a scalar; pass the gradient explicitly`);
  }
  const order = topoOrder(root);
  const grads = new Map<Tensor, Tensor>();
  noGrad(() => {
    grads.set(root, seed ? clone(seed) : onesLike(root));
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const node = t.node!;
      let gs: (Tensor | null)[];
      try {
        gs = inputGradients(t, g);
      } catch (e) {
        throw new Error(`backward of ${node.op}: ${(e as Error).message}`);
      }
      // One tensor may come back for several inputs (add returns g twice): give each input its own.
      gs = gs.map((gi, k) => (gi && gs.indexOf(gi) < k ? clone(gi) : gi));
      if (!gs.includes(g)) g.dispose();
      node.inputs.forEach((inp, k) => {
        const gi = gs[k];
        if (!gi || !inp.requiresGrad) { if (gi && gi !== g) gi.dispose(); return; }
        if (inp.node) {
          const prev = grads.get(inp);
          if (prev) { grads.set(inp, add(prev, gi)); prev.dispose(); gi.dispose(); } else grads.set(inp, gi);
        } else {
          const owned = contiguous(gi);
          if (owned !== gi) gi.dispose();
          if (inp.grad) { const sum = add(inp.grad, owned); inp.grad.dispose(); owned.dispose(); inp.grad = sum.keep(); } else inp.grad = owned.keep();
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
