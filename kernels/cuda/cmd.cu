// Central moment discrepancy (CMD) moments, fused.
// Forward: two passes over x [n, d]. Pass 1 sums columns; pass 2 sums every
// central power (x - mean)^2 .. (x - mean)^k at once, so x is read twice in
// all instead of once per moment. Each pass: blocks own 32 adjacent columns
// (coalesced rows) and a chunk of rows, accumulate in float64 and write one
// partial per chunk; a small kernel adds the chunks in a fixed order (the
// result does not depend on scheduling).
// Backward: one pass; gx = gmean/n + sum_j gc_j j/n ((x-mean)^(j-1) - c_(j-1))
// is, per column, a polynomial in u = x - mean whose coefficients each thread
// computes once for its column, then evaluates by Horner's rule per row.
#include "kernels/cuda/common.cuh"

#include <algorithm>

namespace tessera::cuda {
namespace {

constexpr int kMaxPowers = TSR_CMD_MAX_K;  // powers 1..k of pass 2 use slots 0..k-2
constexpr int kRowsY = 8;                   // block (32, kRowsY)
constexpr int kUnroll = 4;

// partial[chunk][j][col] = sum over the chunk's rows of u^(j+first_power),
// u = x - center[col] (center null: u = x, one power).
__global__ void __launch_bounds__(32 * kRowsY)
    column_power_sums_kernel(const float* __restrict__ x, int64_t n, int64_t d, int64_t chunk_rows,
                             const double* __restrict__ center, int powers, double* __restrict__ partial) {
  const int64_t col = int64_t(blockIdx.x) * 32 + threadIdx.x;
  const int64_t begin = int64_t(blockIdx.y) * chunk_rows, end = imin(n, begin + chunk_rows);
  double acc[kMaxPowers];
#pragma unroll
  for (int j = 0; j < kMaxPowers; ++j) acc[j] = 0.0;
  if (col < d) {
    const double c = center ? center[col] : 0.0;
    const float* xc = x + col;
    for (int64_t r = begin + threadIdx.y; r < end; r += kRowsY * kUnroll) {
      float v[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int64_t i = r + int64_t(u) * kRowsY;
        v[u] = i < end ? xc[i * d] : 0.0f;
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        if (r + int64_t(u) * kRowsY >= end) continue;
        if (!center) {
          acc[0] += v[u];
          continue;
        }
        // Powers in float (relative error a few ulp), summed in float64.
        const float du = static_cast<float>(static_cast<double>(v[u]) - c);
        float p = du;
#pragma unroll
        for (int j = 0; j < kMaxPowers; ++j) {
          p *= du;
          if (j < powers) acc[j] += p;
        }
      }
    }
  }
  __shared__ double sums[kRowsY][33];
#pragma unroll 1
  for (int j = 0; j < powers; ++j) {
    double mine = 0.0;
#pragma unroll
    for (int q = 0; q < kMaxPowers; ++q)
      if (q == j) mine = acc[q];  // constant register indices only
    sums[threadIdx.y][threadIdx.x] = mine;
    __syncthreads();
    if (threadIdx.y == 0 && col < d) {
      double t = 0.0;
#pragma unroll
      for (int y = 0; y < kRowsY; ++y) t += sums[y][threadIdx.x];
      partial[(int64_t(blockIdx.y) * powers + j) * d + col] = t;
    }
    __syncthreads();
  }
}

// Adds the chunks: value[j][col] = sum_chunks partial / n, written as float
// (and as double for the next pass when `exact` is given).
__global__ void __launch_bounds__(256) finish_sums_kernel(const double* __restrict__ partial, int64_t chunks,
                                                          int64_t count, int64_t n, float* __restrict__ value,
                                                          double* __restrict__ exact) {
  for (int64_t i = int64_t(blockIdx.x) * 256 + threadIdx.x; i < count; i += int64_t(gridDim.x) * 256) {
    double t = 0.0;
    for (int64_t c = 0; c < chunks; ++c) t += partial[c * count + i];
    const double m = n > 0 ? t / double(n) : 0.0;
    value[i] = static_cast<float>(m);
    if (exact) exact[i] = m;
  }
}

__global__ void __launch_bounds__(32 * kRowsY)
    cmd_backward_kernel(const float* __restrict__ x, int64_t n, int64_t d, int k, const float* __restrict__ mean,
                        const float* __restrict__ moments, const float* __restrict__ g_mean,
                        const float* __restrict__ g_moments, float* __restrict__ out) {
  const int64_t col = int64_t(blockIdx.x) * 32 + threadIdx.x;
  if (col >= d) return;
  // gx = base + sum_{j=2..k} coef_j u^(j-1), with
  // coef_j = gc_j j / n and base = gmean/n - sum_j coef_j c_(j-1), c_1 = 0.
  const double inv_n = 1.0 / double(n);
  float coef[kMaxPowers];  // coef[j-2]
  double base = double(g_mean[col]) * inv_n;
#pragma unroll
  for (int j = 2; j < kMaxPowers + 2; ++j) {
    if (j > k) {
      coef[j - 2] = 0.0f;
      continue;
    }
    const double cj = double(g_moments[int64_t(j - 2) * d + col]) * j * inv_n;
    coef[j - 2] = static_cast<float>(cj);
    if (j > 2) base -= cj * double(moments[int64_t(j - 3) * d + col]);
  }
  const float m = mean[col], b = static_cast<float>(base);
  const int64_t stride = int64_t(gridDim.y) * kRowsY;
  for (int64_t r = int64_t(blockIdx.y) * kRowsY + threadIdx.y; r < n; r += stride) {
    const float u = x[r * d + col] - m;
    float h = 0.0f;
#pragma unroll
    for (int j = kMaxPowers - 1; j >= 0; --j) h = fmaf(h, u, coef[j]);
    out[r * d + col] = fmaf(h, u, b);
  }
}


cudaError_t cmd_moments(const float* x, int64_t n, int64_t d, int k, float* mean, float* moments, cudaStream_t s) {
  if (d == 0) return cudaSuccess;
  const int64_t col_blocks = ceil_div(d, 32);
  const int64_t wanted = 4 * int64_t(multiprocessor_count());
  const int64_t chunks = std::clamp<int64_t>(std::min(ceil_div(wanted, col_blocks), ceil_div(n, 256)), 1, 65535);
  const int64_t chunk_rows = std::max<int64_t>(1, ceil_div(n, chunks));
  const int powers = k - 1;
  Scratch partial(size_t(chunks) * std::max(powers, 1) * d * sizeof(double), s);
  Scratch exact_mean(size_t(d) * sizeof(double), s);
  if (partial.status() != cudaSuccess) return partial.status();
  if (exact_mean.status() != cudaSuccess) return exact_mean.status();
  auto* part = static_cast<double*>(partial.get());
  auto* center = static_cast<double*>(exact_mean.get());
  const dim3 grid(static_cast<unsigned>(col_blocks), static_cast<unsigned>(chunks)), block(32, kRowsY);

  column_power_sums_kernel<<<grid, block, 0, s>>>(x, n, d, chunk_rows, nullptr, 1, part);
  finish_sums_kernel<<<blocks_for(d, 256, 4096), 256, 0, s>>>(part, chunks, d, n, mean, center);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess || powers == 0) return err;
  column_power_sums_kernel<<<grid, block, 0, s>>>(x, n, d, chunk_rows, center, powers, part);
  finish_sums_kernel<<<blocks_for(powers * d, 256, 4096), 256, 0, s>>>(part, chunks, powers * d, n, moments, nullptr);
  return cudaGetLastError();
}

cudaError_t cmd_moments_backward(const float* x, int64_t n, int64_t d, int k, const float* mean, const float* moments,
                                 const float* g_mean, const float* g_moments, float* out, cudaStream_t s) {
  if (n == 0 || d == 0) return cudaSuccess;
  const int64_t col_blocks = ceil_div(d, 32);
  const int64_t row_blocks = std::min<int64_t>(ceil_div(n, kRowsY * 16), 65535);
  const dim3 grid(static_cast<unsigned>(col_blocks), static_cast<unsigned>(row_blocks)), block(32, kRowsY);
  cmd_backward_kernel<<<grid, block, 0, s>>>(x, n, d, k, mean, moments, g_mean, g_moments, out);
  return cudaGetLastError();
}

// ---- argument checks of the C ABI ----

std::string cmd_problem(int64_t n, int64_t d, int64_t k) {
  if (n < 0 || d < 0) return "negative extent";
  if (k < 1 || k > TSR_CMD_MAX_K) return "k = " + std::to_string(k) + " outside [1, " + std::to_string(TSR_CMD_MAX_K) + "]";
  return "";
}

std::string cmd_string(int64_t n, int64_t d, int64_t k) {
  return "x [" + std::to_string(n) + ", " + std::to_string(d) + "], k " + std::to_string(k);
}

}  // namespace
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

extern "C" {

int tsr_cuda_cmd_moments(const float* x, int64_t n, int64_t d, int64_t k, float* mean, float* moments, void* stream) {
  return guarded("cmd_moments", [&]() -> int {
    const std::string why = cmd_problem(n, d, k);
    if (!why.empty()) return invalid("cmd_moments", why);
    if (d > 0 && (!mean || (n > 0 && !x) || (k > 1 && !moments))) return invalid("cmd_moments", "null pointer");
    return check("cmd_moments", cmd_string(n, d, k), cmd_moments(x, n, d, int(k), mean, moments, as_stream(stream)));
  });
}

int tsr_cuda_cmd_moments_backward(const float* x, int64_t n, int64_t d, int64_t k, const float* mean,
                                  const float* moments, const float* g_mean, const float* g_moments, float* out,
                                  void* stream) {
  return guarded("cmd_moments_backward", [&]() -> int {
    const std::string why = cmd_problem(n, d, k);
    if (!why.empty()) return invalid("cmd_moments_backward", why);
    if (n * d > 0 && (!x || !mean || !g_mean || !out || (k > 1 && (!moments || !g_moments))))
      return invalid("cmd_moments_backward", "null pointer");
    return check("cmd_moments_backward", cmd_string(n, d, k),
                 cmd_moments_backward(x, n, d, int(k), mean, moments, g_mean, g_moments, out, as_stream(stream)));
  });
}

}  // extern "C"
