// gather and scatterAdd along one axis with int32 indices. Indices are checked before use:
// an out-of-range index throws an Error naming the kernel, the index and the valid range.
#include <string>
#include <vector>

#include "families.h"
#include "strided.h"
#include "threadpool.h"

namespace tessera {
namespace {

[[noreturn]] void index_out_of_range(const char* kernel, int32_t j, int64_t n, int64_t axis) {
  fail(std::string(kernel) + ": index " + std::to_string(j) + " out of range [0, " + std::to_string(n) + ") on axis " +
       std::to_string(axis) + " (cpu)");
}

std::vector<int64_t> without_axis(std::vector<int64_t> v, int64_t axis) {
  v[axis] = 0;
  return v;
}

template <class T>
void gather_typed(const T* x, const std::vector<int64_t>& x_strides_no_axis, int64_t x_offset, int64_t x_axis_stride,
                  int64_t axis_size, int64_t axis, const int32_t* idx, const std::vector<int64_t>& idx_strides,
                  int64_t idx_offset, T* out, const std::vector<int64_t>& out_shape) {
  StridedLoop<2> loop(out_shape, {&idx_strides, &x_strides_no_axis}, {idx_offset, x_offset});
  const int64_t si = loop.inner_stride(0), sx = loop.inner_stride(1);
  parallel_for(loop.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
    loop.runs(begin, end, [&](const std::array<int64_t, 2>& off, int64_t pos, int64_t len) {
      for (int64_t t = 0; t < len; t++) {
        int32_t j = idx[off[0] + t * si];
        if (j < 0 || j >= axis_size) index_out_of_range("gather", j, axis_size, axis);
        out[pos + t] = x[off[1] + t * sx + j * x_axis_stride];
      }
    });
  });
}

// gather(x, xShape, xStrides, xOffset, axis, idx, idxStrides, idxOffset, out, outShape)
// out[..i..] = x[.. idx[..i..] on axis ..]; idx is a view of out's shape.
void Gather(const Napi::CallbackInfo& info) {
  const char* k = "gather";
  AnyArray x = any_array_arg(info, 0, k, "x");
  auto x_shape = int_list_arg(info, 1, k, "x shape");
  auto x_strides = int_list_arg(info, 2, k, "x strides");
  int64_t x_offset = int_arg(info, 3, k, "x offset");
  int64_t axis = int_arg(info, 4, k, "axis");
  Span<int32_t> idx = i32_arg(info, 5, k, "idx");
  auto idx_strides = int_list_arg(info, 6, k, "idx strides");
  int64_t idx_offset = int_arg(info, 7, k, "idx offset");
  AnyArray out = any_array_arg(info, 8, k, "out");
  auto out_shape = int_list_arg(info, 9, k, "out shape");
  const int64_t nd = static_cast<int64_t>(out_shape.size());
  if (static_cast<int64_t>(x_shape.size()) != nd || axis < 0 || axis >= nd) {
    fail("gather: x shape " + shape_text(x_shape) + ", out shape " + shape_text(out_shape) + " and axis " +
         std::to_string(axis) + " do not agree (cpu backend)");
  }
  for (int64_t d = 0; d < nd; d++)
    if (d != axis && out_shape[d] > x_shape[d])
      fail("gather: out shape " + shape_text(out_shape) + " exceeds x shape " + shape_text(x_shape) + " off axis " +
           std::to_string(axis) + " (cpu backend)");
  if (x.dtype != out.dtype) fail(std::string("gather: x is ") + dtype_name(x.dtype) + " but out is " + dtype_name(out.dtype) + " (cpu backend)");
  check_view(k, "x", x.size, x_shape, x_strides, x_offset);
  check_view(k, "idx", idx.size, out_shape, idx_strides, idx_offset);
  require_length(k, "out", out.size, shape_numel(k, out_shape));
  // Off the axis, x is read at out's position; along it, at the index (checked against x_shape[axis]),
  // so every read stays inside the view validated above.
  auto xs = without_axis(x_strides, axis);
  if (x.dtype == DType::f32)
    gather_typed(x.f32(), xs, x_offset, x_strides[axis], x_shape[axis], axis, idx.data, idx_strides, idx_offset, out.f32(), out_shape);
  else
    gather_typed(x.i32(), xs, x_offset, x_strides[axis], x_shape[axis], axis, idx.data, idx_strides, idx_offset, out.i32(), out_shape);
}

/** Walks src's shape as [outer, axis, inner] with threads split over (outer, inner) positions only:
 *  every element one position scatters to stays with one thread, so accumulation needs no atomics
 *  and its order (along the axis) is fixed. Calls fn(src offset, idx offset, out offset, length,
 *  src / idx / out strides along the run). */
template <class Fn>
void for_each_scatter_run(const std::vector<int64_t>& shape, int64_t axis, const std::vector<int64_t>& src_strides,
                          const std::vector<int64_t>& idx_strides, const std::vector<int64_t>& out_strides, Fn&& fn) {
  std::vector<int64_t> outer_shape(shape.begin(), shape.begin() + axis), inner_shape(shape.begin() + axis + 1, shape.end());
  auto part = [](const std::vector<int64_t>& v, size_t b, size_t e) { return std::vector<int64_t>(v.begin() + b, v.begin() + e); };
  const size_t a = static_cast<size_t>(axis), nd = shape.size();
  auto s_out = part(src_strides, 0, a), i_out = part(idx_strides, 0, a), o_out = part(out_strides, 0, a);
  auto s_in = part(src_strides, a + 1, nd), i_in = part(idx_strides, a + 1, nd), o_in = part(out_strides, a + 1, nd);
  StridedLoop<3> outer(outer_shape, {&s_out, &i_out, &o_out}, {0, 0, 0});
  StridedLoop<3> inner(inner_shape, {&s_in, &i_in, &o_in}, {0, 0, 0});
  const int64_t n_inner = inner.numel(), n_axis = shape[a];
  const int64_t total = outer.numel() * n_inner;
  parallel_for(total, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(n_axis, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end;) {
      const int64_t o = p / n_inner, i0 = p % n_inner, i1 = std::min(n_inner, i0 + (end - p));
      outer.runs(o, o + 1, [&](const std::array<int64_t, 3>& base, int64_t, int64_t) {
        for (int64_t t = 0; t < n_axis; t++) {
          inner.runs(i0, i1, [&](const std::array<int64_t, 3>& off, int64_t, int64_t len) {
            fn(base[0] + t * src_strides[a] + off[0], base[1] + t * idx_strides[a] + off[1], base[2] + off[2], len,
               inner.inner_stride(0), inner.inner_stride(1), inner.inner_stride(2));
          });
        }
      });
      p += i1 - i0;
    }
  });
}

template <class T>
void scatter_add_typed(T* out, const std::vector<int64_t>& out_strides, int64_t out_axis_size, int64_t axis,
                       const std::vector<int64_t>& shape, const int32_t* idx, const std::vector<int64_t>& idx_strides,
                       int64_t idx_offset, const T* src, const std::vector<int64_t>& src_strides, int64_t src_offset) {
  // Check every index before the first write, so a bad index leaves out untouched.
  for_each_scatter_run(shape, axis, src_strides, idx_strides, out_strides,
                       [&](int64_t, int64_t io, int64_t, int64_t len, int64_t, int64_t si, int64_t) {
    for (int64_t t = 0; t < len; t++) {
      int32_t j = idx[idx_offset + io + t * si];
      if (j < 0 || j >= out_axis_size) index_out_of_range("scatterAdd", j, out_axis_size, axis);
    }
  });
  const int64_t axis_stride = out_strides[axis];
  for_each_scatter_run(shape, axis, src_strides, idx_strides, out_strides,
                       [&](int64_t so, int64_t io, int64_t oo, int64_t len, int64_t ss, int64_t si, int64_t os) {
    for (int64_t t = 0; t < len; t++)
      out[oo + t * os + idx[idx_offset + io + t * si] * axis_stride] += src[src_offset + so + t * ss];
  });
}

// scatterAdd(out, outShape, axis, idx, idxStrides, idxOffset, src, srcShape, srcStrides, srcOffset)
// out (dense) [.. idx[..i..] on axis ..] += src[..i..]; idx has src's shape.
void ScatterAdd(const Napi::CallbackInfo& info) {
  const char* k = "scatterAdd";
  AnyArray out = any_array_arg(info, 0, k, "out");
  auto out_shape = int_list_arg(info, 1, k, "out shape");
  int64_t axis = int_arg(info, 2, k, "axis");
  Span<int32_t> idx = i32_arg(info, 3, k, "idx");
  auto idx_strides = int_list_arg(info, 4, k, "idx strides");
  int64_t idx_offset = int_arg(info, 5, k, "idx offset");
  AnyArray src = any_array_arg(info, 6, k, "src");
  auto shape = int_list_arg(info, 7, k, "src shape");
  auto src_strides = int_list_arg(info, 8, k, "src strides");
  int64_t src_offset = int_arg(info, 9, k, "src offset");
  const int64_t nd = static_cast<int64_t>(out_shape.size());
  if (static_cast<int64_t>(shape.size()) != nd || axis < 0 || axis >= nd) {
    fail("scatterAdd: src shape " + shape_text(shape) + ", out shape " + shape_text(out_shape) + " and axis " +
         std::to_string(axis) + " do not agree (cpu backend)");
  }
  for (int64_t d = 0; d < nd; d++)
    if (d != axis && shape[d] > out_shape[d])
      fail("scatterAdd: src shape " + shape_text(shape) + " exceeds out shape " + shape_text(out_shape) + " off axis " +
           std::to_string(axis) + " (cpu backend)");
  if (src.dtype != out.dtype) fail(std::string("scatterAdd: src is ") + dtype_name(src.dtype) + " but out is " + dtype_name(out.dtype) + " (cpu backend)");
  require_length(k, "out", out.size, shape_numel(k, out_shape));
  check_view(k, "idx", idx.size, shape, idx_strides, idx_offset);
  check_view(k, "src", src.size, shape, src_strides, src_offset);
  if (shape_numel(k, shape) == 0) return;
  auto out_strides = dense_strides(out_shape);
  if (out.dtype == DType::f32)
    scatter_add_typed(out.f32(), out_strides, out_shape[axis], axis, shape, idx.data, idx_strides, idx_offset, src.f32(), src_strides, src_offset);
  else
    scatter_add_typed(out.i32(), out_strides, out_shape[axis], axis, shape, idx.data, idx_strides, idx_offset, src.i32(), src_strides, src_offset);
}

void InitIndex(Napi::Env env, Napi::Object exports) {
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
  exports.Set("scatterAdd", Napi::Function::New(env, ScatterAdd, "scatterAdd"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(index, InitIndex);

}  // namespace tessera
