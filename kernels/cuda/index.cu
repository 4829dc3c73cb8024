// Copy/cast and where (functors of the map kernel), index validation,
// gather, and scatterAdd with atomics.
#include <initializer_list>

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


// Operands of `it`: 0 = x, 1 = the region of out it goes to.
template <class Lin, class Off>
__global__ void __launch_bounds__(kIndexThreads)
    copy_into_kernel(const uint32_t* x, StridedOffsets<2> it, uint32_t* out, CastFn cast) {
  for (int64_t i = int64_t(blockIdx.x) * kIndexThreads + threadIdx.x; i < it.numel;
       i += int64_t(gridDim.x) * kIndexThreads) {
    Off off[2];
    it.template offsets<Lin, Off>(static_cast<Lin>(i), off);
    out[off[1]] = cast(x[off[0]]);
  }
}

cudaError_t copy(const void* x, int x_dtype, const tsr_view& xv, void* out, int out_dtype, const tsr_view* outv,
                 cudaStream_t s) {
  const CastFn cast{x_dtype == TSR_INT32, out_dtype == TSR_INT32};
  if (outv) {
    const int64_t* strides[2] = {xv.strides, outv->strides};
    const auto it = make_offsets<2>(xv.shape, static_cast<int>(xv.rank), strides);
    const uint32_t* in = words_at(x, xv);
    uint32_t* dst = static_cast<uint32_t*>(out) + outv->offset;
    return launch_indexed(it.numel, it.wide, s, [&](unsigned blocks, cudaStream_t st, auto* lin, auto* off) {
      using Lin = std::remove_pointer_t<decltype(lin)>;
      using Off = std::remove_pointer_t<decltype(off)>;
      copy_into_kernel<Lin, Off><<<blocks, kIndexThreads, 0, st>>>(in, it, dst, cast);
    });
  }
  const tsr_view* views[1] = {&xv};
  const uint32_t* in[1] = {words_at(x, xv)};
  return launch_map<1>(view_offsets<1>(views, xv), in, static_cast<uint32_t*>(out), cast, s);
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

// ---- argument checks of the C ABI ----

// Every view valid (rank, extents). Empty string when valid.
std::string views_problem(std::initializer_list<const tsr_view*> views) {
  for (const tsr_view* v : views) {
    std::string why = view_problem(v);
    if (!why.empty()) return why;
  }
  return "";
}

// Known dtypes, all equal. Empty string when valid.
std::string same_dtype_problem(std::initializer_list<int64_t> dtypes) {
  for (int64_t d : dtypes)
    if (!valid_dtype(d)) return "unknown dtype " + std::to_string(d);
  for (int64_t d : dtypes)
    if (d != *dtypes.begin()) return std::string("dtypes differ (") + dtype_name(*dtypes.begin()) + " and " + dtype_name(d) + ")";
  return "";
}

// The index view and the data view have one rank, and off the indexed axis
// the index view stays inside the data's extents (so every data access is
// inside the data view).
std::string indexed_problem(const tsr_view& data, const tsr_view& idx, int64_t axis, const char* data_name) {
  if (data.rank != idx.rank)
    return std::string(data_name) + " " + view_string(data) + " and index " + view_string(idx) + " differ in rank";
  if (axis < 0 || axis >= data.rank) return "axis " + std::to_string(axis) + " outside the rank";
  for (int64_t d = 0; d < data.rank; ++d)
    if (d != axis && idx.shape[d] > data.shape[d])
      return "index shape " + shape_string(idx.shape, idx.rank) + " exceeds " + data_name + " shape " +
             shape_string(data.shape, data.rank) + " on axis " + std::to_string(d);
  return "";
}

// The dense view of scatter_add's output (its strides are not used).
std::string out_view(const int64_t* out_shape, int64_t rank, tsr_view* ov) {
  if (rank < 0 || rank > TSR_MAX_DIMS || (rank > 0 && !out_shape)) return "out rank " + std::to_string(rank) + " outside [0, 8]";
  *ov = tsr_view{};
  ov->rank = rank;
  for (int64_t d = 0; d < rank; ++d) ov->shape[d] = out_shape[d];
  return view_problem(ov);
}

}  // namespace
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

extern "C" {

int tsr_cuda_copy(const void* x, int64_t x_dtype, const tsr_view* xv, void* out, int64_t out_dtype,
                  const tsr_view* outv, void* stream) {
  return guarded("copy", [&]() -> int {
    if (!valid_dtype(x_dtype) || !valid_dtype(out_dtype)) return invalid("copy", "unknown dtype");
    const std::string why = view_problem(xv);
    if (!why.empty()) return invalid("copy", "x: " + why);
    if (outv) {
      const std::string out_why = view_problem(outv);
      if (!out_why.empty()) return invalid("copy", "out: " + out_why);
      bool same_shape = outv->rank == xv->rank;
      for (int64_t d = 0; same_shape && d < xv->rank; ++d) same_shape = outv->shape[d] == xv->shape[d];
      if (!same_shape) return invalid("copy", "out region " + view_string(*outv) + " differs in shape from x " + view_string(*xv));
    }
    if (view_elements(*xv) > 0 && (!x || !out)) return invalid("copy", "null pointer");
    return check("copy", std::string(dtype_name(x_dtype)) + " " + view_string(*xv) + " to " + dtype_name(out_dtype),
                 copy(x, int(x_dtype), *xv, out, int(out_dtype), outv, as_stream(stream)));
  });
}

int tsr_cuda_where(const void* cond, int64_t cond_dtype, const tsr_view* cv, const void* a, int64_t a_dtype,
                   const tsr_view* av, const void* b, int64_t b_dtype, const tsr_view* bv, void* out,
                   int64_t out_dtype, void* stream) {
  return guarded("where", [&]() -> int {
    std::string why = valid_dtype(cond_dtype) ? same_dtype_problem({a_dtype, b_dtype, out_dtype}) : "unknown dtype";
    if (why.empty()) why = views_problem({cv, av, bv});
    if (why.empty() && (!same_shape(*cv, *av) || !same_shape(*cv, *bv)))
      why = "cond " + view_string(*cv) + ", a " + view_string(*av) + ", b " + view_string(*bv) + " differ in shape";
    if (!why.empty()) return invalid("where", why);
    if (view_elements(*cv) > 0 && (!cond || !a || !b || !out)) return invalid("where", "null pointer");
    return check("where", "cond " + view_string(*cv),
                 where(cond, int(cond_dtype), *cv, a, *av, b, *bv, out, as_stream(stream)));
  });
}

int tsr_cuda_check_indices(const int32_t* idx, const tsr_view* iv, const tsr_view* data, int64_t axis,
                           int64_t* bad_value, int64_t* bad_position, void* stream) {
  return guarded("check_indices", [&]() -> int {
    std::string why = views_problem({iv, data});
    if (why.empty()) why = indexed_problem(*data, *iv, axis, "data");
    if (!why.empty()) return invalid("check_indices", why);
    if (view_elements(*iv) > 0 && !idx) return invalid("check_indices", "idx is null");
    const int64_t bound = data->shape[axis];
    bool found = false;
    int64_t value = 0, position = 0;
    if (int st = check("check_indices", "index " + view_string(*iv),
                       check_indices(idx, *iv, bound, &found, &value, &position, as_stream(stream))))
      return st;
    if (bad_value) *bad_value = found ? value : 0;
    if (bad_position) *bad_position = found ? position : -1;
    if (!found) return TSR_OK;
    return fail(TSR_INDEX_OUT_OF_RANGE, "cuda check_indices: index " + std::to_string(value) + " out of range [0, " +
                                            std::to_string(bound) + ") on axis " + std::to_string(axis) +
                                            " at element " + std::to_string(position));
  });
}

int tsr_cuda_gather(const void* x, int64_t x_dtype, const tsr_view* xv, int64_t axis, const int32_t* idx,
                    const tsr_view* iv, void* out, int64_t out_dtype, void* stream) {
  return guarded("gather", [&]() -> int {
    std::string why = same_dtype_problem({x_dtype, out_dtype});
    if (why.empty()) why = views_problem({xv, iv});
    if (why.empty()) why = indexed_problem(*xv, *iv, axis, "x");
    if (!why.empty()) return invalid("gather", why);
    if (view_elements(*iv) > 0 && (!x || !idx || !out)) return invalid("gather", "null pointer");
    return check("gather", "x " + view_string(*xv) + ", axis " + std::to_string(axis) + ", index " + view_string(*iv),
                 gather(x, *xv, int(axis), idx, *iv, out, as_stream(stream)));
  });
}

int tsr_cuda_scatter_add(void* out, int64_t out_dtype, const int64_t* out_shape, int64_t rank, int64_t axis,
                         const int32_t* idx, const tsr_view* iv, const void* src, int64_t src_dtype,
                         const tsr_view* sv, void* stream) {
  return guarded("scatter_add", [&]() -> int {
    tsr_view ov;
    std::string why = same_dtype_problem({out_dtype, src_dtype});
    if (why.empty()) why = out_view(out_shape, rank, &ov);
    if (why.empty()) why = views_problem({iv, sv});
    if (why.empty() && !same_shape(*iv, *sv))
      why = "index " + view_string(*iv) + " and src " + view_string(*sv) + " differ in shape";
    if (why.empty()) why = indexed_problem(ov, *sv, axis, "out");
    if (!why.empty()) return invalid("scatter_add", why);
    if (view_elements(*sv) > 0 && (!out || !idx || !src)) return invalid("scatter_add", "null pointer");
    return check("scatter_add", "out " + shape_string(out_shape, rank) + ", axis " + std::to_string(axis) + ", src " +
                                    view_string(*sv),
                 scatter_add(out, int(out_dtype), out_shape, int(rank), int(axis), idx, *iv, src, *sv,
                             as_stream(stream)));
  });
}

}  // extern "C"
