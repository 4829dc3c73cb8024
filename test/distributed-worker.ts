// One rank of the jobs test/distributed.test.ts starts with mpirun. argv[2] picks the job; results are
// printed as tagged lines (rank 0, or every rank where the test compares them).
import * as T from '../src/index.js';
import * as dist from '../src/distributed/index.js';

const mode = process.argv[2];
await T.setBackend(process.env.TESSERA_TEST_BACKEND ?? 'cpu');

function expectEqual(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} elements, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i] - want[i]) > 1e-6 * Math.max(1, Math.abs(want[i]))) throw new Error(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

/** Rank r's input for a collective: small integers (exact in float32), different on every rank. */
const input = (r: number, n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7 + r * 3) % 11) - 5);

if (mode === 'collectives') {
  const { rank, worldSize: ws } = dist.init();
  const ranks = Array.from({ length: ws }, (_, r) => r);
  for (const n of [1, 7, 13]) {
    for (const op of ['sum', 'mean', 'max', 'min'] as const) {
      const t = dist.allReduce(T.fromArray(input(rank, n), [n]), op);
      const want = Float32Array.from({ length: n }, (_, i) => {
        const v = ranks.map((r) => input(r, n)[i]);
        return op === 'max' ? Math.max(...v) : op === 'min' ? Math.min(...v) : v.reduce((a, b) => a + b) / (op === 'mean' ? ws : 1);
      });
      expectEqual(`allReduce ${op} n=${n}`, await t.data(), want);
    }
    const ints = dist.allReduce(T.fromArray(Int32Array.from(input(rank, n)), [n], { dtype: 'int32' }), 'sum');
    expectEqual(`allReduce int32 n=${n}`, await ints.data(), Float32Array.from({ length: n }, (_, i) => ranks.reduce((a, r) => a + input(r, n)[i], 0)));
    expectEqual(`broadcast n=${n}`, await dist.broadcast(T.fromArray(input(rank, n), [n]), ws - 1).data(), input(ws - 1, n));
    const gathered = dist.allGather(T.fromArray(input(rank, n * 3), [n, 3]));
    if (gathered.shape.join() !== `${n * ws},3`) throw new Error(`allGather shape ${gathered.shape}`);
    expectEqual(`allGather n=${n}`, await gathered.data(), ranks.flatMap((r) => [...input(r, n * 3)]));
    const scattered = dist.reduceScatter(T.fromArray(input(rank, ws * n * 5), [ws * n, 5]), 'sum');
    const full = Float32Array.from({ length: ws * n * 5 }, (_, i) => ranks.reduce((a, r) => a + input(r, ws * n * 5)[i], 0));
    expectEqual(`reduceScatter n=${n}`, await scattered.data(), full.subarray(rank * n * 5, (rank + 1) * n * 5));
  }
  dist.barrier();
  console.log(`COLLECTIVES OK rank ${rank} of ${ws}`);
  // A bad input on one rank: every rank gets the same error, nobody hangs.
  const model = new dist.DistributedDataParallel(new T.nn.Linear(4, 2));
  try {
    model.forward(T.zeros([3, rank === 1 ? 5 : 4]));
    console.log(`AGREED nothing rank ${rank}`);
  } catch (e) {
    console.log(`AGREED ${(e as Error).message.split('\n')[0]}`);
  }
} else if (mode === 'ddp') {
  // The global batch B is split evenly over the ranks; with mean losses, averaged gradients equal the
  // full-batch gradient, so every world size must end with the same parameters.
  const { rank, worldSize: ws } = dist.init();
  const B = 8, steps = 5;
  T.manualSeed(100 + rank);  // different on every rank: DDP's broadcast must make them equal
  const net = new T.nn.Sequential(new T.nn.Linear(4, 8, { activation: 'tanh' }), new T.nn.Linear(8, 3));
  const overlap = process.argv[4] !== 'no-overlap';
  const ddp = new dist.DistributedDataParallel(net, { bucketMiB: 1e-4, overlap });  // several buckets
  const opt = new T.optim.SGD(net.parameters(), { lr: 0.5, momentum: 0.9 });
  const xAll = Float32Array.from({ length: B * 4 }, (_, i) => Math.sin(i * 1.3));
  const yAll = Int32Array.from({ length: B }, (_, i) => (i * 5) % 3);
  const per = B / ws;
  const x = T.fromArray(xAll.subarray(rank * per * 4, (rank + 1) * per * 4), [per, 4]);
  const y = T.fromArray(yAll.subarray(rank * per, (rank + 1) * per), [per], { dtype: 'int32' });
  for (let s = 0; s < steps; s++) {
    T.scope(() => {
      opt.zeroGrad();
      T.crossEntropy(ddp.forward(x), y).backward();
      ddp.syncGradients();
      opt.step();
    });
  }
  if (process.argv[3]) await ddp.save(process.argv[3]);
  if (rank === 0) {
    console.log(`SYNC ${ddp.lastSync.startedDuringBackward} of ${ddp.lastSync.buckets} buckets started during backward`);
    const flat: number[] = [];
    for (const p of net.parameters()) flat.push(...await p.data());
    console.log(`PARAMS ${JSON.stringify(flat)}`);
  }
} else if (mode === 'throw') {
  const { rank } = dist.init();
  if (rank === 1) throw new Error('bad batch on purpose');
  dist.barrier();
  console.log('UNREACHABLE rank 0 passed the barrier');
} else if (mode === 'timeout') {
  const { rank } = dist.init({ timeoutSeconds: 1 });
  if (rank === 0) dist.barrier();
  else await new Promise((done) => setTimeout(done, 20_000));
  console.log(`UNREACHABLE rank ${rank} finished`);
} else {
  throw new Error(`distributed-worker: unknown mode '${mode}'`);
}
