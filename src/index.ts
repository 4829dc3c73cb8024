// Node entry point: the whole API, the native backends, and file I/O.
// The models built on it (GNNs and SR-GNN, µP, GDE) are not part of this
// entry: they import only this public API and are published as the package
// subpaths tessera-tensor/models/gnn, tessera-tensor/models/mup, tessera-tensor/models/gde and
// tessera-tensor/models/forecast.
export * from './core.js';
import './backends-node.js';
export { saveModule, loadModule, loadModuleSync, saveOptimizer, loadOptimizer, loadOptimizerSync } from './io/checkpoint.js';
export type { SaveOptions, OptimizerSaveOptions, LoadModuleOptions, LoadOptimizerOptions } from './io/checkpoint.js';
export { saveSafetensors, loadSafetensors, readSafetensors } from './io/safetensors.js';
export * as data from './data/index.js';
export * as metrics from './metrics/index.js';
export * as plot from './plot/index.js';
