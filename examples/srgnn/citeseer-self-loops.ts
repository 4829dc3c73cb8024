// Does keeping the raw Planetoid Citeseer graph's self-loops change SR-GNN's scores? The reference
// (GentleZhu/Shift-Robust-GNNs, utils.load_data) builds its adjacency from ind.citeseer.graph with
// nx.adjacency_matrix, which keeps the 124 nodes that list themselves as neighbours on the diagonal, so
// A + I has 2 there in APPNP's propagation and in the PPR used to sample and for KMM; the planetoid-citeseer
// folder has no self-loops. Paired runs: the same training sets, IID samples and model seeds with and without
// those self-loops, scored on the 1000 public test nodes.
//   node dist/examples/srgnn/citeseer-self-loops.js [models, default gcn,appnp,sr-appnp] [repeats, default 5]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/index.js';
import { dataDir } from '../../src/data/index.js';
import { SrGnnExperiment, loadGraphFolder, parseModel, repeatGenerators, summarize, testNodes } from '../../src/models/gnn/index.js';

/** The nodes of ind.citeseer.graph (the reference's data/, Planetoid order) that list themselves as a neighbour. */
const SELF_LOOPS = [28, 100, 124, 155, 192, 223, 276, 279, 284, 302, 358, 373, 400, 486, 519, 546, 571, 592, 608, 626, 747, 775, 803, 828, 834, 838, 842, 845, 848, 892, 902, 910, 913, 914, 1001, 1014, 1061, 1065, 1077, 1117, 1125, 1148, 1166, 1171, 1177, 1211, 1245, 1248, 1269, 1270, 1323, 1360, 1375, 1404, 1406, 1407, 1459, 1479, 1500, 1503, 1518, 1520, 1536, 1549, 1552, 1602, 1632, 1656, 1659, 1765, 1822, 1881, 1886, 1997, 2009, 2062, 2068, 2078, 2103, 2130, 2131, 2181, 2194, 2228, 2279, 2294, 2359, 2371, 2424, 2426, 2428, 2434, 2454, 2465, 2480, 2494, 2523, 2525, 2530, 2541, 2563, 2576, 2580, 2583, 2600, 2606, 2654, 2698, 2703, 2724, 2874, 2876, 2881, 2899, 2933, 2946, 2989, 3082, 3122, 3123, 3190, 3204, 3227, 3260];

const folder = join(dataDir(), 'planetoid-citeseer');
if (!existsSync(folder)) {
  console.log(`skipped: ${folder} is absent`);
} else {
  const models = (process.argv[2] ?? 'gcn,appnp,sr-appnp').split(',');
  const repeats = Number(process.argv[3] ?? 5);
  const plain = loadGraphFolder(folder);
  const looped = { ...plain, edges: Int32Array.from([...plain.edges, ...SELF_LOOPS.flatMap((i) => [i, i])]) };
  const without = new SrGnnExperiment(plain), withLoops = new SrGnnExperiment(looped);
  const cfg = { epochs: 200 };
  const scores = Object.fromEntries(models.map((m) => [m, { plain: [] as number[], loops: [] as number[] }]));
  for (let r = 0; r < repeats; r++) {
    const gens = repeatGenerators(0, r);
    const train = without.biasedTrainSet(gens.sampling), iid = without.iidSample(gens.sampling);
    const test = testNodes(plain, train, 'public');
    for (const m of models) {
      scores[m].plain.push(without.run(parseModel(m), train, iid, cfg, new T.Rng(1000 + r), test).microF1);
      scores[m].loops.push(withLoops.run(parseModel(m), train, iid, cfg, new T.Rng(1000 + r), test).microF1);
    }
  }
  for (const m of models) {
    const { plain: a, loops: b } = scores[m];
    const pct = (v: number) => (100 * v).toFixed(1);
    console.log(`${m}: micro-F1 ${pct(summarize(a).mean)} without self-loops, ${pct(summarize(b).mean)} with, paired difference ${(100 * summarize(b.map((v, i) => v - a[i])).mean).toFixed(2)} points (${repeats} training sets)`);
  }
  without.dispose(); withLoops.dispose();
}
