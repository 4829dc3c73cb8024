// The one elementwise kernel: out[i] = fn(in_0[off_0(i)], ..., in_{N-1}[...])
// over 4-byte words, N <= 3 inputs broadcast through strides (0 strides
// included) up to 8 dimensions. Unary and binary math (elementwise.cu) and
// fill, copy/cast and where (index.cu) are functors plugged into it.
#pragma once

#include "kernels/cuda/common.cuh"

namespace tessera::cuda {

constexpr int kMapThreads = 256;
// Items per thread, loaded before any is used so that each thread keeps
// several 16-byte loads in flight (memory-bound code lives on that).
constexpr int kMapUnroll = 4;

template <int N>
struct MapArgs {
  static constexpr int kIn = N > 0 ? N : 1;
  StridedOffsets<N> idx;
  const uint32_t* in[kIn];  // view offsets already applied
  uint32_t* out;            // dense, idx.numel words
  bool vec4;                // dense and every pointer 16-byte aligned
};

template <int N, class Fn>
__device__ __forceinline__ uint32_t apply_words(const Fn& fn, const uint32_t (&w)[MapArgs<N>::kIn]) {
  if constexpr (N == 0) return fn();
  else if constexpr (N == 1) return fn(w[0]);
  else if constexpr (N == 2) return fn(w[0], w[1]);
  else return fn(w[0], w[1], w[2]);
}

__device__ __forceinline__ uint32_t lane_of(const uint4& v, int c) {
  return c == 0 ? v.x : c == 1 ? v.y : c == 2 ? v.z : v.w;
}

// Strided elements: each thread handles kMapUnroll elements kMapThreads
// apart, U of them at a time (the rare 64-bit path takes one at a time to
// keep the kernels small).
template <int N, int U, class Lin, class Off, class Fn>
__device__ __forceinline__ void map_strided(const MapArgs<N>& a, const Fn& fn, int64_t first) {
  constexpr int K = MapArgs<N>::kIn;
#pragma unroll 1
  for (int base = 0; base < kMapUnroll; base += U) {
    uint32_t w[U][K];
    int64_t at[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      at[u] = first + int64_t(base + u) * kMapThreads;
      if (at[u] >= a.idx.numel) continue;
      Off off[K];
      if (a.idx.dense) {
#pragma unroll
        for (int k = 0; k < K; ++k) off[k] = static_cast<Off>(at[u]);
      } else {
        a.idx.template offsets<Lin, Off>(static_cast<Lin>(at[u]), off);
      }
#pragma unroll
      for (int k = 0; k < N; ++k) w[u][k] = a.in[k][off[k]];
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      if (at[u] < a.idx.numel) a.out[at[u]] = apply_words<N>(fn, w[u]);
    }
  }
}

template <int N, class Fn>
__global__ void __launch_bounds__(kMapThreads) map_kernel(MapArgs<N> a, Fn fn) {
  constexpr int K = MapArgs<N>::kIn;
  const int64_t first = int64_t(blockIdx.x) * kMapThreads * kMapUnroll + threadIdx.x;
  if (!a.vec4) {
    if (a.idx.wide) map_strided<N, 1, uint64_t, int64_t>(a, fn, first);
    else map_strided<N, kMapUnroll, uint32_t, int32_t>(a, fn, first);
    return;
  }
  // Dense and aligned: 16-byte loads and stores, then a scalar tail.
  const int64_t n4 = a.idx.numel / 4;
  uint4 v[kMapUnroll][K];
#pragma unroll
  for (int u = 0; u < kMapUnroll; ++u) {
    const int64_t i = first + int64_t(u) * kMapThreads;
    if (i >= n4) continue;
#pragma unroll
    for (int k = 0; k < N; ++k) v[u][k] = reinterpret_cast<const uint4*>(a.in[k])[i];
  }
#pragma unroll
  for (int u = 0; u < kMapUnroll; ++u) {
    const int64_t i = first + int64_t(u) * kMapThreads;
    if (i >= n4) continue;
    uint32_t r[4];
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      uint32_t w[K];
#pragma unroll
      for (int k = 0; k < N; ++k) w[k] = lane_of(v[u][k], c);
      r[c] = apply_words<N>(fn, w);
    }
    reinterpret_cast<uint4*>(a.out)[i] = make_uint4(r[0], r[1], r[2], r[3]);
  }
  if (blockIdx.x == 0 && threadIdx.x < a.idx.numel - n4 * 4) {
    const int64_t i = n4 * 4 + threadIdx.x;
    uint32_t w[K];
#pragma unroll
    for (int k = 0; k < N; ++k) w[k] = a.in[k][i];
    a.out[i] = apply_words<N>(fn, w);
  }
}

// Offsets for views that all have `shape` (rank of the first view).
template <int N>
StridedOffsets<N> view_offsets(const tsr_view* const (&views)[MapArgs<N>::kIn], const tsr_view& shape_of) {
  const int64_t* strides[MapArgs<N>::kIn] = {};
  for (int k = 0; k < N; ++k) strides[k] = views[k]->strides;
  return make_offsets<N>(shape_of.shape, static_cast<int>(shape_of.rank), strides);
}

template <int N, class Fn>
cudaError_t launch_map(const StridedOffsets<N>& idx, const uint32_t* const (&in)[MapArgs<N>::kIn],
                       uint32_t* out, const Fn& fn, cudaStream_t s) {
  if (idx.numel == 0) return cudaSuccess;
  MapArgs<N> a;
  a.idx = idx;
  a.out = out;
  bool aligned = (reinterpret_cast<uintptr_t>(out) & 15) == 0;
  for (int k = 0; k < N; ++k) {
    a.in[k] = in[k];
    aligned = aligned && (reinterpret_cast<uintptr_t>(in[k]) & 15) == 0;
  }
  a.vec4 = idx.dense && aligned;
  const int64_t items = a.vec4 ? (idx.numel / 4 > 0 ? idx.numel / 4 : 1) : idx.numel;
  const int64_t blocks = ceil_div(items, int64_t(kMapThreads) * kMapUnroll);
  map_kernel<N, Fn><<<static_cast<unsigned>(blocks), kMapThreads, 0, s>>>(a, fn);
  return cudaGetLastError();
}

// A view's first element as a word pointer.
inline const uint32_t* words_at(const void* base, const tsr_view& v) {
  return static_cast<const uint32_t*>(base) + v.offset;
}

}  // namespace tessera::cuda
