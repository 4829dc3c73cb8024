// Running sums or products along the middle axis of a dense [outer, size, inner] array, as
// kernels/wgsl/scan.wgsl and native/cpu/scan.cc: one thread per line, walking it in order (from its end
// when reversed). float32 accumulates in double; int32 in uint32, wrapping as int32 arithmetic does.
#include "kernels/cuda/common.cuh"

namespace tessera::cuda {
namespace {

template <class T, class Acc, bool PRODUCT>
__global__ void cumulative_kernel(const T* __restrict__ x, int64_t lines, int64_t size, int64_t inner, bool reverse,
                                  T* __restrict__ out) {
  const int64_t line = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (line >= lines) return;
  const int64_t base = (line / inner) * size * inner + line % inner;
  Acc acc = PRODUCT ? Acc(1) : Acc(0);
  for (int64_t k = 0; k < size; ++k) {
    const int64_t at = base + (reverse ? size - 1 - k : k) * inner;
    acc = PRODUCT ? Acc(acc * Acc(x[at])) : Acc(acc + Acc(x[at]));
    out[at] = static_cast<T>(acc);
  }
}

template <class T, class Acc>
void launch(const void* x, int64_t lines, int64_t size, int64_t inner, bool product, bool reverse, void* out,
            cudaStream_t s) {
  const unsigned blocks = unsigned(ceil_div(lines, 256));
  const auto* in = static_cast<const T*>(x);
  auto* o = static_cast<T*>(out);
  if (product) cumulative_kernel<T, Acc, true><<<blocks, 256, 0, s>>>(in, lines, size, inner, reverse, o);
  else cumulative_kernel<T, Acc, false><<<blocks, 256, 0, s>>>(in, lines, size, inner, reverse, o);
}

}  // namespace
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

extern "C" {

int tsr_cuda_cumulative(int64_t op, const void* x, int64_t dtype, int64_t outer, int64_t size, int64_t inner,
                        int64_t reverse, void* out, void* stream) {
  return guarded("cumulative", [&]() -> int {
    if (op != TSR_SUM && op != TSR_PROD) return invalid("cumulative", "op must be sum or prod");
    if (dtype != TSR_FLOAT32 && dtype != TSR_INT32) return invalid("cumulative", "dtype must be float32 or int32");
    if (outer < 0 || size < 0 || inner < 0) return invalid("cumulative", "negative size");
    if (reverse != 0 && reverse != 1) return invalid("cumulative", "reverse must be 0 or 1");
    const int64_t lines = outer * inner;
    if (lines == 0 || size == 0) return TSR_OK;
    if (!x || !out) return invalid("cumulative", "null pointer");
    const cudaStream_t s = as_stream(stream);
    if (dtype == TSR_INT32) launch<int32_t, uint32_t>(x, lines, size, inner, op == TSR_PROD, reverse == 1, out, s);
    else launch<float, double>(x, lines, size, inner, op == TSR_PROD, reverse == 1, out, s);
    const std::string shape = "[" + std::to_string(outer) + ", " + std::to_string(size) + ", " + std::to_string(inner) + "]";
    return check("cumulative", shape, cudaGetLastError());
  });
}

}  // extern "C"
