export { Optimizer, SGD, Adam, AdamW } from './optimizer.js';
export type { ParamGroup, ParamsArg, GroupOptions, SgdOptions, AdamOptions, OptimizerState } from './optimizer.js';
export { LRScheduler, StepLR, CosineAnnealingLR, LinearWarmup, InverseSqrt, LambdaLR } from './schedulers.js';
export type { Schedule, LinearWarmupOptions } from './schedulers.js';
export { clipGradNorm, clipGradValue } from './clip.js';
