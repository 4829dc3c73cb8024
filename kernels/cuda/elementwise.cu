// Unary and binary math and fill: functors for the map kernel (elementwise.cuh).
#include <cmath>
#include <cstring>

#include "kernels/cuda/elementwise.cuh"

namespace tessera::cuda {
namespace {

constexpr float kSqrtHalf = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

constexpr float kPi = 3.14159265358979323846f;

// The gamma family as the reference backend (src/backend/reference/special.ts): negative arguments
// through the reflection formulas, positive ones shifted up to z >= 6 by the recurrences, then the
// asymptotic series (first omitted term below 1e-8 relative there). lgamma is CUDA's lgammaf.
__device__ float digamma_value(float x) {
  if (isnan(x) || x == -INFINITY) return NAN;
  if (x == 0.0f) return signbit(x) ? INFINITY : -INFINITY;
  float acc = 0.0f, z = x;
  if (x < 0.0f) {
    if (x == floorf(x)) return NAN;
    acc = -kPi / tanf(kPi * x);
    z = 1.0f - x;
  }
  if (isinf(z)) return z;
  for (; z < 6.0f; z += 1.0f) acc -= 1.0f / z;
  const float w2 = 1.0f / (z * z);
  const float series = w2 * (-1.0f / 12 + w2 * (1.0f / 120 + w2 * (-1.0f / 252 + w2 * (1.0f / 240))));
  return acc + logf(z) - 0.5f / z + series;
}

__device__ float trigamma_value(float x) {
  if (isnan(x) || x == -INFINITY) return NAN;
  if (x <= 0.0f && x == floorf(x)) return INFINITY;
  if (x == INFINITY) return 0.0f;
  float reflected = 0.0f, sign = 1.0f, z = x;
  if (x < 0.0f) {
    const float s = sinf(kPi * x);
    reflected = kPi * kPi / (s * s);
    sign = -1.0f;
    z = 1.0f - x;
  }
  float acc = 0.0f;
  for (; z < 6.0f; z += 1.0f) acc += 1.0f / (z * z);
  const float w = 1.0f / z, w2 = w * w;
  const float series = w + 0.5f * w2 + w * w2 * (1.0f / 6 + w2 * (-1.0f / 30 + w2 * (1.0f / 42 + w2 * (-1.0f / 30))));
  return reflected + sign * (acc + series);
}

/** torch.remainder: fmod moved into b's half-line. */
template <class T>
__device__ __forceinline__ T remainder_value(T a, T b) {
  const T r = fmod(a, b);
  return r != T(0) && ((r < T(0)) != (b < T(0))) ? r + b : r;
}

/** torch.floor_divide, computed as torch does from fmod. */
template <class T>
__device__ __forceinline__ T floor_divide_value(T a, T b) {
  if (b == T(0)) return a / b;
  const T mod = fmod(a, b);
  T div = (a - mod) / b;
  if (mod != T(0) && ((b < T(0)) != (mod < T(0)))) div -= T(1);
  if (div == T(0)) return copysign(T(0), a / b);
  T q = floor(div);
  if (div - q > T(0.5)) q += T(1);
  return q;
}

// Formulas follow the reference backend (src/backend/reference/index.ts).
template <int OP>
__device__ __forceinline__ float unary_value(float x, float alpha) {
  if constexpr (OP == TSR_NEG) return -x;
  else if constexpr (OP == TSR_EXP) return expf(x);
  else if constexpr (OP == TSR_LOG) return logf(x);
  else if constexpr (OP == TSR_LOG1P) return log1pf(x);
  else if constexpr (OP == TSR_SQRT) return sqrtf(x);
  else if constexpr (OP == TSR_RSQRT) return 1.0f / sqrtf(x);  // rsqrtf is 2 ulp; this is < 1
  else if constexpr (OP == TSR_ABS) return fabsf(x);
  else if constexpr (OP == TSR_SIGN) return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
  else if constexpr (OP == TSR_TANH) return tanhf(x);
  else if constexpr (OP == TSR_SIGMOID) return 1.0f / (1.0f + expf(-x));
  else if constexpr (OP == TSR_RELU) return x < 0.0f ? 0.0f : x;  // NaN stays NaN, as torch
  else if constexpr (OP == TSR_LEAKY_RELU) return x > 0.0f ? x : alpha * x;
  else if constexpr (OP == TSR_ELU) return x > 0.0f ? x : alpha * expm1f(x);
  else if constexpr (OP == TSR_GELU) return 0.5f * x * (1.0f + erff(x * kSqrtHalf));
  else if constexpr (OP == TSR_GELU_GRAD)
    return 0.5f * (1.0f + erff(x * kSqrtHalf)) + x * kInvSqrt2Pi * expf(-0.5f * x * x);
  else if constexpr (OP == TSR_SOFTPLUS) return x > 20.0f ? x : log1pf(expf(x));
  else if constexpr (OP == TSR_SIN) return sinf(x);
  else if constexpr (OP == TSR_COS) return cosf(x);
  else if constexpr (OP == TSR_SQUARE) return x * x;
  else if constexpr (OP == TSR_RECIPROCAL) return 1.0f / x;
  else if constexpr (OP == TSR_FLOOR) return floorf(x);
  else if constexpr (OP == TSR_SILU) return x / (1.0f + expf(-x));
  else if constexpr (OP == TSR_MISH) return x * tanhf(x > 20.0f ? x : log1pf(expf(x)));
  else if constexpr (OP == TSR_HARDSWISH) return x * fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
  else if constexpr (OP == TSR_LOG_SIGMOID) return fminf(x, 0.0f) - log1pf(expf(-fabsf(x)));
  else if constexpr (OP == TSR_ERF) return erff(x);
  else if constexpr (OP == TSR_ATAN) return atanf(x);
  else if constexpr (OP == TSR_CEIL) return ceilf(x);
  else if constexpr (OP == TSR_ROUND) return rintf(x);  // ties to even, as torch.round
  else if constexpr (OP == TSR_TRUNC) return truncf(x);
  else if constexpr (OP == TSR_LGAMMA) return x <= 0.0f && x == floorf(x) ? INFINITY : lgammaf(x);
  else if constexpr (OP == TSR_DIGAMMA) return digamma_value(x);
  else if constexpr (OP == TSR_TRIGAMMA) return trigamma_value(x);
  else if constexpr (OP == TSR_ISNAN) return isnan(x) ? 1.0f : 0.0f;
  else if constexpr (OP == TSR_ISINF) return isinf(x) ? 1.0f : 0.0f;
  else {
    static_assert(OP == TSR_ISFINITE, "unhandled unary op");
    return isfinite(x) ? 1.0f : 0.0f;
  }
}

template <int OP, class T>
__device__ __forceinline__ T binary_value(T a, T b) {
  if constexpr (OP == TSR_ADD) return a + b;
  else if constexpr (OP == TSR_SUB) return a - b;
  else if constexpr (OP == TSR_MUL) return a * b;
  else if constexpr (OP == TSR_DIV) return a / b;
  else if constexpr (OP == TSR_POW) return pow(a, b);
  else if constexpr (OP == TSR_MINIMUM) return isnan(a) || isnan(b) ? T(NAN) : (a < b ? a : b);
  else if constexpr (OP == TSR_MAXIMUM) return isnan(a) || isnan(b) ? T(NAN) : (a > b ? a : b);
  else if constexpr (OP == TSR_EQ) return T(a == b);
  else if constexpr (OP == TSR_NE) return T(a != b);
  else if constexpr (OP == TSR_LT) return T(a < b);
  else if constexpr (OP == TSR_LE) return T(a <= b);
  else if constexpr (OP == TSR_GT) return T(a > b);
  else if constexpr (OP == TSR_GE) return T(a >= b);
  else if constexpr (OP == TSR_REMAINDER) return remainder_value(a, b);
  else if constexpr (OP == TSR_FLOOR_DIVIDE) return floor_divide_value(a, b);
  else {
    static_assert(OP == TSR_ATAN2, "unhandled binary op");
    return atan2(a, b);
  }
}

struct FillFn {
  uint32_t word;
  __device__ uint32_t operator()() const { return word; }
};

template <int OP>
struct UnaryFn {
  float alpha;
  bool in_int, out_int;
  __device__ uint32_t operator()(uint32_t w) const {
    const float y = unary_value<OP>(word_to_float(w, in_int), alpha);
    return out_int ? as_word(to_int32(y)) : as_word(y);
  }
};

// Float inputs: float math. Any int32 input: the math is done in float64,
// exact for int32 operands as in the reference (JavaScript numbers); an
// int32 out then truncates (integer division rounds toward zero).
template <int OP>
struct BinaryFn {
  bool a_int, b_int, out_int;
  __device__ uint32_t operator()(uint32_t wa, uint32_t wb) const {
    if (!a_int && !b_int) {
      const float r = binary_value<OP, float>(as_float(wa), as_float(wb));
      return out_int ? as_word(to_int32(r)) : as_word(r);
    }
    const double a = a_int ? double(as_int(wa)) : double(as_float(wa));
    const double b = b_int ? double(as_int(wb)) : double(as_float(wb));
    const double r = binary_value<OP, double>(a, b);
    return out_int ? as_word(to_int32(r)) : as_word(static_cast<float>(r));
  }
};


cudaError_t fill(void* out, int dtype, int64_t n, double value, cudaStream_t s) {
  tsr_view v{};
  v.rank = 1;
  v.shape[0] = n;
  v.strides[0] = 1;
  const tsr_view* none[1] = {&v};
  const uint32_t* no_inputs[1] = {nullptr};
  FillFn fn;
  if (dtype == TSR_INT32) {
    // Int32Array.fill semantics: ToInt32 (truncate, wrap).
    const double r = std::isfinite(value) ? std::trunc(value) : 0.0;
    fn.word = static_cast<uint32_t>(static_cast<int64_t>(std::fmod(r, 4294967296.0)));
  } else {
    const float f = static_cast<float>(value);
    std::memcpy(&fn.word, &f, 4);
  }
  return launch_map<0>(view_offsets<0>(none, v), no_inputs, static_cast<uint32_t*>(out), fn, s);
}

cudaError_t unary(int op, const void* x, int x_dtype, const tsr_view& xv, void* out, int out_dtype, float alpha,
                  cudaStream_t s) {
  const tsr_view* views[1] = {&xv};
  const auto idx = view_offsets<1>(views, xv);
  const uint32_t* in[1] = {words_at(x, xv)};
  cudaError_t err = cudaErrorInvalidValue;
  dispatch_op<TSR_UNARY_OP_COUNT>(op, [&](auto k) {
    UnaryFn<decltype(k)::value> fn{alpha, x_dtype == TSR_INT32, out_dtype == TSR_INT32};
    err = launch_map<1>(idx, in, static_cast<uint32_t*>(out), fn, s);
  });
  return err;
}

cudaError_t binary(int op, const void* a, int a_dtype, const tsr_view& av, const void* b, int b_dtype,
                   const tsr_view& bv, void* out, int out_dtype, cudaStream_t s) {
  const tsr_view* views[2] = {&av, &bv};
  const auto idx = view_offsets<2>(views, av);
  const uint32_t* in[2] = {words_at(a, av), words_at(b, bv)};
  cudaError_t err = cudaErrorInvalidValue;
  dispatch_op<TSR_BINARY_OP_COUNT>(op, [&](auto k) {
    BinaryFn<decltype(k)::value> fn{a_dtype == TSR_INT32, b_dtype == TSR_INT32, out_dtype == TSR_INT32};
    err = launch_map<2>(idx, in, static_cast<uint32_t*>(out), fn, s);
  });
  return err;
}

}  // namespace
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

extern "C" {

int tsr_cuda_fill(void* out, int64_t dtype, int64_t n, double value, void* stream) {
  return guarded("fill", [&]() -> int {
    if (n < 0) return invalid("fill", "negative size " + std::to_string(n));
    if (!valid_dtype(dtype)) return invalid("fill", "unknown dtype " + std::to_string(dtype));
    if (n > 0 && !out) return invalid("fill", "out is null");
    return check("fill", std::to_string(n) + " " + dtype_name(dtype), fill(out, int(dtype), n, value, as_stream(stream)));
  });
}

int tsr_cuda_unary(int64_t op, const void* x, int64_t x_dtype, const tsr_view* xv, void* out, int64_t out_dtype,
                   double alpha, void* stream) {
  return guarded("unary", [&]() -> int {
    if (op < 0 || op >= TSR_UNARY_OP_COUNT) return invalid("unary", "unknown op " + std::to_string(op));
    if (!valid_dtype(x_dtype) || !valid_dtype(out_dtype)) return invalid("unary", "unknown dtype");
    const std::string why = view_problem(xv);
    if (!why.empty()) return invalid("unary", "x: " + why);
    if (view_elements(*xv) > 0 && (!x || !out)) return invalid("unary", "null pointer");
    return check("unary", "op " + std::to_string(op) + ", x " + view_string(*xv),
                 unary(int(op), x, int(x_dtype), *xv, out, int(out_dtype), float(alpha), as_stream(stream)));
  });
}

int tsr_cuda_binary(int64_t op, const void* a, int64_t a_dtype, const tsr_view* av, const void* b, int64_t b_dtype,
                    const tsr_view* bv, void* out, int64_t out_dtype, void* stream) {
  return guarded("binary", [&]() -> int {
    if (op < 0 || op >= TSR_BINARY_OP_COUNT) return invalid("binary", "unknown op " + std::to_string(op));
    if (!valid_dtype(a_dtype) || !valid_dtype(b_dtype) || !valid_dtype(out_dtype))
      return invalid("binary", "unknown dtype");
    std::string why = view_problem(av);
    if (why.empty()) why = view_problem(bv);
    if (!why.empty()) return invalid("binary", why);
    if (!same_shape(*av, *bv))
      return invalid("binary", "a " + view_string(*av) + " and b " + view_string(*bv) + " differ in shape");
    if (view_elements(*av) > 0 && (!a || !b || !out)) return invalid("binary", "null pointer");
    return check("binary", "op " + std::to_string(op) + ", a " + view_string(*av) + ", b " + view_string(*bv),
                 binary(int(op), a, int(a_dtype), *av, b, int(b_dtype), *bv, out, int(out_dtype), as_stream(stream)));
  });
}

}  // extern "C"
