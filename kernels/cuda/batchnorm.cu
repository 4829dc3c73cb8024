// Batch normalization with batch statistics over x dense [outer, channels, inner] (src/backend/interface.ts:
// batchNormForward, batchNormBackward), the activation fused. One block owns one channel and makes every pass
// over it (sums in float64, then the elements); a thread visits the same elements in every pass, so a pass
// reads only what the same thread wrote before it.
#include <climits>
#include <string>

#include "kernels/cuda/common.cuh"

namespace tessera::cuda {
namespace {

constexpr int kThreads = 256;

template <int ACT>
__device__ __forceinline__ float activate(float z) {
  if constexpr (ACT == TSR_NORM_ACT_RELU) return fmaxf(z, 0.f);
  else if constexpr (ACT == TSR_NORM_ACT_SILU) return z / (1.f + expf(-z));
  else return z;
}
template <int ACT>
__device__ __forceinline__ float slope(float z) {
  if constexpr (ACT == TSR_NORM_ACT_RELU) return z > 0.f ? 1.f : 0.f;
  else if constexpr (ACT == TSR_NORM_ACT_SILU) {
    const float s = 1.f / (1.f + expf(-z));
    return s * (1.f + z * (1.f - s));
  } else return 1.f;
}

// The sums of a and b over the block, returned to every thread.
__device__ double2 block_sum(double a, double b) {
  __shared__ double2 partial[kThreads / 32];
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) {
    a += __shfl_xor_sync(0xffffffffu, a, m);
    b += __shfl_xor_sync(0xffffffffu, b, m);
  }
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = make_double2(a, b);
  __syncthreads();
  double2 total = make_double2(0.0, 0.0);
#pragma unroll
  for (int w = 0; w < kThreads / 32; w++) {
    total.x += partial[w].x;
    total.y += partial[w].y;
  }
  __syncthreads();
  return total;
}

// The index of the e-th element of channel c.
__device__ __forceinline__ int64_t element(const tsr_batchnorm_params& p, int64_t c, int64_t e) {
  return ((e / p.inner) * p.channels + c) * p.inner + e % p.inner;
}

template <int ACT>
__global__ void __launch_bounds__(kThreads)
    batchnorm_forward_kernel(tsr_batchnorm_params p, const float* __restrict__ x, const float* __restrict__ weight,
                             const float* __restrict__ bias, const float* __restrict__ addend, float* __restrict__ out,
                             float* __restrict__ stats) {
  const int64_t c = blockIdx.x, count = p.outer * p.inner;
  double sum = 0.0;
  for (int64_t e = threadIdx.x; e < count; e += kThreads) sum += x[element(p, c, e)];
  const float mean = static_cast<float>(block_sum(sum, 0.0).x / double(count));
  double squares = 0.0;
  for (int64_t e = threadIdx.x; e < count; e += kThreads) {
    const float d = x[element(p, c, e)] - mean;
    squares += d * d;
  }
  const double variance = block_sum(squares, 0.0).x / double(count);
  if (threadIdx.x == 0) {
    stats[c] = mean;
    stats[p.channels + c] = static_cast<float>(variance);
  }
  const float scale = static_cast<float>(weight[c] / sqrt(variance + p.eps)), shift = bias[c];
  for (int64_t e = threadIdx.x; e < count; e += kThreads) {
    const int64_t i = element(p, c, e);
    float z = (x[i] - mean) * scale + shift;
    if (addend) z += addend[i];
    out[i] = activate<ACT>(z);
  }
}

template <int ACT>
__global__ void __launch_bounds__(kThreads)
    batchnorm_backward_kernel(tsr_batchnorm_params p, const float* __restrict__ g, const float* __restrict__ x,
                              const float* __restrict__ weight, const float* __restrict__ bias,
                              const float* __restrict__ addend, const float* __restrict__ stats, float* __restrict__ gx,
                              float* __restrict__ sums, float* __restrict__ gz) {
  const int64_t c = blockIdx.x, count = p.outer * p.inner;
  const float mean = stats[c];
  const double inv_std = 1.0 / sqrt(double(stats[p.channels + c]) + p.eps);
  const float scale = static_cast<float>(weight[c] * inv_std), shift = bias[c];
  // dL/dz into gx (and gz when given), with the sums of dL/dz and of dL/dz * (x - mean).
  double g_sum = 0.0, g_centered_sum = 0.0;
  for (int64_t e = threadIdx.x; e < count; e += kThreads) {
    const int64_t i = element(p, c, e);
    const float centered = x[i] - mean;
    float z = centered * scale + shift;
    if (addend) z += addend[i];
    const float gzv = g[i] * slope<ACT>(z);
    gx[i] = gzv;
    if (gz) gz[i] = gzv;
    g_sum += gzv;
    g_centered_sum += gzv * centered;
  }
  const double2 total = block_sum(g_sum, g_centered_sum);
  if (threadIdx.x == 0) {
    sums[c] = static_cast<float>(total.x);
    sums[p.channels + c] = static_cast<float>(total.y * inv_std);
  }
  // gx = scale * (gz - mean(gz) - (x - mean) * invStd^2 * mean(gz * (x - mean))).
  const float g_mean = static_cast<float>(total.x / double(count));
  const float centered_coef = static_cast<float>(total.y / double(count) * inv_std * inv_std);
  for (int64_t e = threadIdx.x; e < count; e += kThreads) {
    const int64_t i = element(p, c, e);
    gx[i] = (gx[i] - g_mean - (x[i] - mean) * centered_coef) * scale;
  }
}

std::string batchnorm_problem(const tsr_batchnorm_params* p) {
  if (!p) return "null parameter record";
  if (p->outer < 0 || p->channels < 0 || p->inner < 0 || (p->channels > 0 && p->outer * p->inner < 1) || p->act < 0 ||
      p->act >= TSR_NORM_ACT_COUNT || !(p->eps >= 0)) {
    return "needs outer, channels, inner >= 0 with outer * inner >= 1, eps >= 0 and a known activation, got outer " +
           std::to_string(p->outer) + ", channels " + std::to_string(p->channels) + ", inner " + std::to_string(p->inner) +
           ", eps " + std::to_string(p->eps) + ", act " + std::to_string(p->act);
  }
  if (p->channels > INT_MAX) return "channels = " + std::to_string(p->channels) + " exceeds the grid";
  return "";
}

std::string batchnorm_detail(const tsr_batchnorm_params& p) {
  return "outer " + std::to_string(p.outer) + ", channels " + std::to_string(p.channels) + ", inner " + std::to_string(p.inner);
}

}  // namespace
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

extern "C" {

int tsr_cuda_batchnorm_forward(const float* x, const float* weight, const float* bias, const float* addend, float* out,
                               float* stats, const tsr_batchnorm_params* p, void* stream) {
  return guarded("batchnorm_forward", [&]() -> int {
    const std::string problem = batchnorm_problem(p);
    if (!problem.empty()) return invalid("batchnorm_forward", problem);
    if (p->channels == 0) return TSR_OK;
    if (!x || !weight || !bias || !out || !stats) return invalid("batchnorm_forward", "null pointer");
    dispatch_op<TSR_NORM_ACT_COUNT>(int(p->act), [&](auto act) {
      batchnorm_forward_kernel<decltype(act)::value><<<unsigned(p->channels), kThreads, 0, as_stream(stream)>>>(
          *p, x, weight, bias, addend, out, stats);
    });
    return check("batchnorm_forward", batchnorm_detail(*p), cudaGetLastError());
  });
}

int tsr_cuda_batchnorm_backward(const float* g, const float* x, const float* weight, const float* bias, const float* addend,
                                const float* stats, float* gx, float* sums, float* gz, const tsr_batchnorm_params* p,
                                void* stream) {
  return guarded("batchnorm_backward", [&]() -> int {
    const std::string problem = batchnorm_problem(p);
    if (!problem.empty()) return invalid("batchnorm_backward", problem);
    if (p->channels == 0) return TSR_OK;
    if (!g || !x || !weight || !bias || !stats || !gx || !sums) return invalid("batchnorm_backward", "null pointer");
    dispatch_op<TSR_NORM_ACT_COUNT>(int(p->act), [&](auto act) {
      batchnorm_backward_kernel<decltype(act)::value><<<unsigned(p->channels), kThreads, 0, as_stream(stream)>>>(
          *p, g, x, weight, bias, addend, stats, gx, sums, gz);
    });
    return check("batchnorm_backward", batchnorm_detail(*p), cudaGetLastError());
  });
}

}  // extern "C"
