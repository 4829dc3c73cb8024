// Reductions over the middle axis of a dense [outer, size, inner] tensor.
// inner == 1: rows are contiguous; a warp (short rows) or a block reduces a
// row, with warp shuffles first and shared memory across warps. inner > 1:
// threads of a warp take adjacent columns (coalesced) and the warps of a
// block split the reduced axis. Few outputs and long rows: the reduced axis
// is also split across blocks, and a second kernel combines the partials.
#include <algorithm>

#include "kernels/cuda/common.cuh"

namespace tessera::cuda {
namespace {

// Accumulated in float64 (exact for int32 inputs, and sums of float32 lose
// nothing that a float32 reference would keep). `index` is used by
// max/min/argmax/argmin; ties resolve to the lowest index and NaN wins,
// which reproduces a sequential scan that keeps the first NaN or the first
// strict improvement.
struct State {
  double value;
  int32_t index;
};

__host__ __device__ constexpr bool is_max(int op) { return op == TSR_MAX || op == TSR_ARGMAX; }
__host__ __device__ constexpr bool is_arg(int op) { return op == TSR_ARGMAX || op == TSR_ARGMIN; }

template <int OP>
struct Reducer {
  __device__ static State init() {
    if constexpr (OP == TSR_SUM) return {0.0, INT_MAX};
    else if constexpr (OP == TSR_PROD) return {1.0, INT_MAX};
    else return {is_max(OP) ? -HUGE_VAL : HUGE_VAL, INT_MAX};
  }
  // Whether b should replace a.
  __device__ static bool better(const State& b, const State& a) {
    const bool bn = isnan(b.value), an = isnan(a.value);
    if (bn || an) return bn && (!an || b.index < a.index);
    if (b.value == a.value) return b.index < a.index;
    return is_max(OP) ? b.value > a.value : b.value < a.value;
  }
  __device__ static State combine(const State& a, const State& b) {
    if constexpr (OP == TSR_SUM) return {a.value + b.value, INT_MAX};
    else if constexpr (OP == TSR_PROD) return {a.value * b.value, INT_MAX};
    else return better(b, a) ? b : a;
  }
  __device__ static uint32_t result(const State& s, bool out_int) {
    if constexpr (is_arg(OP)) {
      const int32_t i = s.index == INT_MAX ? 0 : s.index;  // empty axis: 0, as the reference
      return out_int ? as_word(i) : as_word(static_cast<float>(i));
    } else {
      return out_int ? as_word(to_int32(s.value)) : as_word(static_cast<float>(s.value));
    }
  }
};

__device__ __forceinline__ double load_value(const uint32_t* x, int64_t i, bool x_int) {
  const uint32_t w = x[i];
  return x_int ? double(as_int(w)) : double(as_float(w));
}

template <int OP>
__device__ __forceinline__ State warp_combine(State s) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) {
    const State o{__shfl_xor_sync(0xffffffffu, s.value, m), __shfl_xor_sync(0xffffffffu, s.index, m)};
    s = Reducer<OP>::combine(s, o);
  }
  return s;
}

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kUnroll = 4;

struct Geometry {
  const uint32_t* x;
  bool x_int, out_int;
  int64_t outer, size, inner;
  int64_t chunk_len;  // elements of the reduced axis per block
  State* partial;     // [outputs][chunks] when the axis is split, else null
  uint32_t* out;
};

// Writes a finished group's state: a partial, or the output.
template <int OP>
__device__ __forceinline__ void emit(const Geometry& g, int64_t output, const State& s) {
  if (g.partial) g.partial[output * gridDim.y + blockIdx.y] = s;
  else g.out[output] = Reducer<OP>::result(s, g.out_int);
}

// inner == 1. kGroup threads (a warp, or the whole block) per row.
template <int OP, int kGroup>
__global__ void __launch_bounds__(kThreads) reduce_rows_kernel(Geometry g) {
  const int64_t row = kGroup == 32 ? int64_t(blockIdx.x) * kWarps + threadIdx.x / 32 : blockIdx.x;
  const int lane = kGroup == 32 ? threadIdx.x % 32 : threadIdx.x;
  if (row >= g.outer) return;  // whole warps only: the shuffles below stay full
  const int64_t begin = int64_t(blockIdx.y) * g.chunk_len;
  const int64_t end = imin(g.size, begin + g.chunk_len);
  const uint32_t* x = g.x + row * g.size;
  State s = Reducer<OP>::init();
  for (int64_t r = begin + lane; r < end; r += int64_t(kGroup) * kUnroll) {
    double v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = r + int64_t(u) * kGroup;
      v[u] = i < end ? load_value(x, i, g.x_int) : 0.0;
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = r + int64_t(u) * kGroup;
      if (i < end) s = Reducer<OP>::combine(s, State{v[u], static_cast<int32_t>(i)});
    }
  }
  s = warp_combine<OP>(s);
  if constexpr (kGroup > 32) {
    __shared__ State warp_states[kWarps];
    if (lane % 32 == 0) warp_states[lane / 32] = s;
    __syncthreads();
    if (lane >= 32) return;
    s = warp_combine<OP>(lane < kWarps ? warp_states[lane] : Reducer<OP>::init());
  }
  if (lane == 0) emit<OP>(g, row, s);
}

// inner > 1. Block (32, kWarps): x over 32 adjacent columns, y over the axis.
template <int OP>
__global__ void __launch_bounds__(kThreads) reduce_cols_kernel(Geometry g) {
  const int64_t col_blocks = ceil_div(g.inner, 32);
  const int64_t o = blockIdx.x / col_blocks;
  const int64_t col = (blockIdx.x % col_blocks) * 32 + threadIdx.x;
  const int64_t begin = int64_t(blockIdx.y) * g.chunk_len;
  const int64_t end = imin(g.size, begin + g.chunk_len);
  State s = Reducer<OP>::init();
  if (col < g.inner) {
    const uint32_t* x = g.x + o * g.size * g.inner + col;
    for (int64_t r = begin + threadIdx.y; r < end; r += kWarps * kUnroll) {
      double v[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int64_t i = r + int64_t(u) * kWarps;
        v[u] = i < end ? load_value(x, i * g.inner, g.x_int) : 0.0;
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int64_t i = r + int64_t(u) * kWarps;
        if (i < end) s = Reducer<OP>::combine(s, State{v[u], static_cast<int32_t>(i)});
      }
    }
  }
  __shared__ State states[kWarps][33];  // +1: the column-wise reads below hit distinct banks
  states[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y != 0 || col >= g.inner) return;
#pragma unroll
  for (int y = 1; y < kWarps; ++y) s = Reducer<OP>::combine(s, states[y][threadIdx.x]);
  emit<OP>(g, o * g.inner + col, s);
}

// One warp per output combines its `chunks` partial states.
template <int OP>
__global__ void __launch_bounds__(kThreads)
    reduce_partials_kernel(const State* partial, int64_t outputs, int64_t chunks, uint32_t* out, bool out_int) {
  const int64_t o = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (o >= outputs) return;
  State s = Reducer<OP>::init();
  for (int64_t c = lane; c < chunks; c += 32) s = Reducer<OP>::combine(s, partial[o * chunks + c]);
  s = warp_combine<OP>(s);
  if (lane == 0) out[o] = Reducer<OP>::result(s, out_int);
}

// Splits the reduced axis across blocks only when the other blocks would
// leave the GPU idle, and never into chunks shorter than min_chunk.
int64_t choose_chunks(int64_t blocks, int64_t size, int64_t min_chunk) {
  const int64_t wanted = 4 * int64_t(multiprocessor_count());
  if (blocks >= wanted) return 1;
  const int64_t chunks = std::min(ceil_div(wanted, blocks), ceil_div(size, min_chunk));
  return std::clamp<int64_t>(chunks, 1, 65535);
}

template <int OP>
cudaError_t reduce_op(Geometry g, cudaStream_t s) {
  const int64_t outputs = g.outer * g.inner;
  dim3 grid;
  bool rows_by_warp = false;
  if (g.inner == 1) {
    rows_by_warp = g.size <= 1024;
    grid.x = static_cast<unsigned>(rows_by_warp ? ceil_div(g.outer, kWarps) : g.outer);
  } else {
    grid.x = static_cast<unsigned>(g.outer * ceil_div(g.inner, 32));
  }
  const int64_t chunks = rows_by_warp ? 1 : choose_chunks(grid.x, g.size, g.inner == 1 ? 16 * kThreads : 64);
  grid.y = static_cast<unsigned>(chunks);
  g.chunk_len = ceil_div(g.size, chunks);
  Scratch partial(chunks > 1 ? size_t(outputs) * chunks * sizeof(State) : 0, s);
  if (chunks > 1) {
    if (partial.status() != cudaSuccess) return partial.status();
    g.partial = static_cast<State*>(partial.get());
  }
  if (g.inner > 1) reduce_cols_kernel<OP><<<grid, dim3(32, kWarps), 0, s>>>(g);
  else if (rows_by_warp) reduce_rows_kernel<OP, 32><<<grid, kThreads, 0, s>>>(g);
  else reduce_rows_kernel<OP, kThreads><<<grid, kThreads, 0, s>>>(g);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess || chunks == 1) return err;
  reduce_partials_kernel<OP><<<static_cast<unsigned>(ceil_div(outputs, kWarps)), kThreads, 0, s>>>(
      g.partial, outputs, chunks, g.out, g.out_int);
  return cudaGetLastError();
}


cudaError_t reduce(int op, const void* x, int x_dtype, int64_t outer, int64_t size, int64_t inner, void* out,
                   int out_dtype, cudaStream_t s) {
  if (outer * inner == 0) return cudaSuccess;
  Geometry g{static_cast<const uint32_t*>(x), x_dtype == TSR_INT32, out_dtype == TSR_INT32, outer, size, inner,
             0, nullptr, static_cast<uint32_t*>(out)};
  cudaError_t err = cudaErrorInvalidValue;
  dispatch_op<TSR_REDUCE_OP_COUNT>(op, [&](auto k) { err = reduce_op<decltype(k)::value>(g, s); });
  return err;
}

}  // namespace
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

extern "C" int tsr_cuda_reduce(int64_t op, const void* x, int64_t x_dtype, int64_t outer, int64_t size, int64_t inner,
                               void* out, int64_t out_dtype, void* stream) {
  return guarded("reduce", [&]() -> int {
    const std::string dims = "[" + std::to_string(outer) + ", " + std::to_string(size) + ", " + std::to_string(inner) + "]";
    if (op < 0 || op >= TSR_REDUCE_OP_COUNT) return invalid("reduce", "unknown op " + std::to_string(op));
    if (!valid_dtype(x_dtype) || !valid_dtype(out_dtype)) return invalid("reduce", "unknown dtype");
    if (outer < 0 || size < 0 || inner < 0) return invalid("reduce", "negative extent in " + dims);
    // argmax/argmin indices are int32, as is every reduced position.
    if (size > INT32_MAX) return invalid("reduce", "reduced axis of " + dims + " has 2^31 or more elements");
    if (outer * inner > 0 && (!out || (size > 0 && !x))) return invalid("reduce", "null pointer");
    return check("reduce", "op " + std::to_string(op) + " over " + dims,
                 reduce(int(op), x, int(x_dtype), outer, size, inner, out, int(out_dtype), as_stream(stream)));
  });
}
