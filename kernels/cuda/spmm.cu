// Sparse kernels over CSR: SpMM, SDDMM, edge softmax forward and backward,
// and CSR validation.
//
// SpMM follows GE-SpMM (Huang et al., SC'20): rows are split across warps,
// each warp owning one row and 32 * VEC feature columns. The warp reads 32
// (column, value) pairs of its row with one coalesced load, then broadcasts
// them lane to lane with shuffles ("coalesced row caching"); every lane
// accumulates its own feature columns, so each neighbour row of x is read
// with full 128-byte (VEC 1) or 512-byte (VEC 4) transactions.
//
// The kernels guard memory on their own (a row range outside [0, nnz] is
// clamped, a column outside [0, cols) is skipped), so a malformed CSR gives
// wrong numbers, never a fault; csr_validate reports what is malformed.
#include "kernels/cuda/common.cuh"

namespace tessera::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

struct RowRange {
  int64_t begin, end;
};

__device__ __forceinline__ RowRange row_range(const tsr_csr& a, int64_t row) {
  const int64_t b = imin<int64_t>(imax<int64_t>(a.row_ptr[row], 0), a.nnz);
  const int64_t e = imin<int64_t>(imax<int64_t>(a.row_ptr[row + 1], b), a.nnz);
  return {b, e};
}

template <int VEC>
struct Vec;
template <>
struct Vec<1> {
  using T = float;
  __device__ static void fma(float& acc, float v, float x) { acc = fmaf(v, x, acc); }
};
template <>
struct Vec<4> {
  using T = float4;
  __device__ static void fma(float4& acc, float v, const float4& x) {
    acc.x = fmaf(v, x.x, acc.x), acc.y = fmaf(v, x.y, acc.y);
    acc.z = fmaf(v, x.z, acc.z), acc.w = fmaf(v, x.w, acc.w);
  }
};

// One warp per (row, chunk of 32 * VEC features). VEC 4 needs F % 4 == 0
// and 16-byte aligned x and out.
template <int VEC>
__global__ void __launch_bounds__(kThreads) spmm_kernel(tsr_csr a, const float* __restrict__ x, int64_t F,
                                                        int64_t chunks, float* __restrict__ out) {
  using T = typename Vec<VEC>::T;
  const int64_t task = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int64_t row = task / chunks;
  if (row >= a.rows) return;
  const int64_t f = (task % chunks) * 32 * VEC + int64_t(lane) * VEC;
  const bool active = f < F;
  const RowRange r = row_range(a, row);
  T acc{};
  for (int64_t p = r.begin; p < r.end; p += 32) {
    const int n = static_cast<int>(imin<int64_t>(32, r.end - p));
    int c = 0;
    float v = 0.0f;
    if (lane < n) {
      c = a.col_idx[p + lane];
      v = a.values ? a.values[p + lane] : 1.0f;
      if (c < 0 || c >= a.cols) c = 0, v = 0.0f;
    }
    // Four neighbours per step: four independent loads in flight per lane.
    int j = 0;
    for (; j + 4 <= n; j += 4) {
      int cj[4];
      float vj[4];
      T xj[4];
#pragma unroll
      for (int u = 0; u < 4; ++u) {
        cj[u] = __shfl_sync(0xffffffffu, c, j + u);
        vj[u] = __shfl_sync(0xffffffffu, v, j + u);
      }
      if (active) {
#pragma unroll
        for (int u = 0; u < 4; ++u) xj[u] = __ldg(reinterpret_cast<const T*>(x + cj[u] * F + f));
#pragma unroll
        for (int u = 0; u < 4; ++u) Vec<VEC>::fma(acc, vj[u], xj[u]);
      }
    }
    for (; j < n; ++j) {
      const int cj = __shfl_sync(0xffffffffu, c, j);
      const float vj = __shfl_sync(0xffffffffu, v, j);
      if (active) Vec<VEC>::fma(acc, vj, __ldg(reinterpret_cast<const T*>(x + cj * F + f)));
    }
  }
  if (active) *reinterpret_cast<T*>(out + row * F + f) = acc;
}

// SDDMM: one warp per row; lanes form groups of G (a power of two <= 32),
// one group per (edge, head) pair, each lane taking VEC features at a time;
// the group's partial dots meet through xor shuffles inside the group.
template <int VEC>
__global__ void __launch_bounds__(kThreads) sddmm_kernel(tsr_csr a, const float* __restrict__ x,
                                                         const float* __restrict__ y, int64_t H, int64_t F,
                                                         int G, float* __restrict__ out) {
  using T = typename Vec<VEC>::T;
  const int64_t row = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= a.rows) return;
  const RowRange r = row_range(a, row);
  const int group = lane / G, member = lane % G, groups = 32 / G;
  const int64_t pairs = (r.end - r.begin) * H;
  // Uniform trip count over the warp: every lane reaches every shuffle.
  for (int64_t q0 = 0; q0 < pairs; q0 += groups) {
    const int64_t q = q0 + group;
    float dot = 0.0f;
    int64_t e = 0;
    if (q < pairs) {
      e = r.begin + q / H;
      const int64_t h = q % H;
      const int c = a.col_idx[e];
      if (c >= 0 && c < a.cols) {
        const float* xr = x + (row * H + h) * F;
        const float* yr = y + (int64_t(c) * H + h) * F;
        for (int64_t f = int64_t(member) * VEC; f < F; f += int64_t(G) * VEC) {
          const T xv = *reinterpret_cast<const T*>(xr + f);
          const T yv = __ldg(reinterpret_cast<const T*>(yr + f));
          if constexpr (VEC == 4) dot += xv.x * yv.x + xv.y * yv.y + xv.z * yv.z + xv.w * yv.w;
          else dot = fmaf(xv, yv, dot);
        }
      }
    }
    for (int m = G / 2; m > 0; m >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, m);
    if (q < pairs && member == 0) out[e * H + q % H] = dot;
  }
}

// Combines f(e) over a row's edges across the warp; every lane gets the result.
template <class F, class Combine>
__device__ __forceinline__ float row_reduce(const RowRange& r, int lane, float init, F f, Combine combine) {
  float acc = init;
  for (int64_t e = r.begin + lane; e < r.end; e += 32) acc = combine(acc, f(e));
  return warp_all_reduce(acc, combine);
}

__device__ __forceinline__ float add(float a, float b) { return a + b; }

// Softmax over each row's edges, per head; one warp per row.
__global__ void __launch_bounds__(kThreads)
    edge_softmax_kernel(tsr_csr a, const float* __restrict__ s, int64_t H, float* __restrict__ out) {
  const int64_t row = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= a.rows) return;
  const RowRange r = row_range(a, row);
  for (int64_t h = 0; h < H; ++h) {
    const float mx = row_reduce(r, lane, -INFINITY, [&](int64_t e) { return s[e * H + h]; },
                                [](float p, float q) { return fmaxf(p, q); });
    const float sum = row_reduce(r, lane, 0.0f, [&](int64_t e) { return expf(s[e * H + h] - mx); }, add);
    const float inv = 1.0f / sum;
    for (int64_t e = r.begin + lane; e < r.end; e += 32) out[e * H + h] = expf(s[e * H + h] - mx) * inv;
  }
}

// gradScores = y * (g - sum_row(y * g)), per head; one warp per row.
__global__ void __launch_bounds__(kThreads) edge_softmax_backward_kernel(tsr_csr a, const float* __restrict__ y,
                                                                         const float* __restrict__ g, int64_t H,
                                                                         float* __restrict__ out) {
  const int64_t row = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= a.rows) return;
  const RowRange r = row_range(a, row);
  for (int64_t h = 0; h < H; ++h) {
    const float dot = row_reduce(r, lane, 0.0f, [&](int64_t e) { return y[e * H + h] * g[e * H + h]; }, add);
    for (int64_t e = r.begin + lane; e < r.end; e += 32) out[e * H + h] = y[e * H + h] * (g[e * H + h] - dot);
  }
}

// flags[0]: first row whose row_ptr decreases; flags[1]: first bad column position.
__global__ void __launch_bounds__(kThreads) csr_validate_kernel(tsr_csr a, unsigned long long* flags) {
  const int64_t stride = int64_t(gridDim.x) * kThreads;
  for (int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x; i < a.rows; i += stride)
    if (a.row_ptr[i + 1] < a.row_ptr[i]) atomicMin(&flags[0], static_cast<unsigned long long>(i));
  for (int64_t e = int64_t(blockIdx.x) * kThreads + threadIdx.x; e < a.nnz; e += stride) {
    const int32_t c = a.col_idx[e];
    if (c < 0 || c >= a.cols) atomicMin(&flags[1], static_cast<unsigned long long>(e));
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

unsigned warps_to_blocks(int64_t warps) { return static_cast<unsigned>(ceil_div(warps, kWarps)); }


cudaError_t csr_validate(const tsr_csr& a, int* problem, int64_t* where, int64_t* value, cudaStream_t s) {
  *problem = 0;
  int32_t ends[2] = {0, 0};
  cudaError_t err;
  if ((err = read_back(&ends[0], a.row_ptr, 4, s)) != cudaSuccess) return err;
  if ((err = read_back(&ends[1], a.row_ptr + a.rows, 4, s)) != cudaSuccess) return err;
  if (ends[0] != 0) {
    *problem = 1, *where = 0, *value = ends[0];
    return cudaSuccess;
  }
  if (ends[1] != a.nnz) {
    *problem = 3, *where = a.rows, *value = ends[1];
    return cudaSuccess;
  }
  Scratch flags(2 * sizeof(unsigned long long), s);
  if (flags.status() != cudaSuccess) return flags.status();
  auto* f = static_cast<unsigned long long*>(flags.get());
  if ((err = cudaMemsetAsync(f, 0xff, 2 * sizeof(unsigned long long), s)) != cudaSuccess) return err;
  csr_validate_kernel<<<blocks_for(imax(a.rows, a.nnz), kThreads, 4096), kThreads, 0, s>>>(a, f);
  if ((err = cudaGetLastError()) != cudaSuccess) return err;
  unsigned long long host[2];
  if ((err = read_back(host, f, sizeof host, s)) != cudaSuccess) return err;
  if (host[0] != ~0ull) {
    *problem = 2, *where = static_cast<int64_t>(host[0]), *value = 0;
  } else if (host[1] != ~0ull) {
    int32_t c = 0;
    if ((err = read_back(&c, a.col_idx + host[1], 4, s)) != cudaSuccess) return err;
    *problem = 4, *where = static_cast<int64_t>(host[1]), *value = c;
  }
  return cudaSuccess;
}

cudaError_t spmm(const tsr_csr& a, const float* x, int64_t F, float* out, cudaStream_t s) {
  if (a.rows == 0 || F == 0) return cudaSuccess;
  const bool vec4 = F % 4 == 0 && aligned16(x) && aligned16(out);
  const int64_t chunks = ceil_div(F, vec4 ? 128 : 32);
  const unsigned blocks = warps_to_blocks(a.rows * chunks);
  if (vec4) spmm_kernel<4><<<blocks, kThreads, 0, s>>>(a, x, F, chunks, out);
  else spmm_kernel<1><<<blocks, kThreads, 0, s>>>(a, x, F, chunks, out);
  return cudaGetLastError();
}

cudaError_t sddmm(const tsr_csr& a, const float* x, const float* y, int64_t H, int64_t F, float* out,
                  cudaStream_t s) {
  if (a.rows == 0 || H == 0) return cudaSuccess;
  const bool vec4 = F % 4 == 0 && aligned16(x) && aligned16(y);
  const int64_t per_lane = vec4 ? F / 4 : F;
  int G = 1;
  while (G < 32 && G < per_lane) G *= 2;
  const unsigned blocks = warps_to_blocks(a.rows);
  if (vec4) sddmm_kernel<4><<<blocks, kThreads, 0, s>>>(a, x, y, H, F, G, out);
  else sddmm_kernel<1><<<blocks, kThreads, 0, s>>>(a, x, y, H, F, G, out);
  return cudaGetLastError();
}

cudaError_t edge_softmax(const tsr_csr& a, const float* scores, int64_t H, float* out, cudaStream_t s) {
  if (a.rows == 0) return cudaSuccess;
  edge_softmax_kernel<<<warps_to_blocks(a.rows), kThreads, 0, s>>>(a, scores, H, out);
  return cudaGetLastError();
}

cudaError_t edge_softmax_backward(const tsr_csr& a, const float* y, const float* g, int64_t H, float* out,
                                  cudaStream_t s) {
  if (a.rows == 0) return cudaSuccess;
  edge_softmax_backward_kernel<<<warps_to_blocks(a.rows), kThreads, 0, s>>>(a, y, g, H, out);
  return cudaGetLastError();
}

// ---- argument checks of the C ABI ----

std::string csr_string(const tsr_csr& a) {
  return "CSR " + std::to_string(a.rows) + "x" + std::to_string(a.cols) + " with " + std::to_string(a.nnz) + " entries";
}

// Extents the kernels can index (32-bit columns and entries) and pointers
// for whatever the extents say exists.
std::string csr_problem(const tsr_csr* a) {
  if (!a) return "CSR is null";
  if (a->rows < 0 || a->cols < 0 || a->nnz < 0) return "negative extent in " + csr_string(*a);
  if (a->cols > INT32_MAX || a->nnz > INT32_MAX) return csr_string(*a) + " needs 64-bit indices";
  if (!a->row_ptr || (a->nnz > 0 && !a->col_idx)) return "null index array in " + csr_string(*a);
  return "";
}

template <class Enqueue>
int run_sparse(const char* op, const tsr_csr* a, const std::string& extra_problem, const std::string& detail,
               Enqueue enqueue) {
  return guarded(op, [&]() -> int {
    std::string why = csr_problem(a);
    if (why.empty()) why = extra_problem;
    if (!why.empty()) return invalid(op, why);
    return check(op, csr_string(*a) + detail, enqueue());
  });
}

}  // namespace
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

extern "C" {

int tsr_cuda_csr_validate(const tsr_csr* a, void* stream) {
  return guarded("csr_validate", [&]() -> int {
    const std::string why = csr_problem(a);
    if (!why.empty()) return invalid("csr_validate", why);
    int problem = 0;
    int64_t where = 0, value = 0;
    if (int st = check("csr_validate", csr_string(*a), csr_validate(*a, &problem, &where, &value, as_stream(stream))))
      return st;
    const std::string head = "cuda csr_validate: " + csr_string(*a) + ": ";
    switch (problem) {
      case 0: return TSR_OK;
      case 1: return fail(TSR_INDEX_OUT_OF_RANGE, head + "rowPtr[0] is " + std::to_string(value) + ", not 0");
      case 2:
        return fail(TSR_INDEX_OUT_OF_RANGE, head + "rowPtr decreases from row " + std::to_string(where) + " to the next");
      case 3:
        return fail(TSR_INDEX_OUT_OF_RANGE, head + "rowPtr[rows] is " + std::to_string(value) + ", not nnz");
      default:
        return fail(TSR_INDEX_OUT_OF_RANGE, head + "column index " + std::to_string(value) + " at entry " +
                                                std::to_string(where) + " is outside [0, cols)");
    }
  });
}

int tsr_cuda_spmm(const tsr_csr* a, const float* x, int64_t F, float* out, void* stream) {
  const bool ok = F >= 0 && (!a || a->rows * F == 0 || (out && (a->nnz == 0 || x)));
  return run_sparse("spmm", a, ok ? "" : "negative F or null pointer", ", F " + std::to_string(F),
                    [&] { return spmm(*a, x, F, out, as_stream(stream)); });
}

int tsr_cuda_sddmm(const tsr_csr* a, const float* x, const float* y, int64_t H, int64_t F, float* out, void* stream) {
  const bool ok = H >= 0 && F >= 0 && (!a || a->nnz * H == 0 || (out && x && y));
  return run_sparse("sddmm", a, ok ? "" : "negative H or F, or null pointer",
                    ", H " + std::to_string(H) + ", F " + std::to_string(F),
                    [&] { return sddmm(*a, x, y, H, F, out, as_stream(stream)); });
}

int tsr_cuda_edge_softmax(const tsr_csr* a, const float* scores, int64_t H, float* out, void* stream) {
  const bool ok = H >= 0 && (!a || a->nnz * H == 0 || (scores && out));
  return run_sparse("edge_softmax", a, ok ? "" : "negative H or null pointer", ", H " + std::to_string(H),
                    [&] { return edge_softmax(*a, scores, H, out, as_stream(stream)); });
}

int tsr_cuda_edge_softmax_backward(const tsr_csr* a, const float* y, const float* g, int64_t H, float* out,
                                   void* stream) {
  const bool ok = H >= 0 && (!a || a->nnz * H == 0 || (y && g && out));
  return run_sparse("edge_softmax_backward", a, ok ? "" : "negative H or null pointer", ", H " + std::to_string(H),
                    [&] { return edge_softmax_backward(*a, y, g, H, out, as_stream(stream)); });
}

}  // extern "C"
