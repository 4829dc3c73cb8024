// Helpers shared by every kernel family: 4-byte words, strided offsets,
// warp reductions, launch sizes.
#pragma once

#include <cuda_runtime.h>
#include <cstdint>
#include <climits>
#include <type_traits>
#include <utility>

#include "kernels/cuda/runtime.h"

namespace tessera::cuda {

constexpr int kMaxDims = TSR_MAX_DIMS;

// Every dtype is 4 bytes, so generic data movement works on raw words and
// only the functors that do arithmetic look at the bits as float or int.
__device__ __forceinline__ float as_float(uint32_t w) { return __uint_as_float(w); }
__device__ __forceinline__ uint32_t as_word(float f) { return __float_as_uint(f); }
__device__ __forceinline__ int32_t as_int(uint32_t w) { return static_cast<int32_t>(w); }
__device__ __forceinline__ uint32_t as_word(int32_t i) { return static_cast<uint32_t>(i); }

// A 4-byte element read as a float: int32 values are converted.
__device__ __forceinline__ float word_to_float(uint32_t w, bool is_int) {
  return is_int ? static_cast<float>(as_int(w)) : as_float(w);
}

// A number stored into int32 the way an Int32Array store (ToInt32) does it:
// truncation toward zero, then wrap-around modulo 2^32; NaN and infinities
// become 0. The reference backend stores through Int32Array, so casts,
// int32 outputs of math and fills all follow this.
__device__ __forceinline__ int32_t to_int32(double r) {
  // Below 2^63 the int64 conversion truncates exactly and keeping the low
  // 32 bits is the wrap-around. At or above it (and for NaN/inf) every
  // double is a multiple of 2^32 or not finite: 0 either way.
  if (!(fabs(r) < 9223372036854775808.0)) return 0;
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(static_cast<int64_t>(r))));
}

__host__ __device__ constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
// min/max for one integer type on host and device (CUDA's overloads of
// min/max do not cover every spelling of int64_t).
template <class T>
__host__ __device__ constexpr T imin(T a, T b) { return a < b ? a : b; }
template <class T>
__host__ __device__ constexpr T imax(T a, T b) { return a < b ? b : a; }

// Offsets of up to N operands that share one iteration shape. The host
// merges dimensions that are contiguous for every operand and drops size-1
// dimensions, so most views reach the kernel with rank 0 (all dense) or 1.
template <int N>
struct StridedOffsets {
  int rank = 0;
  int64_t numel = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[N > 0 ? N : 1][kMaxDims] = {};
  bool dense = true;  // every operand is dense row-major: offset i is i
  bool wide = false;  // some offset or the element count needs 64 bits

  // Row-major linear index -> one element offset per operand. Lin is the
  // unsigned type of the linear index, Off the signed type of offsets
  // (strides may be negative).
  template <class Lin, class Off>
  __device__ __forceinline__ void offsets(Lin i, Off (&off)[N > 0 ? N : 1]) const {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = 0;
#pragma unroll
    for (int d = kMaxDims - 1; d >= 0; --d) {
      if (d >= rank) continue;
      const Lin extent = static_cast<Lin>(shape[d]);
      const Lin q = i / extent;
      const Off r = static_cast<Off>(i - q * extent);
      i = q;
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += r * static_cast<Off>(strides[k][d]);
    }
  }
};

// Builds StridedOffsets from views of one shape (their offsets are applied
// to the base pointers by the caller).
template <int N>
StridedOffsets<N> make_offsets(const int64_t* shape, int rank, const int64_t* const (&strides)[N > 0 ? N : 1]) {
  StridedOffsets<N> s;
  int64_t numel = 1;
  for (int d = 0; d < rank; ++d) numel *= shape[d];
  s.numel = numel;
  // Keep dimensions of extent > 1, merging a dimension into the previous
  // kept one when every operand steps through both as one.
  int r = 0;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] == 1) continue;
    bool merge = r > 0;
    for (int k = 0; k < N && merge; ++k) merge = s.strides[k][r - 1] == strides[k][d] * shape[d];
    if (merge) {
      s.shape[r - 1] *= shape[d];
      for (int k = 0; k < N; ++k) s.strides[k][r - 1] = strides[k][d];
    } else {
      s.shape[r] = shape[d];
      for (int k = 0; k < N; ++k) s.strides[k][r] = strides[k][d];
      ++r;
    }
  }
  s.rank = r;
  bool dense = r <= 1;
  for (int k = 0; k < N && dense; ++k) dense = r == 0 || s.strides[k][0] == 1;
  s.dense = dense;
  int64_t reach = numel;
  for (int k = 0; k < N; ++k) {
    int64_t span = 0;
    for (int d = 0; d < r; ++d) span += (s.shape[d] - 1) * (s.strides[k][d] < 0 ? -s.strides[k][d] : s.strides[k][d]);
    if (span > reach) reach = span;
  }
  s.wide = reach >= INT32_MAX;
  return s;
}

template <class T>
__device__ __forceinline__ T shfl_xor(T v, int mask) {
  return __shfl_xor_sync(0xffffffffu, v, mask);
}

// Butterfly reduction: every lane ends with the combination of all 32.
template <class T, class Combine>
__device__ __forceinline__ T warp_all_reduce(T v, Combine combine) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) v = combine(v, shfl_xor(v, m));
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
  return warp_all_reduce(v, [](float a, float b) { return a + b; });
}

// Blocks for a one-thread-per-item launch, capped so that grid-stride loops
// take over beyond a few waves.
inline unsigned blocks_for(int64_t items, int threads, int64_t cap = int64_t(1) << 20) {
  int64_t b = ceil_div(items, threads);
  if (b < 1) b = 1;
  return static_cast<unsigned>(b < cap ? b : cap);
}

// Calls f(std::integral_constant<int, op>{}) for a run-time op in
// [0, Count): turns an enum value into a template argument. Returns false
// for an op out of range.
template <class F, int... Ops>
bool dispatch_op_impl(int op, F& f, std::integer_sequence<int, Ops...>) {
  return ((op == Ops ? (f(std::integral_constant<int, Ops>{}), true) : false) || ...);
}
template <int Count, class F>
bool dispatch_op(int op, F&& f) {
  return dispatch_op_impl(op, f, std::make_integer_sequence<int, Count>{});
}

}  // namespace tessera::cuda
