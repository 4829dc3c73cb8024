// Node entry point: the whole API, the native backends, and file I/O.
export * from './core.js';
import './backends-node.js';
export { saveModule, loadModule, saveOptimizer, loadOptimizer } from './io/checkpoint.js';
export type { SaveOptions, OptimizerSaveOptions } from './io/checkpoint.js';
export { saveSafetensors, loadSafetensors } from './io/safetensors.js';
export * as data from './data/index.js';
export * as metrics from './metrics/index.js';
export * as plot from './plot/svg.js';
export * as graph from './graph/index.js';
export { solveQp } from './solvers/qp.js';
export * as gnn from './models/gnn/index.js';
export * as eval from './eval/index.js';
export * as mup from './mup/index.js';
