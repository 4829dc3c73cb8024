// Copy/cast and where (functors of the map kernel), index validation,
// gather, and scatterAdd with atomics.
#include "kernels/cuda/elementwise.cuh"

namespace tessera::cuda {
namespace {

struct CastFn {
  bool in_int, out_int;
  __device__ uint32_t operator()(uint32_t w) const {
    if (in_int == out_int) return w;
    return out_int ? as_word(to_int32(as_float(w))) : as_word(static_cast<float>(as_int(w)));
  }
};

// Nonzero is true; NaN is nonzero (as `x !== 0` in JavaScript).
struct WhereFn {
  bool cond_int;
  __device__ uint32_t operator()(uint32_t c, uint32_t a, uint32_t b) const {
    const bool take_a = cond_int ? c != 0u : as_float(c) != 0.0f;
    return take_a ? a : b;
  }
};

constexpr int kIndexThreads = 256;

template <class Lin, class Off>
__global__ void __launch_bounds__(kIndexThreads)
    check_indices_kernel(const int32_t* idx, StridedOffsets<1> it, int64_t bound, unsigned long long* first_bad) {
  for (int64_t i = int64_t(blockIdx.x) * kIndexThreads + threadIdx.x; i < it.numel;
       i += int64_t(gridDim.x) * kIndexThreads) {
    Off off[1];
    it.template offsets<Lin, Off>(static_cast<Lin>(i), off);
    const int32_t j = idx[off[0]];
    if (j < 0 || j >= bound) atomicMin(first_bad, static_cast<unsigned long long>(i));
  }
}

// Operands of `it`: 0 = idx, 1 = x with its `axis` stride zeroed.
template <class Lin, class Off>
__global__ void __launch_bounds__(kIndexThreads)
    gather_kernel(const uint32_t* x, int64_t x_axis_stride, int64_t x_axis_extent, const int32_t* idx,
                  StridedOffsets<2> it, uint32_t* out) {
  for (int64_t i = int64_t(blockIdx.x) * kIndexThreads + threadIdx.x; i < it.numel;
       i += int64_t(gridDim.x) * kIndexThreads) {
    Off off[2];
    it.template offsets<Lin, Off>(static_cast<Lin>(i), off);
    const int32_t j = idx[off[0]];
    out[i] = (j >= 0 && j < x_axis_extent) ? x[off[1] + int64_t(j) * x_axis_stride] : 0u;
  }
}

// Operands of `it`: 0 = idx, 1 = src, 2 = out (dense) with its axis stride zeroed.
template <class T, class Lin, class Off>
__global__ void __launch_bounds__(kIndexThreads)
    scatter_add_kernel(T* out, int64_t out_axis_stride, int64_t out_axis_extent, const int32_t* idx, const T* src,
                       StridedOffsets<3> it) {
  for (int64_t i = int64_t(blockIdx.x) * kIndexThreads + threadIdx.x; i < it.numel;
       i += int64_t(gridDim.x) * kIndexThreads) {
    Off off[3];
    it.template offsets<Lin, Off>(static_cast<Lin>(i), off);
    const int32_t j = idx[off[0]];
    if (j >= 0 && j < out_axis_extent) atomicAdd(out + off[2] + int64_t(j) * out_axis_stride, src[off[1]]);
  }
}

// Launches a grid-stride kernel over `numel` items with 32- or 64-bit
// index math; `launch` receives the two types as a tag.
template <class Launch>
cudaError_t launch_indexed(int64_t numel, bool wide, cudaStream_t s, Launch launch) {
  if (numel == 0) return cudaSuccess;
  const unsigned blocks = blocks_for(numel, kIndexThreads);
  if (wide) launch(blocks, s, static_cast<uint64_t*>(nullptr), static_cast<int64_t*>(nullptr));
  else launch(blocks, s, static_cast<uint32_t*>(nullptr), static_cast<int32_t*>(nullptr));
  return cudaGetLastError();
}

}  // namespace

cudaError_t copy(const void* x, int x_dtype, const tsr_view& xv, void* out, int out_dtype, cudaStream_t s) {
  const tsr_view* views[1] = {&xv};
  const uint32_t* in[1] = {words_at(x, xv)};
  return launch_map<1>(view_offsets<1>(views, xv), in, static_cast<uint32_t*>(out),
                       CastFn{x_dtype == TSR_INT32, out_dtype == TSR_INT32}, s);
}

cudaError_t where(const void* cond, int cond_dtype, const tsr_view& cv, const void* a, const tsr_view& av,
                  const void* b, const tsr_view& bv, void* out, cudaStream_t s) {
  const tsr_view* views[3] = {&cv, &av, &bv};
  const uint32_t* in[3] = {words_at(cond, cv), words_at(a, av), words_at(b, bv)};
  return launch_map<3>(view_offsets<3>(views, cv), in, static_cast<uint32_t*>(out),
                       WhereFn{cond_dtype == TSR_INT32}, s);
}

cudaError_t check_indices(const int32_t* idx, const tsr_view& iv, int64_t bound, bool* found, int64_t* bad_value,
                          int64_t* bad_position, cudaStream_t s) {
  *found = false;
  const int64_t* strides[1] = {iv.strides};
  const auto it = make_offsets<1>(iv.shape, static_cast<int>(iv.rank), strides);
  if (it.numel == 0) return cudaSuccess;
  Scratch flag(sizeof(unsigned long long), s);
  if (flag.status() != cudaSuccess) return flag.status();
  auto* first_bad = static_cast<unsigned long long*>(flag.get());
  cudaError_t err = cudaMemsetAsync(first_bad, 0xff, sizeof(unsigned long long), s);
  if (err != cudaSuccess) return err;
  const int32_t* base = idx + iv.offset;
  err = launch_indexed(it.numel, it.wide, s, [&](unsigned blocks, cudaStream_t st, auto* lin, auto* off) {
    using Lin = std::remove_pointer_t<decltype(lin)>;
    using Off = std::remove_pointer_t<decltype(off)>;
    check_indices_kernel<Lin, Off><<<blocks, kIndexThreads, 0, st>>>(base, it, bound, first_bad);
  });
  if (err != cudaSuccess) return err;
  unsigned long long pos = 0;
  if ((err = read_back(&pos, first_bad, sizeof pos, s)) != cudaSuccess) return err;
  if (pos == ~0ull) return cudaSuccess;
  // Offset of the offending element, computed here from the original view.
  int64_t off = 0, rest = static_cast<int64_t>(pos);
  for (int d = static_cast<int>(iv.rank) - 1; d >= 0; --d) {
    off += (rest % iv.shape[d]) * iv.strides[d];
    rest /= iv.shape[d];
  }
  int32_t value = 0;
  if ((err = read_back(&value, base + off, sizeof value, s)) != cudaSuccess) return err;
  *found = true;
  *bad_value = value;
  *bad_position = static_cast<int64_t>(pos);
  return cudaSuccess;
}

cudaError_t gather(const void* x, const tsr_view& xv, int axis, const int32_t* idx, const tsr_view& iv, void* out,
                   cudaStream_t s) {
  int64_t x_strides[kMaxDims];
  for (int d = 0; d < xv.rank; ++d) x_strides[d] = d == axis ? 0 : xv.strides[d];
  const int64_t* strides[2] = {iv.strides, x_strides};
  auto it = make_offsets<2>(iv.shape, static_cast<int>(iv.rank), strides);
  // The axis term is added in 64 bits; the rest must fit the narrow type.
  const uint32_t* xw = words_at(x, xv);
  const int32_t* ib = idx + iv.offset;
  const int64_t axis_stride = xv.strides[axis], axis_extent = xv.shape[axis];
  auto* o = static_cast<uint32_t*>(out);
  return launch_indexed(it.numel, it.wide, s, [&](unsigned blocks, cudaStream_t st, auto* lin, auto* off) {
    using Lin = std::remove_pointer_t<decltype(lin)>;
    using Off = std::remove_pointer_t<decltype(off)>;
    gather_kernel<Lin, Off><<<blocks, kIndexThreads, 0, st>>>(xw, axis_stride, axis_extent, ib, it, o);
  });
}

cudaError_t scatter_add(void* out, int dtype, const int64_t* out_shape, int rank, int axis, const int32_t* idx,
                        const tsr_view& iv, const void* src, const tsr_view& sv, cudaStream_t s) {
  int64_t out_strides[kMaxDims];
  int64_t step = 1;
  for (int d = rank - 1; d >= 0; --d) {
    out_strides[d] = d == axis ? 0 : step;
    step *= out_shape[d];
  }
  int64_t axis_stride = 1;
  for (int d = axis + 1; d < rank; ++d) axis_stride *= out_shape[d];
  const int64_t* strides[3] = {iv.strides, sv.strides, out_strides};
  auto it = make_offsets<3>(sv.shape, static_cast<int>(sv.rank), strides);
  it.wide = it.wide || step >= INT32_MAX;
  const int32_t* ib = idx + iv.offset;
  const int64_t extent = out_shape[axis];
  return launch_indexed(it.numel, it.wide, s, [&](unsigned blocks, cudaStream_t st, auto* lin, auto* off) {
    using Lin = std::remove_pointer_t<decltype(lin)>;
    using Off = std::remove_pointer_t<decltype(off)>;
    if (dtype == TSR_INT32) {
      scatter_add_kernel<int, Lin, Off><<<blocks, kIndexThreads, 0, st>>>(
          static_cast<int*>(out), axis_stride, extent, ib, static_cast<const int*>(src) + sv.offset, it);
    } else {
      scatter_add_kernel<float, Lin, Off><<<blocks, kIndexThreads, 0, st>>>(
          static_cast<float*>(out), axis_stride, extent, ib, static_cast<const float*>(src) + sv.offset, it);
    }
  });
}

}  // namespace tessera::cuda
