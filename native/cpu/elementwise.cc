// Elementwise kernels: copy (with cast), unary, binary, where. Inputs are strided views of the
// output's shape (broadcast through 0 strides); the output is dense.
#include <cmath>
#include <cstring>
#include <utility>

#include "families.h"
#include "simd.h"
#include "strided.h"
#include "threadpool.h"

namespace tessera {
namespace {

// Op codes (TSR_NEG, ...) and their names come from kernels/schema.h.

/** Math.pow: unlike C's pow, a NaN exponent always gives NaN and (+-1) ** (+-inf) is NaN. */
inline double js_pow(double a, double b) {
  if (std::isnan(b) || (std::isinf(b) && std::fabs(a) == 1.0)) return NAN;
  return std::pow(a, b);
}

// ---- scalar special functions (float64), as the reference backend (src/backend/reference/special.ts) ----

constexpr double kPi = 3.14159265358979323846;
constexpr double kShiftTo = 10;  // the asymptotic series' first omitted term is below 1e-14 from here

double digamma(double x) {
  if (std::isnan(x) || x == -INFINITY) return NAN;
  if (x == INFINITY) return INFINITY;
  if (x == 0) return std::signbit(x) ? INFINITY : -INFINITY;
  if (x < 0) {
    if (x == std::floor(x)) return NAN;
    return digamma(1 - x) - kPi / std::tan(kPi * x);
  }
  double acc = 0;
  for (; x < kShiftTo; x += 1) acc -= 1 / x;
  const double z2 = 1 / (x * x);
  const double series = z2 * (-1.0 / 12 + z2 * (1.0 / 120 + z2 * (-1.0 / 252 + z2 * (1.0 / 240 + z2 * (-1.0 / 132 + z2 * (691.0 / 32760))))));
  return acc + std::log(x) - 0.5 / x + series;
}

double trigamma(double x) {
  if (std::isnan(x) || x == -INFINITY) return NAN;
  if (x == INFINITY) return 0;
  if (x <= 0 && x == std::floor(x)) return INFINITY;
  if (x < 0) {
    const double s = std::sin(kPi * x);
    return -trigamma(1 - x) + kPi * kPi / (s * s);
  }
  double acc = 0;
  for (; x < kShiftTo; x += 1) acc += 1 / (x * x);
  const double z = 1 / x, z2 = z * z;
  return acc + z + 0.5 * z2 + z * z2 * (1.0 / 6 + z2 * (-1.0 / 30 + z2 * (1.0 / 42 + z2 * (-1.0 / 30 + z2 * (5.0 / 66)))));
}

double lgamma_abs(double x) {
  if (x <= 0 && x == std::floor(x)) return INFINITY;  // poles (std::lgamma agrees; stated for clarity)
  int sign;
  return lgamma_r(x, &sign);  // lgamma_r: std::lgamma writes the global signgam, a race between threads
}

/** torch.remainder: fmod moved into the divisor's half-line. */
double remainder(double a, double b) {
  const double r = std::fmod(a, b);
  return r != 0 && (r < 0) != (b < 0) ? r + b : r;
}

/** torch.floor_divide, computed as torch does from fmod. */
double floor_divide(double a, double b) {
  if (b == 0) return a / b;
  const double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && (b < 0) != (mod < 0)) div -= 1;
  if (div == 0) return std::copysign(0.0, a / b);
  double q = std::floor(div);
  if (div - q > 0.5) q += 1;
  return q;
}

double unary_double(int op, double x, double alpha);
double binary_double(int op, double a, double b);

// ---- float32 SIMD bodies ----

template <int W, int OP>
TESSERA_INLINE typename Vec<W>::F unary_apply(typename Vec<W>::F x, float alpha) {
  using V = Vec<W>;
  // Comparisons against NaN are false: relu tests x < 0 so NaN stays NaN (torch); sign maps NaN to 0 like the reference.
  if constexpr (OP == TSR_NEG) return -x;
  else if constexpr (OP == TSR_EXP) return vexp<W>(x);
  else if constexpr (OP == TSR_LOG) return vlog<W>(x);
  else if constexpr (OP == TSR_LOG1P) return vlog1p<W>(x);
  else if constexpr (OP == TSR_SQRT) return V::each(x, [](float v) TESSERA_LAMBDA_INLINE { return std::sqrt(v); });
  else if constexpr (OP == TSR_RSQRT) return 1.f / V::each(x, [](float v) TESSERA_LAMBDA_INLINE { return std::sqrt(v); });
  else if constexpr (OP == TSR_ABS) return V::abs(x);
  else if constexpr (OP == TSR_SIGN) return V::select(x > 0.f, V::splat(1.f), V::select(x < 0.f, V::splat(-1.f), V::splat(0.f)));
  else if constexpr (OP == TSR_TANH) return vtanh<W>(x);
  else if constexpr (OP == TSR_SIGMOID) return vsigmoid<W>(x);
  else if constexpr (OP == TSR_RELU) return V::select(x < 0.f, V::splat(0.f), x);
  else if constexpr (OP == TSR_LEAKY_RELU) return V::select(x > 0.f, x, alpha * x);
  else if constexpr (OP == TSR_ELU) return V::select(x > 0.f, x, alpha * vexpm1<W>(x));
  else if constexpr (OP == TSR_GELU) return vgelu<W>(x);
  else if constexpr (OP == TSR_GELU_GRAD) return vgelu_grad<W>(x);
  else if constexpr (OP == TSR_SOFTPLUS) return V::select(x > 20.f, x, vlog1p<W>(vexp<W>(x)));
  else if constexpr (OP == TSR_SIN) return vsincos<W, false>(x);
  else if constexpr (OP == TSR_COS) return vsincos<W, true>(x);
  else if constexpr (OP == TSR_SQUARE) return x * x;
  else if constexpr (OP == TSR_RECIPROCAL) return 1.f / x;
  else if constexpr (OP == TSR_FLOOR) return V::each(x, [](float v) TESSERA_LAMBDA_INLINE { return std::floor(v); });
  else if constexpr (OP == TSR_SILU) return x * vsigmoid<W>(x);
  else if constexpr (OP == TSR_MISH) return x * vtanh<W>(V::select(x > 20.f, x, vlog1p<W>(vexp<W>(x))));
  else if constexpr (OP == TSR_HARDSWISH) return x * V::min(V::max(x + 3.f, V::splat(0.f)), V::splat(6.f)) * (1.f / 6.f);
  else if constexpr (OP == TSR_LOG_SIGMOID) return V::min(x, V::splat(0.f)) - vlog1p<W>(vexp<W>(-V::abs(x)));
  else if constexpr (OP == TSR_ERF) {
    // Small |x|: the odd series; beyond, 1 - erfc (erfc <= 0.19 there, so no digits are lost).
    typename V::F e = vexp_neg_square<W>(x, 1.f);
    return V::select(V::abs(x) < kErfSplit, verf_small<W>(x), -(verfc_with<W>(x, e) - 1.f));
  }
  else if constexpr (OP == TSR_CEIL) return V::each(x, [](float v) TESSERA_LAMBDA_INLINE { return std::ceil(v); });
  else if constexpr (OP == TSR_ROUND) return V::each(x, [](float v) TESSERA_LAMBDA_INLINE { return std::nearbyint(v); });  // ties to even
  else if constexpr (OP == TSR_TRUNC) return V::each(x, [](float v) TESSERA_LAMBDA_INLINE { return std::trunc(v); });
  else if constexpr (OP == TSR_ISNAN) return V::select(x != x, V::splat(1.f), V::splat(0.f));
  else if constexpr (OP == TSR_ISINF) return V::select(V::abs(x) == INFINITY, V::splat(1.f), V::splat(0.f));
  else if constexpr (OP == TSR_ISFINITE) return V::select(V::abs(x) < INFINITY, V::splat(1.f), V::splat(0.f));
  // No vector forms (yet) of atan and the gamma family: a scalar loop through the float64 bodies,
  // which also makes them agree with the reference to float32 rounding.
  else if constexpr (OP == TSR_ATAN || OP == TSR_LGAMMA || OP == TSR_DIGAMMA || OP == TSR_TRIGAMMA)
    return V::each(x, [](float v) { return static_cast<float>(unary_double(OP, v, 0)); });
  else static_assert(OP < 0, "a unary op of kernels/schema.h has no float32 body here");
}

template <int W, int OP>
TESSERA_INLINE typename Vec<W>::F binary_apply(typename Vec<W>::F a, typename Vec<W>::F b) {
  using V = Vec<W>;
  const typename V::F one = V::splat(1.f), zero = V::splat(0.f);
  if constexpr (OP == TSR_ADD) return a + b;
  else if constexpr (OP == TSR_SUB) return a - b;
  else if constexpr (OP == TSR_MUL) return a * b;
  else if constexpr (OP == TSR_DIV) return a / b;
  else if constexpr (OP == TSR_POW) {
    float la[W], lb[W];
    V::store(la, a);
    V::store(lb, b);
    for (int i = 0; i < W; i++) la[i] = static_cast<float>(js_pow(la[i], lb[i]));
    return V::load(la);
  }
  // minimum/maximum propagate NaN (a + b is NaN when either is).
  else if constexpr (OP == TSR_MINIMUM) return V::select((a != a) | (b != b), a + b, V::select(a < b, a, b));
  else if constexpr (OP == TSR_MAXIMUM) return V::select((a != a) | (b != b), a + b, V::select(a > b, a, b));
  else if constexpr (OP == TSR_EQ) return V::select(a == b, one, zero);
  else if constexpr (OP == TSR_NE) return V::select(a != b, one, zero);
  else if constexpr (OP == TSR_LT) return V::select(a < b, one, zero);
  else if constexpr (OP == TSR_LE) return V::select(a <= b, one, zero);
  else if constexpr (OP == TSR_GT) return V::select(a > b, one, zero);
  else if constexpr (OP == TSR_GE) return V::select(a >= b, one, zero);
  // No vector forms: lane by lane in float64, as the reference (exact for remainder and floorDivide).
  else if constexpr (OP == TSR_REMAINDER || OP == TSR_FLOOR_DIVIDE || OP == TSR_ATAN2) {
    float la[W], lb[W];
    V::store(la, a);
    V::store(lb, b);
    for (int i = 0; i < W; i++) la[i] = static_cast<float>(binary_double(OP, la[i], lb[i]));
    return V::load(la);
  }
  else static_assert(OP < 0, "a binary op of kernels/schema.h has no float32 body here");
}

/** fn(arg(0), ..., arg(N-1)). */
template <class Fn, class Arg, size_t... K>
TESSERA_INLINE auto call_with(Fn& fn, Arg arg, std::index_sequence<K...>) {
  return fn(arg(K)...);
}

/** y[i] = fn(in[0][i], ..., in[N-1][i]) for dense arrays. The tail goes through one padded
 *  vector, so every element is computed by the same code. */
template <int W, size_t N, class Fn>
TESSERA_INLINE void map_dense(const std::array<const float*, N>& in, float* y, int64_t n, Fn fn) {
  using V = Vec<W>;
  using F = typename V::F;
  auto full = [&](int64_t i) TESSERA_LAMBDA_INLINE {
    return call_with(fn, [&](size_t k) TESSERA_LAMBDA_INLINE { return V::load(in[k] + i); }, std::make_index_sequence<N>());
  };
  auto partial = [&](int64_t i, int64_t m) TESSERA_LAMBDA_INLINE {
    float buf[N][W] = {};
    for (size_t k = 0; k < N; k++) std::memcpy(buf[k], in[k] + i, m * sizeof(float));
    F r = call_with(fn, [&](size_t k) TESSERA_LAMBDA_INLINE { return V::load(buf[k]); }, std::make_index_sequence<N>());
    float o[W];
    V::store(o, r);
    std::memcpy(y + i, o, m * sizeof(float));
  };
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(y + i, full(i));
  if (i < n) partial(i, n - i);
}

/** The ops that take 16 lanes under AVX-512: their 16-lane code compiles to 512-bit instructions throughout and
 *  ran 1.4-1.8x faster than on 8 lanes (in cache, one thread). The others keep 8: those through vlog, vexpm1 or
 *  vsincos (their float == and != compares and NaN checks) fall back lane by lane on 16 lanes and ran 1.5-2.5x
 *  slower; the cheap ones are bound by memory either way. */
constexpr bool unary_takes_16_lanes(int op) {
  return op == TSR_EXP || op == TSR_SQRT || op == TSR_RSQRT || op == TSR_RECIPROCAL || op == TSR_TANH ||
         op == TSR_SIGMOID || op == TSR_SILU || op == TSR_GELU || op == TSR_GELU_GRAD || op == TSR_ERF;
}

template <int W>
struct UnaryDense {
  static constexpr int kAvx512Lanes = 16;
  template <int OP>
  static constexpr int kLanes = W == 16 && !unary_takes_16_lanes(OP) ? 8 : W;
  template <int... OPS>
  static TESSERA_INLINE void pick(std::integer_sequence<int, OPS...>, int op, const float* x, float* y, int64_t n,
                                  float alpha) {
    (void)((op == OPS && (map_dense<kLanes<OPS>, 1>({x}, y, n, [alpha](typename Vec<kLanes<OPS>>::F v) TESSERA_LAMBDA_INLINE {
              return unary_apply<kLanes<OPS>, OPS>(v, alpha);
            }), true)) || ...);
  }
  static TESSERA_INLINE void run(int op, const float* x, float* y, int64_t n, float alpha) {
    pick(std::make_integer_sequence<int, TSR_UNARY_OP_COUNT>(), op, x, y, n, alpha);
  }
};

template <int W>
struct BinaryDense {
  template <int... OPS>
  static TESSERA_INLINE void pick(std::integer_sequence<int, OPS...>, int op, const float* a, const float* b, float* y,
                                  int64_t n) {
    (void)((op == OPS && (map_dense<W, 2>({a, b}, y, n, [](typename Vec<W>::F u, typename Vec<W>::F v) TESSERA_LAMBDA_INLINE {
              return binary_apply<W, OPS>(u, v);
            }), true)) || ...);
  }
  static TESSERA_INLINE void run(int op, const float* a, const float* b, float* y, int64_t n) {
    pick(std::make_integer_sequence<int, TSR_BINARY_OP_COUNT>(), op, a, b, y, n);
  }
};

// ---- int32 inputs: computed in double like the reference backend (exact for int32 values) ----

double unary_double(int op, double x, double alpha) {
  switch (static_cast<tsr_unary_op>(op)) {
    case TSR_NEG: return -x;
    case TSR_EXP: return std::exp(x);
    case TSR_LOG: return std::log(x);
    case TSR_LOG1P: return std::log1p(x);
    case TSR_SQRT: return std::sqrt(x);
    case TSR_RSQRT: return 1 / std::sqrt(x);
    case TSR_ABS: return std::fabs(x);
    case TSR_SIGN: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case TSR_TANH: return std::tanh(x);
    case TSR_SIGMOID: return 1 / (1 + std::exp(-x));
    case TSR_RELU: return x < 0 ? 0 : x;
    case TSR_LEAKY_RELU: return x > 0 ? x : alpha * x;
    case TSR_ELU: return x > 0 ? x : alpha * std::expm1(x);
    case TSR_GELU: return 0.5 * x * std::erfc(-x * M_SQRT1_2);
    case TSR_GELU_GRAD: return 0.5 * std::erfc(-x * M_SQRT1_2) + x * 0.3989422804014327 * std::exp(-0.5 * x * x);
    case TSR_SOFTPLUS: return x > 20 ? x : std::log1p(std::exp(x));
    case TSR_SIN: return std::sin(x);
    case TSR_COS: return std::cos(x);
    case TSR_SQUARE: return x * x;
    case TSR_RECIPROCAL: return 1 / x;
    case TSR_FLOOR: return std::floor(x);
    case TSR_SILU: return x / (1 + std::exp(-x));
    case TSR_MISH: return x * std::tanh(x > 20 ? x : std::log1p(std::exp(x)));
    case TSR_HARDSWISH: return x * std::min(std::max(x + 3, 0.0), 6.0) / 6;
    case TSR_LOG_SIGMOID: return std::min(x, 0.0) - std::log1p(std::exp(-std::fabs(x)));
    case TSR_ERF: return std::erf(x);
    case TSR_ATAN: return std::atan(x);
    case TSR_CEIL: return std::ceil(x);
    case TSR_ROUND: return std::nearbyint(x);
    case TSR_TRUNC: return std::trunc(x);
    case TSR_LGAMMA: return lgamma_abs(x);
    case TSR_DIGAMMA: return digamma(x);
    case TSR_TRIGAMMA: return trigamma(x);
    case TSR_ISNAN: return std::isnan(x);
    case TSR_ISINF: return std::isinf(x);
    case TSR_ISFINITE: return std::isfinite(x);
    case TSR_UNARY_OP_COUNT: break;  // -Wswitch flags an op of kernels/schema.h without a body here
  }
  return NAN;
}

double binary_double(int op, double a, double b) {
  switch (static_cast<tsr_binary_op>(op)) {
    case TSR_ADD: return a + b;
    case TSR_SUB: return a - b;
    case TSR_MUL: return a * b;
    case TSR_DIV: return a / b;
    case TSR_POW: return js_pow(a, b);
    case TSR_MINIMUM: return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
    case TSR_MAXIMUM: return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
    case TSR_EQ: return a == b;
    case TSR_NE: return a != b;
    case TSR_LT: return a < b;
    case TSR_LE: return a <= b;
    case TSR_GT: return a > b;
    case TSR_GE: return a >= b;
    case TSR_REMAINDER: return remainder(a, b);
    case TSR_FLOOR_DIVIDE: return floor_divide(a, b);
    case TSR_ATAN2: return std::atan2(a, b);
    case TSR_BINARY_OP_COUNT: break;  // -Wswitch flags an op of kernels/schema.h without a body here
  }
  return NAN;
}

/** Stores a double into an output element: float32 rounds, int32 follows JS ToInt32. */
inline void store_number(const AnyArray& out, int64_t i, double v) {
  if (out.dtype == DType::f32) out.f32()[i] = static_cast<float>(v);
  else out.i32()[i] = js_to_int32(v);
}

// ---- walking strided inputs in dense tiles ----

constexpr int64_t kTile = 1024;
// Unit-stride runs shorter than this are gathered into tiles too: per-run overhead would dominate.
constexpr int64_t kMinDirectRun = 64;

template <class T>
void gather_run(const T* src, int64_t stride, int64_t n, T* dst) {
  if (stride == 1) std::memcpy(dst, src, n * sizeof(T));
  else if (stride == 0) std::fill(dst, dst + n, *src);
  else for (int64_t i = 0; i < n; i++) dst[i] = src[i * stride];
}

/** Calls compute(inputs, position, length) over [begin, end) of the output with each input as a
 *  dense array: the view's own memory when its runs are unit-stride and long, else a copy
 *  gathered into a tile. */
template <int N, class T, class Compute>
void for_dense_tiles(const StridedLoop<N>& loop, const std::array<const T*, N>& base, int64_t begin, int64_t end,
                     Compute&& compute) {
  bool direct = loop.inner_size() >= kMinDirectRun;
  for (int k = 0; k < N; k++) direct = direct && loop.inner_stride(k) == 1;
  if (direct) {
    loop.runs(begin, end, [&](const std::array<int64_t, N>& off, int64_t pos, int64_t len) {
      std::array<const T*, N> p;
      for (int k = 0; k < N; k++) p[k] = base[k] + off[k];
      compute(p, pos, len);
    });
    return;
  }
  T tile[N][kTile];
  std::array<const T*, N> p;
  for (int k = 0; k < N; k++) p[k] = tile[k];
  for (int64_t t0 = begin; t0 < end; t0 += kTile) {
    int64_t t1 = std::min(end, t0 + kTile);
    loop.runs(t0, t1, [&](const std::array<int64_t, N>& off, int64_t pos, int64_t len) {
      for (int k = 0; k < N; k++) gather_run(base[k] + off[k], loop.inner_stride(k), len, tile[k] + (pos - t0));
    });
    compute(p, t0, t1 - t0);
  }
}

/** n elements from src (step `stride`) to dst (step `dst_stride`): memcpy when both are unit-stride. */
template <class T>
void copy_run(const T* src, int64_t stride, int64_t n, T* dst, int64_t dst_stride) {
  if (dst_stride == 1) gather_run(src, stride, n, dst);
  else for (int64_t i = 0; i < n; i++) dst[i * dst_stride] = src[i * stride];
}

int op_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel, int count) {
  int64_t op = int_arg(info, i, kernel, "op code");
  if (op < 0 || op >= count) fail(std::string(kernel) + ": unknown op code " + std::to_string(op) + " (cpu backend)");
  return static_cast<int>(op);
}

// ---- bindings ----

// copy(x, shape, strides, offset, out[, outStrides, outOffset]): strided gather into dense out, or into the
// region of out that outStrides and outOffset place (concat writes its pieces so), casting to out's dtype.
void Copy(const Napi::CallbackInfo& info) {
  const char* k = "copy";
  AnyArray x = any_array_arg(info, 0, k, "x");
  auto shape = int_list_arg(info, 1, k, "shape");
  auto strides = int_list_arg(info, 2, k, "strides");
  int64_t offset = int_arg(info, 3, k, "offset");
  AnyArray out = any_array_arg(info, 4, k, "out");
  check_view(k, "x", x.size, shape, strides, offset);
  const bool placed = info.Length() > 5;
  std::vector<int64_t> out_strides = placed ? int_list_arg(info, 5, k, "out strides") : dense_strides(shape);
  int64_t out_offset = placed ? int_arg(info, 6, k, "out offset") : 0;
  if (placed) check_view(k, "out", out.size, shape, out_strides, out_offset);
  StridedLoop<2> loop(shape, {&strides, &out_strides}, {offset, out_offset});
  if (!placed) require_length(k, "out", out.size, loop.numel());
  parallel_for(loop.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
    loop.runs(begin, end, [&](const std::array<int64_t, 2>& off, int64_t, int64_t len) {
      int64_t s = loop.inner_stride(0), d = loop.inner_stride(1);
      if (x.dtype == out.dtype && x.dtype == DType::f32) {
        copy_run(x.f32() + off[0], s, len, out.f32() + off[1], d);
      } else if (x.dtype == out.dtype) {
        copy_run(x.i32() + off[0], s, len, out.i32() + off[1], d);
      } else if (x.dtype == DType::f32) {
        for (int64_t i = 0; i < len; i++) out.i32()[off[1] + i * d] = js_to_int32(x.f32()[off[0] + i * s]);
      } else {
        for (int64_t i = 0; i < len; i++) out.f32()[off[1] + i * d] = static_cast<float>(x.i32()[off[0] + i * s]);
      }
    });
  });
}

// unary(op, x, shape, strides, offset, out, alpha)
void Unary(const Napi::CallbackInfo& info) {
  const char* k = "unary";
  int op = op_arg(info, 0, k, TSR_UNARY_OP_COUNT);
  AnyArray x = any_array_arg(info, 1, k, "x");
  auto shape = int_list_arg(info, 2, k, "shape");
  auto strides = int_list_arg(info, 3, k, "strides");
  int64_t offset = int_arg(info, 4, k, "offset");
  AnyArray out = any_array_arg(info, 5, k, "out");
  double alpha = number_arg(info, 6, k, "alpha");
  check_view(k, "x", x.size, shape, strides, offset);
  StridedLoop<1> loop(shape, {&strides}, {offset});
  require_length(k, "out", out.size, loop.numel());
  if (x.dtype == DType::f32 && out.dtype != DType::f32) {
    fail(std::string("unary: ") + tsr_unary_op_names[op] + " of float32 x into an int32 out is not supported (cpu backend)");
  }
  parallel_for(loop.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
    if (x.dtype == DType::f32) {
      for_dense_tiles<1, float>(loop, {x.f32()}, begin, end, [&](const std::array<const float*, 1>& in, int64_t pos, int64_t n) {
        simd_dispatch<UnaryDense>(op, in[0], out.f32() + pos, n, static_cast<float>(alpha));
      });
    } else {
      for_dense_tiles<1, int32_t>(loop, {x.i32()}, begin, end, [&](const std::array<const int32_t*, 1>& in, int64_t pos, int64_t n) {
        for (int64_t i = 0; i < n; i++) store_number(out, pos + i, unary_double(op, in[0][i], alpha));
      });
    }
  });
}

// binary(op, shape, a, aStrides, aOffset, b, bStrides, bOffset, out)
void Binary(const Napi::CallbackInfo& info) {
  const char* k = "binary";
  int op = op_arg(info, 0, k, TSR_BINARY_OP_COUNT);
  auto shape = int_list_arg(info, 1, k, "shape");
  AnyArray a = any_array_arg(info, 2, k, "a");
  auto sa = int_list_arg(info, 3, k, "a strides");
  int64_t oa = int_arg(info, 4, k, "a offset");
  AnyArray b = any_array_arg(info, 5, k, "b");
  auto sb = int_list_arg(info, 6, k, "b strides");
  int64_t ob = int_arg(info, 7, k, "b offset");
  AnyArray out = any_array_arg(info, 8, k, "out");
  if (a.dtype != b.dtype || (a.dtype == DType::f32 && out.dtype != DType::f32)) {
    fail(std::string("binary: ") + tsr_binary_op_names[op] + " of " + dtype_name(a.dtype) + " and " + dtype_name(b.dtype) +
         " into " + dtype_name(out.dtype) + " is not supported (cpu backend)");
  }
  check_view(k, "a", a.size, shape, sa, oa);
  check_view(k, "b", b.size, shape, sb, ob);
  StridedLoop<2> loop(shape, {&sa, &sb}, {oa, ob});
  require_length(k, "out", out.size, loop.numel());
  const bool truncate = out.dtype == DType::i32 && (op == TSR_DIV || op == TSR_POW);  // int32 math rounds toward zero
  parallel_for(loop.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
    if (a.dtype == DType::f32) {
      for_dense_tiles<2, float>(loop, {a.f32(), b.f32()}, begin, end, [&](const std::array<const float*, 2>& in, int64_t pos, int64_t n) {
        simd_dispatch<BinaryDense>(op, in[0], in[1], out.f32() + pos, n);
      });
    } else {
      for_dense_tiles<2, int32_t>(loop, {a.i32(), b.i32()}, begin, end, [&](const std::array<const int32_t*, 2>& in, int64_t pos, int64_t n) {
        for (int64_t i = 0; i < n; i++) {
          double r = binary_double(op, in[0][i], in[1][i]);
          store_number(out, pos + i, truncate ? std::trunc(r) : r);
        }
      });
    }
  });
}

template <class C, class T>
void where_runs(const StridedLoop<3>& loop, const C* c, const T* a, const T* b, T* out, int64_t begin, int64_t end) {
  const int64_t sc = loop.inner_stride(0), sa = loop.inner_stride(1), sb = loop.inner_stride(2);
  loop.runs(begin, end, [&](const std::array<int64_t, 3>& off, int64_t pos, int64_t len) {
    for (int64_t i = 0; i < len; i++) out[pos + i] = c[off[0] + i * sc] != 0 ? a[off[1] + i * sa] : b[off[2] + i * sb];
  });
}

// where(shape, cond, cStrides, cOffset, a, aStrides, aOffset, b, bStrides, bOffset, out)
void Where(const Napi::CallbackInfo& info) {
  const char* k = "where";
  auto shape = int_list_arg(info, 0, k, "shape");
  AnyArray c = any_array_arg(info, 1, k, "cond");
  auto sc = int_list_arg(info, 2, k, "cond strides");
  int64_t oc = int_arg(info, 3, k, "cond offset");
  AnyArray a = any_array_arg(info, 4, k, "a");
  auto sa = int_list_arg(info, 5, k, "a strides");
  int64_t oa = int_arg(info, 6, k, "a offset");
  AnyArray b = any_array_arg(info, 7, k, "b");
  auto sb = int_list_arg(info, 8, k, "b strides");
  int64_t ob = int_arg(info, 9, k, "b offset");
  AnyArray out = any_array_arg(info, 10, k, "out");
  if (a.dtype != b.dtype || a.dtype != out.dtype) {
    fail(std::string("where: a (") + dtype_name(a.dtype) + "), b (" + dtype_name(b.dtype) + ") and out (" +
         dtype_name(out.dtype) + ") must share a dtype (cpu backend)");
  }
  check_view(k, "cond", c.size, shape, sc, oc);
  check_view(k, "a", a.size, shape, sa, oa);
  check_view(k, "b", b.size, shape, sb, ob);
  StridedLoop<3> loop(shape, {&sc, &sa, &sb}, {oc, oa, ob});
  require_length(k, "out", out.size, loop.numel());
  parallel_for(loop.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
    if (c.dtype == DType::f32) {
      if (a.dtype == DType::f32) where_runs(loop, c.f32(), a.f32(), b.f32(), out.f32(), begin, end);
      else where_runs(loop, c.f32(), a.i32(), b.i32(), out.i32(), begin, end);
    } else {
      if (a.dtype == DType::f32) where_runs(loop, c.i32(), a.f32(), b.f32(), out.f32(), begin, end);
      else where_runs(loop, c.i32(), a.i32(), b.i32(), out.i32(), begin, end);
    }
  });
}

void InitElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("copy", Napi::Function::New(env, Copy, "copy"));
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("where", Napi::Function::New(env, Where, "where"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(elementwise, InitElementwise);

}  // namespace tessera
