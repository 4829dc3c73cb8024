export { Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad } from './optimizer.js';
export type { ParamGroup, ParamsArg, GroupOptions, SgdOptions, AdamOptions, OptimizerState, RmspropOptions, AdagradOptions } from './optimizer.js';
export { LRScheduler, StepLR, CosineAnnealingLR, LinearWarmup, InverseSqrt, LambdaLR, MultiStepLR, ExponentialLR, OneCycleLR, ReduceLROnPlateau } from './schedulers.js';
export type { Schedule, LinearWarmupOptions, OneCycleLROptions, ReduceLROnPlateauOptions } from './schedulers.js';
export { clipGradNorm, clipGradValue } from './clip.js';
