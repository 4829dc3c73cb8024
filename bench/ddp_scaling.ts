// Data parallelism on one machine: 2 MPI ranks x 1 thread against 1 rank x 2 threads, for a training step of
// the µP Transformer (width 256, 2 layers, 16 x 32 tokens, Adam) and of the GCN on Cora (hidden 32, Adam).
// Each configuration runs in fresh processes; the 2-rank job splits the batch (the Transformer's sequences,
// the GCN's training nodes) and averages gradients with DistributedDataParallel, with its all-reduces started
// during backward (overlap) and, for comparison, all after it. Reported per configuration: median ms per step
// and the median ms spent in syncGradients() (the communication that backward did not hide) with its share of
// the step. The GCN's forward covers the whole graph on every rank (full-batch training), so only its loss
// and the gradient work downstream of it are split. Numbers mean something only on an otherwise idle machine.
//
//   node dist/bench/ddp_scaling.js [--steps 30] [--json out.json]     (needs Open MPI and an addon built with it;
//                                                                      the GCN needs TESSERA_DATA with planetoid-cora)
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../src/index.js';
import * as dist from '../src/distributed/index.js';
import * as mup from '../src/models/mup/index.js';
import { Gcn, loadGraphFolder, prepareGraph } from '../src/models/gnn/index.js';
import { dataDir } from '../src/data/index.js';

type ModelName = 'transformer' | 'gcn';
interface WorkerResult { model: ModelName; ranks: number; threads: number; overlap: boolean; stepMs: number; syncMs: number; gradientMiB: number }

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
// A rank is started as `ddp_scaling.js worker <model> <steps> overlap|no-overlap` (positional: `tessera launch`
// takes the flags after the script for its own).
const isWorker = args[0] === 'worker';
const steps = Number(isWorker ? args[2] : option('--steps', '30'));
if (!Number.isInteger(steps) || steps < 1) throw new Error(`ddp_scaling: --steps must be a positive integer, got ${option('--steps', '')}`);

const median = (xs: number[]) => { const v = [...xs].sort((a, b) => a - b), m = v.length >> 1; return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2; };

/** One training step on this rank's share of the batch, with the gradients averaged over the ranks. */
interface Session { module: T.nn.Module; step(sync: () => void): void }

function transformerSession(rank: number, ranks: number): Session {
  const task = mup.languageTask({ corpusLength: 50_000, contextLength: 32, batchSize: 16 / ranks, baseWidth: 64, depth: 2 });
  const model = task.build(256, 'mup', new T.Rng(1));
  const opt = mup.optimizerFor('mup', 'adam', model.parameters(), { lr: 1e-3 });
  const batch = task.trainBatch(new T.Rng(2 + rank));
  return {
    module: model,
    step: (sync) => T.scope(() => {
      opt.zeroGrad();
      task.loss(model.forward(batch.input), batch.target).backward();
      sync();
      opt.step();
    }),
  };
}

function gcnSession(rank: number, ranks: number): Session | string {
  const folder = join(dataDir(), 'planetoid-cora');
  if (!existsSync(folder)) return `${folder} not found (set TESSERA_DATA)`;
  const graph = loadGraphFolder(folder);
  const inputs = prepareGraph(graph, { backend: 'cpu' });
  const train = graph.publicSplit!.train;
  const per = Math.floor(train.length / ranks);
  const mine = train.slice(rank * per, (rank + 1) * per);
  const ids = T.fromArray(Int32Array.from(mine), [mine.length], { dtype: 'int32' });
  const labels = T.fromArray(Int32Array.from(mine, (i) => graph.labels[i]), [mine.length], { dtype: 'int32' });
  const model = new Gcn(graph.numFeatures, graph.numClasses, { hidden: 32, generator: new T.Rng(1) });
  const opt = new T.optim.Adam(model.parameters(), { lr: 0.01, weightDecay: 5e-4 });
  model.train();
  return {
    module: model,
    step: (sync) => T.scope(() => {
      opt.zeroGrad();
      T.crossEntropy(T.indexSelect(model.forward(inputs).logits, 0, ids), labels).backward();
      sync();
      opt.step();
    }),
  };
}

/** A rank of a configuration: times `steps` steps after 3 warm-up steps; rank 0 prints RESULT <json>. */
function worker(model: ModelName, overlap: boolean): void {
  const underMpi = process.env.OMPI_COMM_WORLD_SIZE !== undefined;
  const { rank, worldSize } = underMpi ? dist.init() : { rank: 0, worldSize: 1 };
  T.setBackend('cpu');
  const session = model === 'transformer' ? transformerSession(rank, worldSize) : gcnSession(rank, worldSize);
  if (typeof session === 'string') { if (rank === 0) console.log(`SKIP ${model}: ${session}`); return; }
  // The DDP wrapper broadcasts rank 0's parameters; with one rank there is nothing to average.
  const ddp = worldSize > 1 ? new dist.DistributedDataParallel(session.module, { overlap }) : null;
  const stepTimes: number[] = [], syncTimes: number[] = [];
  for (let s = 0; s < steps + 3; s++) {
    let syncMs = 0;
    const t0 = performance.now();
    session.step(() => {
      const t = performance.now();
      ddp?.syncGradients();
      syncMs = performance.now() - t;
    });
    if (s >= 3) { stepTimes.push(performance.now() - t0); syncTimes.push(syncMs); }
  }
  const gradientMiB = session.module.parameters().reduce((n, p) => n + p.size, 0) * 4 / 2 ** 20;
  const threads = Number(process.env.TESSERA_NUM_THREADS ?? 0);
  const result: WorkerResult = { model, ranks: worldSize, threads, overlap, stepMs: median(stepTimes), syncMs: median(syncTimes), gradientMiB };
  if (rank === 0) console.log(`RESULT ${JSON.stringify(result)}`);
}

/** Runs one configuration in fresh processes and returns rank 0's result (or why it could not run). */
function run(model: ModelName, ranks: number, threads: number, overlap: boolean): WorkerResult | string {
  const self = join(here, 'ddp_scaling.js');
  const workerArgs = [self, 'worker', model, String(steps), overlap ? 'overlap' : 'no-overlap'];
  const cmd = ranks === 1 ? workerArgs : [join(here, '..', 'src', 'cli', 'main.js'), 'launch', '-n', String(ranks), ...workerArgs];
  const r = spawnSync(process.execPath, cmd, { encoding: 'utf8', env: { ...process.env, TESSERA_NUM_THREADS: String(threads) } });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT ') || l.startsWith('SKIP '));
  if (r.status !== 0 || !line) return `exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  return line.startsWith('SKIP ') ? line : JSON.parse(line.slice(7)) as WorkerResult;
}

if (isWorker) {
  worker(args[1] as ModelName, args[3] === 'overlap');
} else {
  const results: (WorkerResult | string)[] = [];
  for (const model of ['transformer', 'gcn'] as const) {
    for (const [ranks, threads, overlap] of [[1, 2, false], [2, 1, true], [2, 1, false]] as const) {
      const r = run(model, ranks, threads, overlap);
      results.push(r);
      const label = `${model}: ${ranks} rank${ranks > 1 ? 's' : ''} x ${threads} thread${threads > 1 ? 's' : ''}${ranks > 1 ? (overlap ? ', overlapped' : ', all-reduce after backward') : ''}`;
      if (typeof r === 'string') console.log(`${label}: ${r}`);
      else {
        const comm = ranks > 1 ? `, syncGradients ${r.syncMs.toFixed(2)} ms (${(100 * r.syncMs / r.stepMs).toFixed(1)}% of the step), ${r.gradientMiB.toFixed(2)} MiB of gradients` : '';
        console.log(`${label}: ${r.stepMs.toFixed(2)} ms per step${comm}`);
      }
    }
  }
  const out = option('--json', '');
  if (out) writeFileSync(out, JSON.stringify({ steps, date: new Date().toISOString(), results }, null, 2));
}
