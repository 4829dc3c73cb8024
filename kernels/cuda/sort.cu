// argsort along the middle axis of [outer, size, inner], the cpu kernel's order (stable, NaN above every
// number, also when descending), as kernels/wgsl/sort.wgsl: each thread ranks one element against its
// whole line (O(size) per element, O(size^2) per line) and writes its position at that rank; ranks are
// distinct because ties are broken by position.
#include "kernels/cuda/common.cuh"

namespace tessera::cuda {
namespace {

// Whether value a at position i sorts before value b at position j.
__device__ __forceinline__ bool sort_before(float a, int64_t i, float b, int64_t j, bool descending) {
  const bool na = isnan(a), nb = isnan(b);
  if (na || nb) return na && nb ? i < j : (descending ? na : nb);
  if (a == b) return i < j;
  return descending ? a > b : a < b;
}

__global__ void argsort_rank_kernel(const float* __restrict__ x, int64_t count, int64_t size, int64_t inner,
                                    bool descending, int32_t* __restrict__ out) {
  const int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= count) return;
  const int64_t r = (e / inner) % size, base = e - r * inner;
  const float v = x[e];
  int64_t rank = 0;
  for (int64_t q = 0; q < size; ++q) rank += sort_before(x[base + q * inner], q, v, r, descending);
  out[base + rank * inner] = static_cast<int32_t>(r);
}

}  // namespace
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

extern "C" {

int tsr_cuda_argsort(const float* x, int64_t outer, int64_t size, int64_t inner, int64_t descending, int32_t* out,
                     void* stream) {
  return guarded("argsort", [&]() -> int {
    if (outer < 0 || size < 0 || inner < 0) return invalid("argsort", "negative size");
    if (size > INT32_MAX) return invalid("argsort", "an axis of " + std::to_string(size) + " elements does not fit int32 indices");
    if (descending != 0 && descending != 1) return invalid("argsort", "descending must be 0 or 1");
    const int64_t count = outer * size * inner;
    if (count == 0) return TSR_OK;
    if (!x || !out) return invalid("argsort", "null pointer");
    const std::string shape = "[" + std::to_string(outer) + ", " + std::to_string(size) + ", " + std::to_string(inner) + "]";
    argsort_rank_kernel<<<unsigned(ceil_div(count, 256)), 256, 0, as_stream(stream)>>>(x, count, size, inner, descending == 1, out);
    return check("argsort", shape, cudaGetLastError());
  });
}

}  // extern "C"
