// Strided views (buffer + shape + strides + offset) as the core kernels receive them, and the
// loop that walks several same-shaped views together in contiguous runs.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "families.h"

namespace tessera {

constexpr int kMaxDims = 16;

enum class DType { f32, i32 };

inline const char* dtype_name(DType t) { return t == DType::f32 ? "float32" : "int32"; }

/** A Float32Array or an Int32Array argument. */
struct AnyArray {
  void* data = nullptr;
  int64_t size = 0;
  DType dtype = DType::f32;
  float* f32() const { return static_cast<float*>(data); }
  int32_t* i32() const { return static_cast<int32_t*>(data); }
};

inline AnyArray any_array_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* what) {
  if (i < info.Length() && info[i].IsTypedArray()) {
    auto type = info[i].As<Napi::TypedArray>().TypedArrayType();
    if (type == napi_float32_array) {
      Span<float> s = f32_arg(info, i, kernel, what);
      return {s.data, s.size, DType::f32};
    }
    if (type == napi_int32_array) {
      Span<int32_t> s = i32_arg(info, i, kernel, what);
      return {s.data, s.size, DType::i32};
    }
  }
  fail(std::string(kernel) + ": " + what + " must be a Float32Array or an Int32Array (cpu backend)");
}

inline std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t d = 0; d < shape.size(); d++) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + "]";
}

/** Number of elements of a shape; fails on negative sizes, overflow or too many dimensions. */
inline int64_t shape_numel(const char* kernel, const std::vector<int64_t>& shape) {
  if (shape.size() > static_cast<size_t>(kMaxDims)) {
    fail(std::string(kernel) + ": at most " + std::to_string(kMaxDims) + " dimensions, got shape " +
         shape_text(shape) + " (cpu backend)");
  }
  int64_t n = 1;
  for (int64_t s : shape) {
    if (s < 0) fail(std::string(kernel) + ": negative size in shape " + shape_text(shape) + " (cpu backend)");
    if (s != 0 && n > (int64_t(1) << 53) / s) fail(std::string(kernel) + ": shape " + shape_text(shape) + " is too large (cpu backend)");
    n *= s;
  }
  return n;
}

/** Fails unless every element the view addresses lies inside a buffer of `length` elements. */
inline void check_view(const char* kernel, const char* what, int64_t length, const std::vector<int64_t>& shape,
                       const std::vector<int64_t>& strides, int64_t offset) {
  if (strides.size() != shape.size()) {
    fail(std::string(kernel) + ": " + what + " has " + std::to_string(strides.size()) + " strides for shape " +
         shape_text(shape) + " (cpu backend)");
  }
  if (shape_numel(kernel, shape) == 0) return;
  // Views reach at most 2^53 elements, so these sums cannot overflow int64 (|stride| * size < 2^63 is checked).
  int64_t lo = offset, hi = offset;
  for (size_t d = 0; d < shape.size(); d++) {
    int64_t reach = shape[d] - 1;
    if (strides[d] != 0 && reach > 0 && std::abs(strides[d]) > (int64_t(1) << 53) / reach) {
      fail(std::string(kernel) + ": " + what + " strides are too large (cpu backend)");
    }
    (strides[d] < 0 ? lo : hi) += reach * strides[d];
  }
  if (lo < 0 || hi >= length) {
    fail(std::string(kernel) + ": " + what + " with shape " + shape_text(shape) + ", strides " + shape_text(strides) +
         " and offset " + std::to_string(offset) + " reaches elements [" + std::to_string(lo) + ", " +
         std::to_string(hi) + "] outside its buffer of " + std::to_string(length) + " (cpu backend)");
  }
}

/** Row-major strides of a dense shape. */
inline std::vector<int64_t> dense_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size());
  int64_t acc = 1;
  for (size_t d = shape.size(); d-- > 0;) { s[d] = acc; acc *= shape[d]; }
  return s;
}

/** N views of one shape, walked in row-major order as runs along the innermost dimension.
 *  Dimensions of size 1 are dropped and neighbours that are contiguous in every view merged, so
 *  a dense or simply broadcast operation becomes one long run (or a few). */
template <int N>
class StridedLoop {
 public:
  StridedLoop(const std::vector<int64_t>& shape, const std::array<const std::vector<int64_t>*, N>& strides,
              const std::array<int64_t, N>& offsets)
      : offset_(offsets) {
    numel_ = 1;
    for (int64_t s : shape) numel_ *= s;
    ndim_ = 0;
    for (size_t d = 0; d < shape.size(); d++) {
      if (shape[d] == 1) continue;
      bool merge = ndim_ > 0;
      for (int k = 0; k < N && merge; k++) merge = stride_[k][ndim_ - 1] == (*strides[k])[d] * shape[d];
      if (merge) {
        shape_[ndim_ - 1] *= shape[d];
        for (int k = 0; k < N; k++) stride_[k][ndim_ - 1] = (*strides[k])[d];
      } else {
        shape_[ndim_] = shape[d];
        for (int k = 0; k < N; k++) stride_[k][ndim_] = (*strides[k])[d];
        ndim_++;
      }
    }
    if (ndim_ == 0) {  // a single element
      shape_[0] = 1;
      for (int k = 0; k < N; k++) stride_[k][0] = 0;
      ndim_ = 1;
    }
  }

  int64_t numel() const { return numel_; }
  /** Stride of view k along the run (the innermost dimension). */
  int64_t inner_stride(int k) const { return stride_[k][ndim_ - 1]; }
  int64_t inner_size() const { return shape_[ndim_ - 1]; }

  /** Calls fn(offsets, position, length) for the runs covering row-major elements [begin, end):
   *  the run holds elements [position, position + length) and offsets[k] is view k's element
   *  offset of its first one. */
  template <class Fn>
  void runs(int64_t begin, int64_t end, Fn&& fn) const {
    if (begin >= end) return;
    int64_t idx[kMaxDims];
    std::array<int64_t, N> off = offset_;
    int64_t rest = begin;
    for (int d = ndim_ - 1; d >= 0; d--) {
      idx[d] = rest % shape_[d];
      rest /= shape_[d];
      for (int k = 0; k < N; k++) off[k] += idx[d] * stride_[k][d];
    }
    const int last = ndim_ - 1;
    for (int64_t pos = begin; pos < end;) {
      int64_t len = std::min(shape_[last] - idx[last], end - pos);
      fn(static_cast<const std::array<int64_t, N>&>(off), pos, len);
      pos += len;
      if (pos >= end) break;
      // Next run: advance the innermost index by len, carrying into outer dimensions.
      for (int k = 0; k < N; k++) off[k] += len * stride_[k][last];
      idx[last] += len;
      for (int d = last; d > 0 && idx[d] == shape_[d]; d--) {
        for (int k = 0; k < N; k++) off[k] += stride_[k][d - 1] - shape_[d] * stride_[k][d];
        idx[d] = 0;
        idx[d - 1]++;
      }
    }
  }

 private:
  int ndim_;
  int64_t numel_;
  int64_t shape_[kMaxDims];
  int64_t stride_[N][kMaxDims];
  std::array<int64_t, N> offset_;
};

/** Elements per parallel_for chunk for streaming kernels: large enough that waking a thread pays off. */
constexpr int64_t kElementwiseGrain = 1 << 15;

}  // namespace tessera
