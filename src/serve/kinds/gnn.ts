// GNN node-classifier adapter (transductive, as src/models/gnn trains them): the folder holds
// model.safetensors (the GCN's weights) and graph.safetensors (features [n, F], edges [e, 2]);
// config.json { kind: 'gnn', config: { model: 'gcn', inFeatures, numClasses, hidden?, layers?, classNames? } }.
// Input {"nodes": [ids]}: the classes of those nodes. A batch is one forward pass over the graph.
import { join } from 'node:path';
import * as T from '../../index.js';
import { Gcn, prepareGraph } from '../../models/gnn/index.js';
import { ClientError, type LoadedModel, type ModelKind, type ModelManifest } from '../kind.js';

export interface GnnServeConfig {
  model: 'gcn';
  inFeatures: number;
  numClasses: number;
  hidden?: number;
  layers?: number;
  classNames?: string[];
}

const MAX_NODES_PER_REQUEST = 10_000;

export const gnnKind: ModelKind = {
  name: 'gnn',
  trainable: false,
  async load(dir: string, manifest: ModelManifest): Promise<LoadedModel> {
    const cfg = manifest.config as unknown as GnnServeConfig;
    if (cfg.model !== 'gcn') throw new Error(`${dir}/config.json: gnn model '${String(cfg.model)}' is not served (known: gcn)`);
    const graphFile = (await T.readSafetensors(join(dir, 'graph.safetensors'))).tensors;
    const features = graphFile.features, edges = graphFile.edges;
    if (!features || !edges || features.shape.length !== 2 || features.shape[1] !== cfg.inFeatures) {
      throw new Error(`${dir}/graph.safetensors: needs features [n, ${cfg.inFeatures}] and edges [e, 2]`);
    }
    const numNodes = features.shape[0];
    const inputs = prepareGraph({
      name: 'served', numNodes, numFeatures: cfg.inFeatures, numClasses: cfg.numClasses,
      features: features.data as Float32Array, labels: new Int32Array(numNodes).fill(-1), edges: edges.data as Int32Array,
    });
    const model = new Gcn(cfg.inFeatures, cfg.numClasses, { hidden: cfg.hidden, layers: cfg.layers, dropout: 0 });
    await T.loadModule(join(dir, 'model.safetensors'), model);
    model.eval();
    const bytes = Object.values(model.stateDict()).reduce((n, t) => n + 4 * t.size, 0) + features.data.byteLength + edges.data.byteLength;
    return {
      bytes,
      parseJson(body) {
        const nodes = (body as { nodes?: unknown } | null)?.nodes;
        if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length > MAX_NODES_PER_REQUEST) {
          throw new ClientError(400, `a gnn model takes {"nodes": [node ids]} with 1 to ${MAX_NODES_PER_REQUEST} ids`);
        }
        for (const v of nodes) {
          if (!Number.isInteger(v) || v < 0 || v >= numNodes) throw new ClientError(400, `node id ${JSON.stringify(v)} is not an integer in [0, ${numNodes})`);
        }
        return nodes as number[];
      },
      async predictBatch(batch) {
        // One pass over the whole graph answers every request in the batch.
        const probs = T.noGrad(() => T.scope(() => {
          const out = model.forward(inputs);
          const p = T.softmax(out.logits, -1);
          out.release();
          return p;
        }));
        const p = await probs.data();
        probs.dispose();
        const C = cfg.numClasses;
        return (batch as number[][]).map((nodes) => ({
          predictions: nodes.map((v) => {
            const row = Array.from(p.subarray(v * C, (v + 1) * C));
            const best = row.indexOf(Math.max(...row));
            return { node: v, class: cfg.classNames?.[best] ?? best, probability: row[best] };
          }),
        }));
      },
      dispose() {
        model.dispose();
        inputs.adj.dispose?.(); inputs.graph.dispose?.(); inputs.features.dispose?.();
      },
    };
  },
};
