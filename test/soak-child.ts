// One soak run for test/soak.test.ts, in its own process (node --expose-gc): a small GCN trained for a few
// hundred steps in one of four styles, in a synchronous loop as users write it (no await, so finalizers never
// run during it). Prints one JSON line: memory after forced collections inside the loop, and the tensor counts
// once the event loop has turned. 'escaping' runs each step in a scope that returns the logits and the loss,
// and keeps a tensor made inside it: all three outlive the scope and are then dropped without dispose().
// Usage: node --expose-gc soak-child.js scope|manual|neither|escaping [steps]
import { T } from './helpers.js';
import { Gcn, csbmGraph, prepareGraph } from '../src/models/gnn/index.js';
import { csbm } from '../src/data/synthetic.js';

const style = process.argv[2];
const steps = Number(process.argv[3] ?? 300);
if (!['scope', 'manual', 'neither', 'escaping'].includes(style)) throw new Error(`soak-child: unknown style '${style}'`);
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('soak-child: run with node --expose-gc');

const backend = 'cpu';
const graph = csbmGraph(csbm({ nodes: 200, classes: 3, pIn: 0.06, pOut: 0.006, featDim: 12, featSep: 1.5, seed: 7 }), 'soak');
const inputs = prepareGraph(graph, { backend });
const model = new Gcn(graph.numFeatures, graph.numClasses, { hidden: 16, generator: new T.Rng(5), backend });
const optimizer = new T.optim.Adam(model.parameters(), { lr: 0.01 });
const labels = T.fromArray(graph.labels, [graph.labels.length], { backend, dtype: 'int32' });

function step(): { logits: T.Tensor; loss: T.Tensor } {
  optimizer.zeroGrad();
  const out = model.forward(inputs);
  const loss = T.crossEntropy(out.logits, labels);
  loss.backward();
  optimizer.step();
  if (style === 'manual') { loss.dispose(); out.logits.dispose(); out.hidden.dispose(); }
  if (style === 'escaping') T.exp(out.hidden).keep();
  return { logits: out.logits, loss };
}
const run = (n: number) => {
  for (let i = 0; i < n; i++) {
    if (style === 'scope') T.scope(() => { step(); });
    else if (style === 'escaping') T.scope(() => T.scope(step));
    else step();
  }
};

/** Bytes of live typed arrays (cpu storage) after a full collection, without leaving the synchronous job. */
const liveBytes = () => { collect(); collect(); return process.memoryUsage().arrayBuffers; };
const turn = () => new Promise((resolve) => setTimeout(resolve, 5));

// Warm up first: the cpu backend's pool of freed arrays and the optimizer state reach their steady size.
await turn();
run(20);
collect(); await turn(); collect(); await turn();
const before = { bytes: liveBytes(), tensors: T.memory()[backend].tensors };
run(steps);
const inLoop = liveBytes();
collect(); await turn(); collect(); await turn();
console.log(JSON.stringify({
  style, steps, bytesBefore: before.bytes, bytesAfterLoop: inLoop,
  tensorsBefore: before.tensors, tensorsAfter: T.memory()[backend].tensors,
}));
