// OGB-style node-property folders: raw/edge.csv, raw/node-feat.csv,
// raw/node-label.csv and split/<split>/{train,valid,test}.csv, each optionally
// gzipped, comma separated, no header.

import { join } from 'node:path';
import { datasetDir } from './paths.js';
import { FieldReader, RowBuilder, findDataFile, readDataFile } from './text.js';

export interface NodePropertyGraph {
  numNodes: number;
  numFeatures: number;
  /** [numNodes, numFeatures], row-major. */
  features: Float32Array;
  /** Class per node; -1 marks an unlabelled node. */
  labels: Int32Array;
  /** 1 + the largest label. */
  numClasses: number;
  /** Edge list as stored (u, v) pairs; the planetoid folders hold each undirected edge once with u < v. */
  edges: Int32Array;
  numEdges: number;
  split: { train: Int32Array; valid: Int32Array; test: Int32Array };
}

export interface OgbOptions {
  /** The dataset folder; default <dataDir>/<name>. */
  dir?: string;
  /** Folder under split/; default 'public'. */
  split?: string;
}

/** Loads e.g. loadOgbNodeProperty('planetoid-cora'). */
export function loadOgbNodeProperty(name: string, options: OgbOptions = {}): NodePropertyGraph {
  const dir = options.dir ?? datasetDir(name);
  const splitName = options.split ?? 'public';

  const featPath = findDataFile(join(dir, 'raw', 'node-feat.csv'));
  const { rows: numNodes, cols: numFeatures, values: features } = readMatrix(featPath);

  const labelPath = findDataFile(join(dir, 'raw', 'node-label.csv'));
  // Class ids are dense (0..C-1), so a label past the node count is a corrupt file, not 10^9 classes.
  const labels = readIntColumn(labelPath, -1, numNodes - 1);
  if (labels.length !== numNodes) {
    throw new Error(`${labelPath}: ${labels.length} labels but ${featPath} has ${numNodes} rows`);
  }
  let numClasses = 0;
  for (const l of labels) numClasses = Math.max(numClasses, l + 1);

  const edgePath = findDataFile(join(dir, 'raw', 'edge.csv'));
  const edges = readEdges(edgePath, numNodes);

  const readSplit = (part: string) =>
    readIntColumn(findDataFile(join(dir, 'split', splitName, `${part}.csv`)), 0, numNodes - 1);
  const split = { train: readSplit('train'), valid: readSplit('valid'), test: readSplit('test') };
  checkDisjoint(split, join(dir, 'split', splitName));

  return { numNodes, numFeatures, features, labels, numClasses, edges, numEdges: edges.length / 2, split };
}

/** A dense numeric CSV with the same number of columns on every row. */
function readMatrix(path: string): { rows: number; cols: number; values: Float32Array } {
  const reader = new FieldReader(readDataFile(path), path, 'comma');
  let matrix: RowBuilder | undefined;
  while (reader.next()) {
    matrix ??= new RowBuilder(reader.count, reader.lineCount());
    if (reader.count !== matrix.cols) {
      throw reader.error(`expected ${matrix.cols} columns as on the first row, got ${reader.count}`);
    }
    const base = matrix.addRow();
    for (let j = 0; j < matrix.cols; j++) matrix.values[base + j] = reader.number(j);
  }
  if (!matrix) throw new Error(`${path}: no rows`);
  return { rows: matrix.rows, cols: matrix.cols, values: matrix.finish() };
}

/** One integer per line, each within [min, max]. */
function readIntColumn(path: string, min: number, max: number): Int32Array {
  const reader = new FieldReader(readDataFile(path), path, 'comma');
  const out: number[] = [];
  while (reader.next()) {
    if (reader.count !== 1) throw reader.error(`expected one value per line, got ${reader.count}`);
    const v = reader.integer(0);
    if (v < min || v > max) throw reader.error(`value ${v} outside [${min}, ${max}]`);
    out.push(v);
  }
  return Int32Array.from(out);
}

function readEdges(path: string, numNodes: number): Int32Array {
  const reader = new FieldReader(readDataFile(path), path, 'comma');
  const out: number[] = [];
  while (reader.next()) {
    if (reader.count !== 2) throw reader.error(`expected 'u,v', got ${reader.count} field(s)`);
    for (let j = 0; j < 2; j++) {
      const v = reader.integer(j);
      if (v < 0 || v >= numNodes) throw reader.error(`node id ${v} outside [0, ${numNodes - 1}]`);
      out.push(v);
    }
  }
  return Int32Array.from(out);
}

/** Each node at most once in each split part and in at most one part (train/valid/test overlap is a leak). */
function checkDisjoint(split: Record<string, Int32Array>, folder: string): void {
  const owner = new Map<number, string>();
  for (const [part, ids] of Object.entries(split)) {
    for (const id of ids) {
      const seen = owner.get(id);
      if (seen === part) throw new Error(`${join(folder, part)}.csv: node ${id} is listed twice`);
      if (seen !== undefined) throw new Error(`${folder}: node ${id} is in both ${seen} and ${part}`);
      owner.set(id, part);
    }
  }
}
