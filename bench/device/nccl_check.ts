// The NCCL path on one GPU (world size 1), for bench/device/gpu-session.sh: init({ backend: 'nccl' }) loads
// libnccl (TESSERA_NCCL_LIBRARY, else the system's libnccl.so.2), then all-reduces and broadcasts cuda tensors
// and checks the values. Prints "NCCL OK (library: ...)" or fails with the reason. Needs a GPU; unverified
// without one. Usage: node dist/bench/device/nccl_check.js
import * as T from '../../src/index.js';
import * as dist from '../../src/distributed/index.js';

const { rank, worldSize } = dist.init({ backend: 'nccl' });
if (rank !== 0 || worldSize !== 1) throw new Error(`nccl_check: expected rank 0 of 1, got ${rank} of ${worldSize}`);
const values = Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i) * 3);
const expectSame = (got: ArrayLike<number>, what: string) => {
  for (let i = 0; i < values.length; i++) {
    if (got[i] !== values[i]) throw new Error(`nccl_check: ${what}[${i}] = ${got[i]}, expected ${values[i]}`);
  }
};
// With one rank, sum, mean, max and min all leave the tensor as it was, and the broadcast from rank 0 too.
for (const op of ['sum', 'mean', 'max', 'min'] as const) {
  const t = T.fromArray(values, [values.length], { backend: 'cuda' });
  dist.allReduce(t, op);
  expectSame(await t.data(), `allReduce ${op}`);
  t.dispose();
}
const ints = T.fromArray(Int32Array.from([1, -2, 3]), [3], { backend: 'cuda', dtype: 'int32' });
dist.allReduce(ints, 'sum');
if ((await ints.data()).join() !== '1,-2,3') throw new Error('nccl_check: int32 allReduce changed the values');
const b = T.fromArray(values, [values.length], { backend: 'cuda' });
dist.broadcast(b, 0);
expectSame(await b.data(), 'broadcast');
// DDP over NCCL at world size 1: a training step runs and leaves gradients as backward computed them.
const net = new T.nn.Linear(4, 2, { backend: 'cuda' });
const ddp = new dist.DistributedDataParallel(net);
const loss = T.sum(ddp.forward(T.ones([3, 4], { backend: 'cuda' })));
loss.backward();
ddp.syncGradients();
if (!net.parameters().every((p) => p.grad)) throw new Error('nccl_check: a parameter has no gradient after DDP');
console.log(`NCCL OK (library: ${process.env.TESSERA_NCCL_LIBRARY ?? "the system's libnccl.so.2"})`);
