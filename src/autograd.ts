// Reverse-mode autodiff, above the ops: backward() walks the tape that ops recorded (src/tape.ts) in reverse
// topological order, taking each primitive's gradient from src/gradients.ts and each fused kernel's from its
// node. Gradients are computed with ops, so they run on the backend the forward ran on.
import { noGrad, type Primitive } from './tape.js';
import { Tensor, scope } from './tensor.js';
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

export interface BackwardOptions {
  /** The gradient of the root (required when the root is not a scalar). */
  grad?: Tensor;
  /** Keep the graph for another backward() through it (torch's retain_graph). Default false: it is freed. */
  retainGraph?: boolean;
}

const BACKWARD_KEYS = new Set(['grad', 'retainGraph']);

/** Called with a leaf once its gradient for this backward() is complete in leaf.grad (DDP's gradient-ready hook). */
export type GradReadyHook = (leaf: Tensor) => void;
const gradReadyHooks = new Set<GradReadyHook>();

/**
 * Registers `hook` to run during every backward(), once per leaf as soon as no later gradient rule can add to
 * its .grad; returns a function that removes it. DistributedDataParallel starts bucket all-reduces from it.
 */
export function onGradReady(hook: GradReadyHook): () => void {
  gradReadyHooks.add(hook);
  return () => { gradReadyHooks.delete(hook); };
}

/**
 * Accumulates d(root)/d(leaf) into every leaf's .grad. The graph is freed afterwards unless retainGraph: a
 * second backward() through it throws, as does one through an intermediate that was disposed.
 */
export function backward(root: Tensor, seedOrOptions?: Tensor | BackwardOptions): void {
  const opts: BackwardOptions = seedOrOptions === undefined || seedOrOptions instanceof Tensor ? { grad: seedOrOptions } : seedOrOptions;
  for (const k of Object.keys(opts)) if (!BACKWARD_KEYS.has(k)) throw new Error(`backward: unknown option '${k}' (known: ${[...BACKWARD_KEYS].join(', ')})`);
  const seed = opts.grad;
  if (!root.requiresGrad) throw new Error(`backward: tensor ${root.describe()} does not require grad`);
  if (!seed && root.size !== 1) {
    throw new Error(`backward: ${root.describe()} is not a scalar; pass the gradient explicitly`);
  }
  const order = topoOrder(root);
  const pending = gradReadyHooks.size > 0 ? pendingContributions(order) : null;
  const grads = new Map<Tensor, Tensor>();
  /** After t's node is done: runs the hooks for the leaves it was the last node to feed. */
  const settle = (t: Tensor): void => {
    if (!pending) return;
    for (const inp of new Set(t.node!.inputs)) {
      if (inp.node || !inp.requiresGrad) continue;
      const left = pending.get(inp)! - 1;
      pending.set(inp, left);
      if (left === 0 && inp.grad) for (const hook of gradReadyHooks) hook(inp);
    }
  };
  noGrad(() => {
    grads.set(root, seed ? clone(seed) : onesLike(root));
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (!g) { settle(t); continue; }
      grads.delete(t);
      const node = t.node!;
      let gs: (Tensor | null)[];
      try {
        // A rule's temporaries (masks, broadcast products before their sum) are freed as soon as it returns:
        // under the caller's scope they would all stay alive until the step ends.
        gs = scope(() => inputGradients(t, g));
      } catch (e) {
        throw new Error(`backward of ${node.op}: ${(e as Error).message}`);
      }
      // One tensor may come back for several inputs (add returns g twice): give each input its own.
      let returnsG = false, copied = false;
      for (let k = 0; k < gs.length; k++) {
        const gi = gs[k];
        if (gi && gs.indexOf(gi) < k) {
          if (!copied) { gs = gs.slice(); copied = true; }  // the rule's array is left as it returned it
          gs[k] = clone(gi);
        }
        if (gs[k] === g) returnsG = true;
      }
      if (!returnsG) g.dispose();
      for (let k = 0; k < node.inputs.length; k++) {
        const inp = node.inputs[k], gi = gs[k];
        if (!gi || !inp.requiresGrad) { if (gi && gi !== g) gi.dispose(); continue; }
        if (inp.node) {
          const prev = grads.get(inp);
          if (prev) { grads.set(inp, add(prev, gi)); prev.dispose(); gi.dispose(); } else grads.set(inp, gi);
        } else {
          const owned = contiguous(gi);
          if (owned !== gi) gi.dispose();
          if (inp.grad) { const sum = add(inp.grad, owned); inp.grad.dispose(); owned.dispose(); inp.grad = sum.keep(); } else inp.grad = owned.keep();
        }
      }
      settle(t);
    }
  });
  if (!opts.retainGraph) for (const t of order) t.freeNode('backward');
}

/** For each leaf that wants grad, how many nodes of `order` take it as an input. */
function pendingContributions(order: Tensor[]): Map<Tensor, number> {
  const counts = new Map<Tensor, number>();
  for (const t of order) {
    for (const inp of new Set(t.node!.inputs)) {
      if (!inp.node && inp.requiresGrad) counts.set(inp, (counts.get(inp) ?? 0) + 1);
    }
  }
  return counts;
}

/** Why backward() cannot go through `t`, an input of `consumer` (or the root), or undefined when it can. */
function freedError(t: Tensor, consumer: Tensor | null): string | undefined {
  if (!t.freed) return undefined;
  const what = consumer ? `the ${t.freedOp} result ${t.describe()} that ${consumer.node!.op} used` : `the ${t.freedOp} result ${t.describe()}`;
  return t.freed === 'disposed'
    ? `backward: ${what} was disposed before backward() (its gradient needs it; keep it, or dispose it after backward())`
    : `backward: trying to backward through the graph a second time: ${what} was freed by an earlier backward(); ` +
      'pass { retainGraph: true } to the first backward() to go through it again';
}

function topoOrder(root: Tensor): Tensor[] {
  const rootError = freedError(root, null);
  if (rootError) throw new Error(rootError);
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
      const error = freedError(inp, t);
      if (error) throw new Error(error);
      if (inp.node && !seen.has(inp)) { seen.add(inp); stack.push([inp, 0]); }
    } else {
      stack.pop();
      if (t.node) order.push(t);
    }
  }
  return order;
}
