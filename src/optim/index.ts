export { Optimizer, SGD, Adam, AdamW } from './optimizer.js';
export type { ParamGroup, ParamsArg, GroupOptions, SgdOptions, AdamOptions } from './optimizer.js';
