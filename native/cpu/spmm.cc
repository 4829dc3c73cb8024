// Sparse (CSR) kernels: spmm, sddmm, edge softmax and its backward.
// All of them walk rows in parallel; rows are split into chunks of equal work
// (edges weighted by their cost, plus rows), not equal row counts, so power-law
// graphs stay balanced.
#include <algorithm>
#include <atomic>
#include <cmath>

#include "families.h"
#include "simd.h"
#include "threadpool.h"

namespace tessera {
namespace {

struct CsrView {
  int64_t rows, cols, nnz;
  const int32_t* row_ptr;
  const int32_t* col_idx;
  const float* values;  // nullptr: all ones
};

/** The smallest i < n with !ok(i), or -1; checked in parallel (a graph's structure is
 *  checked on every call, and edges can number millions). */
template <class Ok>
int64_t first_failure(int64_t n, const Ok& ok) {
  std::atomic<int64_t> first{n};
  parallel_for(n, 65536, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e && i < first.load(std::memory_order_relaxed); i++)
      if (!ok(i)) {
        int64_t seen = first.load();
        while (i < seen && !first.compare_exchange_weak(seen, i)) {}
        return;
      }
  });
  return first.load() < n ? first.load() : -1;
}

/** Reads a CSR matrix from arguments first..first+5 (rows, cols, nnz, rowPtr,
 *  colIdx, values | null) and checks its structure before any kernel reads it. */
CsrView csr_arg(const Napi::CallbackInfo& info, size_t first, const char* kernel) {
  CsrView a;
  a.rows = size_arg(info, first, kernel, "rows");
  a.cols = size_arg(info, first + 1, kernel, "cols");
  a.nnz = size_arg(info, first + 2, kernel, "nnz");
  if (a.rows >= INT32_MAX || a.cols > INT32_MAX || a.nnz > INT32_MAX)
    fail(std::string(kernel) + ": rows, cols and nnz must fit int32 indices (cpu backend)");
  Span<int32_t> row_ptr = i32_arg(info, first + 3, kernel, "rowPtr");
  Span<int32_t> col_idx = i32_arg(info, first + 4, kernel, "colIdx");
  Span<float> values = optional_f32_arg(info, first + 5, kernel, "values");
  require_length(kernel, "rowPtr", row_ptr.size, a.rows + 1);
  require_length(kernel, "colIdx", col_idx.size, a.nnz);
  if (values.data) require_length(kernel, "values", values.size, a.nnz);
  a.row_ptr = row_ptr.data;
  a.col_idx = col_idx.data;
  a.values = values.data;
  const std::string where = std::string(kernel) + ": ";
  if (a.row_ptr[0] != 0) fail(where + "rowPtr[0] must be 0, got " + std::to_string(a.row_ptr[0]) + " (cpu backend)");
  const int64_t r = first_failure(a.rows, [&](int64_t i) { return a.row_ptr[i + 1] >= a.row_ptr[i]; });
  if (r >= 0)
    fail(where + "rowPtr must be non-decreasing, but rowPtr[" + std::to_string(r + 1) + "] = " +
         std::to_string(a.row_ptr[r + 1]) + " < rowPtr[" + std::to_string(r) + "] = " + std::to_string(a.row_ptr[r]) +
         " (cpu backend)");
  if (a.row_ptr[a.rows] != a.nnz)
    fail(where + "rowPtr[rows] = " + std::to_string(a.row_ptr[a.rows]) + " but nnz = " + std::to_string(a.nnz) +
         " (cpu backend)");
  const int64_t e = first_failure(a.nnz, [&](int64_t i) { return a.col_idx[i] >= 0 && a.col_idx[i] < a.cols; });
  if (e >= 0)
    fail(where + "colIdx[" + std::to_string(e) + "] = " + std::to_string(a.col_idx[e]) + " is outside [0, " +
         std::to_string(a.cols) + ") (cpu backend)");
  return a;
}

/** Runs fn(rowBegin, rowEnd) in parallel over chunks of rows holding about
 *  equal `edge_cost * edges + rows`. */
template <class Fn>
void for_balanced_rows(const CsrView& a, int64_t edge_cost, const Fn& fn) {
  if (a.rows == 0) return;
  // In double: the work only steers the split, and nnz * edge_cost may pass 2^63.
  auto work_before = [&](int64_t r) { return static_cast<double>(a.row_ptr[r]) * edge_cost + r; };
  const double total = work_before(a.rows);
  const double min_chunk_work = 16384;  // below this a chunk costs more to schedule than to run
  const int64_t chunks = static_cast<int64_t>(std::clamp(total / min_chunk_work, 1.0, num_threads() * 8.0));
  auto first_row_of = [&](int64_t c) {
    if (c >= chunks) return a.rows;
    const double target = total * c / chunks;
    int64_t lo = 0, hi = a.rows;  // the smallest r with work before it >= target
    while (lo < hi) {
      const int64_t mid = (lo + hi) / 2;
      if (work_before(mid) < target) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) {
      const int64_t r0 = first_row_of(c), r1 = first_row_of(c + 1);
      if (r0 < r1) fn(r0, r1);
    }
  });
}

// ------------------------------------------------------------------- spmm

/** out[r, f0 : f0 + NV*W] = sum over row r's edges of value * x[col, same columns].
 *  The rows of x a few edges ahead are prefetched: on large graphs they miss every cache. */
template <int W, int NV, bool kHasValues>
TESSERA_INLINE void spmm_block(const CsrView& a, const float* x, int64_t F, int64_t r, int64_t f0, float* out) {
  using V = Vec<W>;
  constexpr int64_t kPrefetchAhead = 6;
  typename V::F acc[NV];
  for (int k = 0; k < NV; k++) acc[k] = V::splat(0.f);
  const int64_t e1 = a.row_ptr[r + 1];
  for (int64_t e = a.row_ptr[r]; e < e1; e++) {
    if (e + kPrefetchAhead < a.nnz) {
      const float* ahead = x + a.col_idx[e + kPrefetchAhead] * F + f0;
      for (int k = 0; k < NV * W; k += 16) __builtin_prefetch(ahead + k);
    }
    const float* xr = x + a.col_idx[e] * F + f0;
    const typename V::F v = V::splat(kHasValues ? a.values[e] : 1.f);
    for (int k = 0; k < NV; k++) acc[k] += v * V::load(xr + k * W);
  }
  for (int k = 0; k < NV; k++) V::store(out + r * F + f0 + k * W, acc[k]);
}

/** spmm_block for a vector count known only at run time (0 < count <= NV). */
template <int W, int NV, bool kHasValues>
TESSERA_INLINE void spmm_blocks(int64_t count, const CsrView& a, const float* x, int64_t F, int64_t r, int64_t f0,
                                float* out) {
  if constexpr (NV > 0) {
    if (count == NV) spmm_block<W, NV, kHasValues>(a, x, F, r, f0, out);
    else spmm_blocks<W, NV - 1, kHasValues>(count, a, x, F, r, f0, out);
  }
}

template <bool kHasValues>
struct SpmmRows {
  template <int W>
  struct Kernel {
    static constexpr int kMaxVectors = 8;  // accumulators per pass over a row's edges

    static TESSERA_INLINE void run(const CsrView* pa, const float* x, int64_t F, float* out, int64_t r0, int64_t r1) {
      const CsrView& a = *pa;
      for (int64_t r = r0; r < r1; r++) {
        int64_t f = 0;
        for (; f + kMaxVectors * W <= F; f += kMaxVectors * W) spmm_block<W, kMaxVectors, kHasValues>(a, x, F, r, f, out);
        const int64_t vectors = (F - f) / W;
        spmm_blocks<W, kMaxVectors - 1, kHasValues>(vectors, a, x, F, r, f, out);
        f += vectors * W;
        if (f == F) continue;
        if (F >= W) {
          // The last vector ends at F and overlaps its neighbour: it recomputes the same
          // sums in the same order, so the overlap writes identical values.
          spmm_block<W, 1, kHasValues>(a, x, F, r, F - W, out);
        } else {
          for (; f < F; f++) {
            float acc = 0.f;
            for (int64_t e = a.row_ptr[r]; e < a.row_ptr[r + 1]; e++)
              acc += (kHasValues ? a.values[e] : 1.f) * x[a.col_idx[e] * F + f];
            out[r * F + f] = acc;
          }
        }
      }
    }
  };
};

Napi::Value Spmm(const Napi::CallbackInfo& info) {
  const char* kernel = "spmm";
  const CsrView a = csr_arg(info, 0, kernel);
  const int64_t F = size_arg(info, 6, kernel, "F");
  Span<float> x = f32_arg(info, 7, kernel, "x");
  Span<float> out = f32_arg(info, 8, kernel, "out");
  require_length(kernel, "x", x.size, checked_product({a.cols, F}, kernel));
  require_length(kernel, "out", out.size, checked_product({a.rows, F}, kernel));
  if (F == 0) return info.Env().Undefined();
  for_balanced_rows(a, F, [&](int64_t r0, int64_t r1) {
    if (a.values) simd_dispatch<SpmmRows<true>::Kernel>(&a, x.data, F, out.data, r0, r1);
    else simd_dispatch<SpmmRows<false>::Kernel>(&a, x.data, F, out.data, r0, r1);
  });
  return info.Env().Undefined();
}

// ------------------------------------------------------------------ sddmm

template <int W>
struct SddmmRows {
  /** Dot product over n floats: two vector chains hide the add latency, then a scalar tail. */
  static TESSERA_INLINE float dot(const float* p, const float* q, int64_t n) {
    using V = Vec<W>;
    typename V::F acc0 = V::splat(0.f), acc1 = V::splat(0.f);
    int64_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      acc0 += V::load(p + i) * V::load(q + i);
      acc1 += V::load(p + i + W) * V::load(q + i + W);
    }
    if (i + W <= n) {
      acc0 += V::load(p + i) * V::load(q + i);
      i += W;
    }
    float s = V::sum(acc0 + acc1);
    for (; i < n; i++) s += p[i] * q[i];
    return s;
  }

  static TESSERA_INLINE void run(const CsrView* pa, const float* x, const float* y, int64_t H, int64_t F, float* out,
                                 int64_t r0, int64_t r1) {
    const CsrView& a = *pa;
    for (int64_t r = r0; r < r1; r++)
      for (int64_t e = a.row_ptr[r]; e < a.row_ptr[r + 1]; e++)
        for (int64_t h = 0; h < H; h++)
          out[e * H + h] = dot(x + (r * H + h) * F, y + (a.col_idx[e] * H + h) * F, F);
  }
};

Napi::Value Sddmm(const Napi::CallbackInfo& info) {
  const char* kernel = "sddmm";
  const CsrView a = csr_arg(info, 0, kernel);
  const int64_t H = size_arg(info, 6, kernel, "H"), F = size_arg(info, 7, kernel, "F");
  Span<float> x = f32_arg(info, 8, kernel, "x");
  Span<float> y = f32_arg(info, 9, kernel, "y");
  Span<float> out = f32_arg(info, 10, kernel, "out");
  require_length(kernel, "x", x.size, checked_product({a.rows, H, F}, kernel));
  require_length(kernel, "y", y.size, checked_product({a.cols, H, F}, kernel));
  require_length(kernel, "out", out.size, checked_product({a.nnz, H}, kernel));
  if (H == 0) return info.Env().Undefined();
  for_balanced_rows(a, H * std::max<int64_t>(F, 1), [&](int64_t r0, int64_t r1) {
    simd_dispatch<SddmmRows>(&a, x.data, y.data, H, F, out.data, r0, r1);
  });
  return info.Env().Undefined();
}

// ----------------------------------------------------------- edge softmax

/** Per row and head, over that row's edges: out = exp(s - max) / sum exp(s - max).
 *  Scalar: rows are short and the heads of an edge are interleaved ([nnz, H]). */
Napi::Value EdgeSoftmax(const Napi::CallbackInfo& info) {
  const char* kernel = "edgeSoftmax";
  const CsrView a = csr_arg(info, 0, kernel);
  const int64_t H = size_arg(info, 6, kernel, "H");
  Span<float> scores = f32_arg(info, 7, kernel, "scores");
  Span<float> out = f32_arg(info, 8, kernel, "out");
  const int64_t size = checked_product({a.nnz, H}, kernel);
  require_length(kernel, "scores", scores.size, size);
  require_length(kernel, "out", out.size, size);
  const float* s = scores.data;
  float* y = out.data;
  for_balanced_rows(a, 4 * H, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t e0 = a.row_ptr[r], e1 = a.row_ptr[r + 1];
      for (int64_t h = 0; h < H; h++) {
        float mx = -INFINITY;
        for (int64_t e = e0; e < e1; e++) mx = std::max(mx, s[e * H + h]);
        float sum = 0.f;
        for (int64_t e = e0; e < e1; e++) {
          const float v = std::exp(s[e * H + h] - mx);
          y[e * H + h] = v;
          sum += v;
        }
        const float inv = 1.f / sum;
        for (int64_t e = e0; e < e1; e++) y[e * H + h] *= inv;
      }
    }
  });
  return info.Env().Undefined();
}

/** gradScores = y * (g - sum_row(y * g)), per head. */
Napi::Value EdgeSoftmaxBackward(const Napi::CallbackInfo& info) {
  const char* kernel = "edgeSoftmaxBackward";
  const CsrView a = csr_arg(info, 0, kernel);
  const int64_t H = size_arg(info, 6, kernel, "H");
  Span<float> ys = f32_arg(info, 7, kernel, "y");
  Span<float> gs = f32_arg(info, 8, kernel, "g");
  Span<float> out = f32_arg(info, 9, kernel, "out");
  const int64_t size = checked_product({a.nnz, H}, kernel);
  require_length(kernel, "y", ys.size, size);
  require_length(kernel, "g", gs.size, size);
  require_length(kernel, "out", out.size, size);
  const float *y = ys.data, *g = gs.data;
  float* gx = out.data;
  for_balanced_rows(a, 2 * H, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t e0 = a.row_ptr[r], e1 = a.row_ptr[r + 1];
      for (int64_t h = 0; h < H; h++) {
        float dot = 0.f;
        for (int64_t e = e0; e < e1; e++) dot += y[e * H + h] * g[e * H + h];
        for (int64_t e = e0; e < e1; e++) gx[e * H + h] = y[e * H + h] * (g[e * H + h] - dot);
      }
    }
  });
  return info.Env().Undefined();
}

void InitSparse(Napi::Env env, Napi::Object exports) {
  exports.Set("spmm", Napi::Function::New(env, Spmm, "spmm"));
  exports.Set("sddmm", Napi::Function::New(env, Sddmm, "sddmm"));
  exports.Set("edgeSoftmax", Napi::Function::New(env, EdgeSoftmax, "edgeSoftmax"));
  exports.Set("edgeSoftmaxBackward", Napi::Function::New(env, EdgeSoftmaxBackward, "edgeSoftmaxBackward"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(sparse, InitSparse);

}  // namespace tessera
