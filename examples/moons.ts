// A 2-layer MLP trained with Adam on two moons: the foundation's end-to-end
// check (used by `npm start` and by test/mlp.test.ts).
import * as T from '../src/index.js';
import { twoMoons } from '../src/data/synthetic.js';

export interface MoonsResult { loss: number; accuracy: number; steps: number; backend: string }

export function trainMoons(opts: { backend?: string; steps?: number; hidden?: number; seed?: number; log?: (s: string) => void } = {}): MoonsResult {
  const steps = opts.steps ?? 300, hidden = opts.hidden ?? 32, seed = opts.seed ?? 0;
  if (opts.backend) void T.setBackend(opts.backend);
  T.manualSeed(seed);
  const data = twoMoons(512, 0.1, seed);
  const x = T.fromArray(data.x, [data.n, 2]);
  const y = T.fromArray(data.y, [data.n]);
  const model = new T.nn.Sequential(new T.nn.Linear(2, hidden, { activation: 'tanh' }), new T.nn.Linear(hidden, 2));
  const opt = new T.optim.Adam(model.parameters(), { lr: 0.02 });
  let loss = NaN;
  for (let step = 1; step <= steps; step++) {
    loss = T.scope(() => {
      opt.zeroGrad();
      const l = T.crossEntropy(model.forward(x), y);
      l.backward();
      opt.step();
      return l.item();
    });
    if (opts.log && (step % 50 === 0 || step === 1)) opts.log(`step ${step}  loss ${loss.toFixed(4)}`);
  }
  const accuracy = T.scope(() => T.noGrad(() => T.mean(T.eq(T.argmax(model.forward(x), 1), y)).item()));
  const backend = x.backend.name;
  x.dispose(); y.dispose();
  opt.dispose(); model.dispose();
  return { loss, accuracy, steps, backend };
}
