// Every kernel of the Backend interface has its CUDA version (a C ABI entry
// point defined in kernels/cuda and reached from the addon's kernel table),
// its WGSL version, and a check and a benchmark in bench/device's GPU run,
// read from the sources (test/kernel-coverage.ts). Runs without a GPU.
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PENDING_ON_CUDA, coverageGaps, kernelMethods, readKernelSources, type KernelSources } from './kernel-coverage.js';

const root = fileURLToPath(new URL('../../', import.meta.url));  // dist/test/ -> the repository
const sources = readKernelSources(root);
const s = suite('kernel coverage');

// The kernels still pending on CUDA have exactly these gaps; closing one fails this test until the list shrinks.
const KNOWN_GAPS = PENDING_ON_CUDA.flatMap((k) => [
  `${k}: CudaBackend.${k} does not call addon.cuda${k[0].toUpperCase()}${k.slice(1)}`,
  `${k}: no row "${k}" in the kernel table of native/cuda/binding.cc`,
]);

s('every kernel of the Backend interface has CUDA, WGSL and a device check and benchmark', () => {
  const kernels = kernelMethods(sources.iface);
  for (const k of ['fill', 'unary', 'matmul', 'spmm', 'cmdMoments', 'conv', 'avgPoolBackward']) assert.ok(kernels.includes(k), k);
  assert.not.ok(kernels.includes('alloc'), 'storage methods are not kernels');
  assert.equal(coverageGaps(sources), KNOWN_GAPS);
});

// The analysis must see a gap where one is made.
const without = (patch: Partial<KernelSources>): string[] => coverageGaps({ ...sources, ...patch });

s('a kernel missing from the CUDA kernel table is reported', () => {
  const binding = sources.binding.replace('{"avgPool", [](Args& a) {', '{"averagePool", [](Args& a) {');
  assert.ok(binding !== sources.binding);
  assert.ok(without({ binding }).includes('avgPool: no row "avgPool" in the kernel table of native/cuda/binding.cc'));
});

s('a C entry point defined in no .cu file is reported', () => {
  const cu = Object.fromEntries(Object.entries(sources.cu).map(([f, t]) => [f, t.replace(/^int tsr_cuda_conv_backward_weight\(/m, 'int tsr_cuda_renamed(')]));
  assert.ok(without({ cu }).includes('convBackwardWeight: tsr_cuda_conv_backward_weight is defined in no kernels/cuda/*.cu'));
});

s('a C entry point without a device check or benchmark is reported', () => {
  const deviceChecks = sources.deviceChecks.replace(/\blib\.sddmm\(/g, 'lib.sddmm_renamed(');
  assert.ok(deviceChecks !== sources.deviceChecks);
  const gaps = without({ deviceChecks });
  assert.ok(gaps.includes('sddmm: bench/device/check_and_bench.py has no @check calling lib.sddmm'), gaps.join('\n'));
  assert.ok(gaps.includes('sddmm: bench/device/check_and_bench.py has no @bench calling lib.sddmm'), gaps.join('\n'));
});

s('a kernel whose WGSL entry point is gone is reported', () => {
  const wgsl = Object.fromEntries(Object.entries(sources.wgsl).map(([f, t]) => [f, t.replace(/fn max_pool\(/, 'fn renamed_pool(')]));
  assert.ok(without({ wgsl }).includes('maxPool: WebGpuBackend.maxPool names no @compute entry point of kernels/wgsl'));
});

s('a kernel method missing from a backend class is reported', () => {
  const cudaBackend = sources.cudaBackend.replace(/^ {2}where\(/m, '  whereNot(');
  assert.ok(without({ cudaBackend }).includes('where: CudaBackend.where does not call addon.cudaWhere'));
});

s.run();
