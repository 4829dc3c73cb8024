// tessera-tensor/distributed: data-parallel training over MPI (README, "Data-parallel training").
// A package subpath of its own, so that the root import never loads MPI.
export {
  init, rank, worldSize, isInitialized, abort, allReduce, allReduceArray, broadcast, allGather, reduceScatter, barrier, agree, mpiSupport,
  type InitOptions, type ReduceOp, type DistributedBackendName,
} from './collectives.js';
export { DistributedDataParallel, type DdpOptions } from './ddp.js';
export { DistributedSampler, type DistributedSamplerOptions } from './sampler.js';
