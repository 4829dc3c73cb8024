// LINQS citation graphs (Cora, Citeseer): `<name>.content` has one row per
// paper, `<id> <f_1> ... <f_F> <class>`, tab separated; `<name>.cites` has one
// citation per line, `<cited id> <citing id>`.

import { join } from 'node:path';
import { datasetDir } from './paths.js';
import { uniqueUndirected } from './edges.js';
import { FieldReader, RowBuilder, findDataFile, readDataFile } from './text.js';

export interface CitationGraph {
  /** The dataset's name ('cora'), as passed to loadLinqs. */
  name: string;
  /** Paper id of each node, in .content row order. Ids are strings ('100157', 'yu99methodology'). */
  ids: string[];
  numNodes: number;
  numFeatures: number;
  /** [numNodes, numFeatures], row-major. */
  features: Float32Array;
  /** Class index per node, into `classNames`. */
  labels: Int32Array;
  /** Sorted class names, so indices do not depend on row order. */
  classNames: string[];
  /** classNames.length: with name, numNodes, numFeatures, features, labels and edges, what the gnn models' prepareGraph reads. */
  numClasses: number;
  /**
   * Citations as node-index pairs (citing, cited), i.e. the .cites columns
   * swapped so that each pair points from the citing paper to the cited one.
   * Dangling citations are dropped; self loops are kept (see `selfLoops`).
   */
  edges: Int32Array;
  numEdges: number;
  /** Positions (pair index into `edges`) of the self loops. */
  selfLoops: Int32Array;
  /** Citations naming an id without a .content row: line count and the distinct missing ids. */
  dangling: { lines: number; ids: string[] };
  /** Unique undirected edges as pairs (u, v) with u < v, self loops excluded, sorted. */
  undirectedEdges: Int32Array;
  numUndirectedEdges: number;
}

export interface LinqsOptions {
  /** Folder holding <name>.content[.gz] and <name>.cites[.gz]; default <dataDir>/<name>. */
  dir?: string;
}

/** Loads a LINQS citation graph, e.g. loadLinqs('cora') or loadLinqs('citeseer'). */
export function loadLinqs(name: string, options: LinqsOptions = {}): CitationGraph {
  const dir = options.dir ?? datasetDir(name);
  const content = readContent(findDataFile(join(dir, `${name}.content`)));
  const cites = readCites(findDataFile(join(dir, `${name}.cites`)), content.index);
  return {
    name,
    ids: content.ids,
    numNodes: content.ids.length,
    numFeatures: content.numFeatures,
    features: content.features,
    labels: content.labels,
    classNames: content.classNames,
    numClasses: content.classNames.length,
    ...cites,
  };
}

function readContent(path: string) {
  const reader = new FieldReader(readDataFile(path), path, 'whitespace');
  const ids: string[] = [];
  const index = new Map<string, number>();
  const rowLabels: string[] = [];
  let matrix: RowBuilder | undefined;
  while (reader.next()) {
    if (!matrix) {
      if (reader.count < 3) throw reader.error(`expected '<id> <features...> <class>', got ${reader.count} field(s)`);
      matrix = new RowBuilder(reader.count - 2, reader.lineCount());
    } else if (reader.count !== matrix.cols + 2) {
      throw reader.error(`expected ${matrix.cols + 2} fields (id, ${matrix.cols} features, class) as on the first row, got ${reader.count}`);
    }
    const id = reader.text(0);
    if (index.has(id)) throw reader.error(`duplicate paper id '${id}' (first on row ${index.get(id)! + 1})`);
    index.set(id, ids.length);
    ids.push(id);
    const base = matrix.addRow();
    for (let j = 0; j < matrix.cols; j++) matrix.values[base + j] = reader.number(j + 1);
    rowLabels.push(reader.text(matrix.cols + 1));
  }
  if (!matrix) throw new Error(`${path}: no rows`);
  const classNames = [...new Set(rowLabels)].sort();
  const classIndex = new Map(classNames.map((c, i) => [c, i] as const));
  const labels = Int32Array.from(rowLabels, (c) => classIndex.get(c)!);
  return { ids, index, numFeatures: matrix.cols, features: matrix.finish(), labels, classNames };
}

function readCites(path: string, index: Map<string, number>) {
  const reader = new FieldReader(readDataFile(path), path, 'whitespace');
  const pairs: number[] = [];
  const selfLoops: number[] = [];
  const missing = new Set<string>();
  let danglingLines = 0;
  while (reader.next()) {
    if (reader.count !== 2) throw reader.error(`expected '<cited id> <citing id>', got ${reader.count} field(s)`);
    const cited = index.get(reader.text(0));
    const citing = index.get(reader.text(1));
    if (cited === undefined || citing === undefined) {
      danglingLines++;
      if (cited === undefined) missing.add(reader.text(0));
      if (citing === undefined) missing.add(reader.text(1));
      continue;
    }
    if (cited === citing) selfLoops.push(pairs.length / 2);
    pairs.push(citing, cited);
  }
  const edges = Int32Array.from(pairs);
  const undirectedEdges = uniqueUndirected(edges, index.size);
  return {
    edges,
    numEdges: edges.length / 2,
    selfLoops: Int32Array.from(selfLoops),
    dangling: { lines: danglingLines, ids: [...missing].sort() },
    undirectedEdges,
    numUndirectedEdges: undirectedEdges.length / 2,
  };
}
