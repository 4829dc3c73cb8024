// C ABI of kernels/cuda/index.cu: copy/cast, where, index checks, gather, scatterAdd.
#include "native/cuda/launch_common.h"

using namespace tessera::cuda;

namespace {

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

}  // namespace

extern "C" {

int tsr_cuda_copy(const void* x, int64_t x_dtype, const tsr_view* xv, void* out, int64_t out_dtype, void* stream) {
  return guarded("copy", [&]() -> int {
    if (!valid_dtype(x_dtype) || !valid_dtype(out_dtype)) return invalid("copy", "unknown dtype");
    const std::string why = view_problem(xv);
    if (!why.empty()) return invalid("copy", "x: " + why);
    if (view_elements(*xv) > 0 && (!x || !out)) return invalid("copy", "null pointer");
    return check("copy", std::string(dtype_name(x_dtype)) + " " + view_string(*xv) + " to " + dtype_name(out_dtype),
                 copy(x, int(x_dtype), *xv, out, int(out_dtype), as_stream(stream)));
  });
}

int tsr_cuda_where(const void* cond, int64_t cond_dtype, const tsr_view* cv, const void* a, const tsr_view* av,
                   const void* b, const tsr_view* bv, void* out, int64_t dtype, void* stream) {
  return guarded("where", [&]() -> int {
    if (!valid_dtype(cond_dtype) || !valid_dtype(dtype)) return invalid("where", "unknown dtype");
    for (const tsr_view* v : {cv, av, bv}) {
      const std::string why = view_problem(v);
      if (!why.empty()) return invalid("where", why);
    }
    if (!same_shape(*cv, *av) || !same_shape(*cv, *bv))
      return invalid("where", "cond " + view_string(*cv) + ", a " + view_string(*av) + ", b " + view_string(*bv) +
                                  " differ in shape");
    if (view_elements(*cv) > 0 && (!cond || !a || !b || !out)) return invalid("where", "null pointer");
    return check("where", "cond " + view_string(*cv),
                 where(cond, int(cond_dtype), *cv, a, *av, b, *bv, out, as_stream(stream)));
  });
}

int tsr_cuda_check_indices(const int32_t* idx, const tsr_view* iv, int64_t bound, int64_t* bad_value,
                           int64_t* bad_position, void* stream) {
  return guarded("check_indices", [&]() -> int {
    const std::string why = view_problem(iv);
    if (!why.empty()) return invalid("check_indices", why);
    if (view_elements(*iv) > 0 && !idx) return invalid("check_indices", "idx is null");
    bool found = false;
    int64_t value = 0, position = 0;
    if (int st = check("check_indices", "index " + view_string(*iv),
                       check_indices(idx, *iv, bound, &found, &value, &position, as_stream(stream))))
      return st;
    if (bad_value) *bad_value = found ? value : 0;
    if (bad_position) *bad_position = found ? position : -1;
    if (!found) return TSR_OK;
    return fail(TSR_INDEX_OUT_OF_RANGE, "index " + std::to_string(value) + " out of range [0, " +
                                            std::to_string(bound) + ") at element " + std::to_string(position));
  });
}

int tsr_cuda_gather(const void* x, const tsr_view* xv, int64_t axis, const int32_t* idx, const tsr_view* iv, void* out,
                    void* stream) {
  return guarded("gather", [&]() -> int {
    std::string why = view_problem(xv);
    if (why.empty()) why = view_problem(iv);
    if (why.empty()) why = indexed_problem(*xv, *iv, axis, "x");
    if (!why.empty()) return invalid("gather", why);
    if (view_elements(*iv) > 0 && (!x || !idx || !out)) return invalid("gather", "null pointer");
    return check("gather", "x " + view_string(*xv) + ", axis " + std::to_string(axis) + ", index " + view_string(*iv),
                 gather(x, *xv, int(axis), idx, *iv, out, as_stream(stream)));
  });
}

int tsr_cuda_scatter_add(void* out, int64_t dtype, const int64_t* out_shape, int64_t rank, int64_t axis,
                         const int32_t* idx, const tsr_view* iv, const void* src, const tsr_view* sv, void* stream) {
  return guarded("scatter_add", [&]() -> int {
    if (!valid_dtype(dtype)) return invalid("scatter_add", "unknown dtype");
    if (rank < 0 || rank > TSR_MAX_DIMS || (rank > 0 && !out_shape)) return invalid("scatter_add", "bad out rank");
    tsr_view ov{};
    ov.rank = rank;
    for (int64_t d = 0; d < rank; ++d) ov.shape[d] = out_shape[d];
    std::string why = view_problem(&ov);
    if (why.empty()) why = view_problem(iv);
    if (why.empty()) why = view_problem(sv);
    if (why.empty() && !same_shape(*iv, *sv))
      why = "index " + view_string(*iv) + " and src " + view_string(*sv) + " differ in shape";
    if (why.empty()) why = indexed_problem(ov, *sv, axis, "out");
    if (!why.empty()) return invalid("scatter_add", why);
    if (view_elements(*sv) > 0 && (!out || !idx || !src)) return invalid("scatter_add", "null pointer");
    return check("scatter_add", "out " + shape_string(out_shape, rank) + ", axis " + std::to_string(axis) + ", src " +
                                    view_string(*sv),
                 scatter_add(out, int(dtype), out_shape, int(rank), int(axis), idx, *iv, src, *sv, as_stream(stream)));
  });
}

}  // extern "C"
