// Edge-list helpers shared by the graph loaders and generators.

/** Unique (min, max) pairs of a directed pair list, self loops dropped, sorted by (u, v). */
export function uniqueUndirected(edges: Int32Array, numNodes: number): Int32Array {
  // u * numNodes + v is exact in a double for any graph that fits in memory.
  const keys: number[] = [];
  for (let k = 0; k < edges.length; k += 2) {
    const a = edges[k], b = edges[k + 1];
    if (a !== b) keys.push(a < b ? a * numNodes + b : b * numNodes + a);
  }
  const sorted = Float64Array.from(keys).sort();
  const out: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i] === sorted[i - 1]) continue;
    out.push(Math.floor(sorted[i] / numNodes), sorted[i] % numNodes);
  }
  return Int32Array.from(out);
}
