// Portable SIMD for the CPU kernels.
//
// Kernels are written once as `template <int W> struct K { static TESSERA_INLINE R run(...); }`
// over W-lane GCC vector types, and simd_dispatch<K>(...) runs K<8> inside an
// __attribute__((target("avx512f,..."))) function or inside a target("avx2,fma") one, or K<4>
// (the portable baseline: SSE2 on x86-64, NEON or plain scalar code elsewhere), as chosen at run
// time with __builtin_cpu_supports. Everything a kernel calls must be TESSERA_INLINE so that it is
// compiled for the target of the function it lands in. The library itself is built for plain
// x86-64, so it runs on any x86-64 CPU.
//
// Why 8 lanes under AVX-512: GCC 12 has no pattern for a 16-lane select on an integer-vector mask
// (AVX-512 compares produce mask registers), so generic 512-bit code with selects is scalarized
// lane by lane. 256-bit vectors under the AVX-512 target still get EVEX encodings and 32
// registers. The GEMM micro-kernel, where width pays, uses 512-bit intrinsics (gemm.cc); a kernel whose
// 16-lane code compiles cleanly opts in to 16 lanes (kAvx512Lanes, under "dispatch" below).
//
// Call simd_dispatch from inside a parallel_for body, never the other way round: a lambda is a
// separate function and would lose the target.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace tessera {

#define TESSERA_INLINE inline __attribute__((always_inline))
// On a lambda (after its parameter list): forces it into the SIMD function that calls it.
#define TESSERA_LAMBDA_INLINE __attribute__((always_inline))

#if defined(__x86_64__) || defined(__i386__)
#define TESSERA_X86 1
#define TESSERA_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define TESSERA_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
#endif

enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2 };

/** The widest instruction set this CPU supports (and this build can use). */
Isa best_isa();
/** The instruction set kernels use now: best_isa() unless lowered by set_active_isa. */
Isa active_isa();
/** Lowers (or restores) the instruction set kernels use, capped at best_isa(); returns the one in effect.
 *  Lets tests run every code path on one machine. */
Isa set_active_isa(Isa wanted);
const char* isa_name(Isa isa);

template <int W>
struct Vec {
  typedef float F __attribute__((vector_size(W * 4)));
  typedef int32_t I __attribute__((vector_size(W * 4)));
  static TESSERA_INLINE F load(const float* p) { F v; std::memcpy(&v, p, sizeof v); return v; }
  static TESSERA_INLINE void store(float* p, F v) { std::memcpy(p, &v, sizeof v); }
  static TESSERA_INLINE F splat(float s) { return s - F{}; }  // not 0 + s, which would not fold for s = -0
  static TESSERA_INLINE I splat_i(int32_t s) { return I{} + s; }
  static TESSERA_INLINE F as_float(I v) { return (F)v; }     // bit casts
  static TESSERA_INLINE I as_int(F v) { return (I)v; }
  static TESSERA_INLINE F select(I mask, F a, F b) { return mask ? a : b; }
  static TESSERA_INLINE F min(F a, F b) { return a < b ? a : b; }
  static TESSERA_INLINE F max(F a, F b) { return a > b ? a : b; }
  static TESSERA_INLINE F abs(F x) { return as_float(as_int(x) & 0x7fffffff); }
  /** Lane by lane through a scalar function (sqrt, floor, sin...); loops like this vectorize
   *  where the target has the instruction. */
  template <class Fn>
  static TESSERA_INLINE F each(F x, Fn fn) {
    // Through an array: GCC does not subscript vectors whose width depends on a template parameter.
    float lanes[W];
    std::memcpy(lanes, &x, sizeof x);
    for (int i = 0; i < W; i++) lanes[i] = fn(lanes[i]);
    return load(lanes);
  }
  static TESSERA_INLINE float sum(F v) {
    float lanes[W];
    std::memcpy(lanes, &v, sizeof v);
    for (int half = W / 2; half >= 1; half /= 2)
      for (int i = 0; i < half; i++) lanes[i] += lanes[i + half];
    return lanes[0];
  }
};

// ---- vector math: float32 to a few ulp, special values as in libm ----

/** 2^n for integer-valued n in [-150, 129], as two factors so that results in the subnormal
 *  and the top binade are exact until the final rounding. */
template <int W>
TESSERA_INLINE typename Vec<W>::F scale_by_pow2(typename Vec<W>::F y, typename Vec<W>::I n) {
  using V = Vec<W>;
  typename V::I half = n >> 1;
  y = y * V::as_float((half + 127) << 23);
  return y * V::as_float((n - half + 127) << 23);
}

template <int W>
TESSERA_INLINE typename Vec<W>::F vexp(typename Vec<W>::F x) {
  using V = Vec<W>;
  using F = typename V::F;
  // Clamp (NaN passes through both comparisons untouched) so n stays within scale_by_pow2's range.
  x = x > 89.f ? V::splat(89.f) : x;
  x = x < -104.f ? V::splat(-104.f) : x;
  // n = round(x / ln2) by the 1.5 * 2^23 trick; r = x - n ln2 with ln2 split in two (Cephes expf).
  F t = x * 1.44269504088896341f;
  F n = (t + 12582912.f) - 12582912.f;
  F r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  F p = Vec<W>::splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  F y = p * (r * r) + r + 1.f;
  return scale_by_pow2<W>(y, __builtin_convertvector(n, typename V::I));
}

template <int W>
TESSERA_INLINE typename Vec<W>::F vlog(typename Vec<W>::F x) {
  using V = Vec<W>;
  using F = typename V::F;
  using I = typename V::I;
  // Subnormals: scale into the normal range first.
  I subnormal = x < 1.17549435e-38f;
  F xs = V::select(subnormal, x * 8388608.f, x);
  I bits = V::as_int(xs);
  I e = ((bits >> 23) & 0xff) - 126 - (subnormal & 23);
  F m = V::as_float((bits & 0x007fffff) | 0x3f000000);  // in [0.5, 1)
  // Cephes logf: fold m into [sqrt(1/2), sqrt(2)) and evaluate log(1 + f).
  I small = m < 0.707106781186547524f;
  e = e + small;  // small is -1 (all bits) where true
  F f = V::select(small, m + m, m) - 1.f;
  F ef = __builtin_convertvector(e, F);
  F z = f * f;
  F p = Vec<W>::splat(7.0376836292e-2f);
  p = p * f + -1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f + -1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f + -1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f + -2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  F y = p * f * z;
  y = y + ef * -2.12194440e-4f;
  y = y - 0.5f * z;
  F r = f + y + ef * 0.693359375f;
  // Special values: log(0) = -inf, log(negative) = NaN, log(inf) = inf, NaN stays NaN.
  const float inf = std::numeric_limits<float>::infinity();
  r = V::select(x == 0.f, V::splat(-inf), r);
  r = V::select(x < 0.f, V::splat(std::numeric_limits<float>::quiet_NaN()), r);
  r = V::select(x == inf, x, r);
  return V::select(x != x, x, r);
}

/** log(1 + x) accurate near 0: log(u) * x / (u - 1) with u = 1 + x (Goldberg's correction). */
template <int W>
TESSERA_INLINE typename Vec<W>::F vlog1p(typename Vec<W>::F x) {
  using V = Vec<W>;
  typename V::F u = x + 1.f;
  typename V::F d = u - 1.f;
  typename V::F r = vlog<W>(u) * (x / d);
  r = V::select(d == 0.f, x, r);                       // u rounded to 1: log1p(x) = x
  return V::select(u == std::numeric_limits<float>::infinity(), u, r);
}

/** exp(x) - 1 accurate near 0: (u - 1) * x / log(u) with u = exp(x) (Kahan's correction). */
template <int W>
TESSERA_INLINE typename Vec<W>::F vexpm1(typename Vec<W>::F x) {
  using V = Vec<W>;
  typename V::F u = vexp<W>(x);
  typename V::F r = (u - 1.f) * (x / vlog<W>(u));
  r = V::select(u == 1.f, x, r);
  // Far below 0 the correction would divide by the log of a subnormal u; u - 1 is exact enough there.
  r = V::select(x < -10.f, u - 1.f, r);
  r = V::select(u == std::numeric_limits<float>::infinity(), u, r);
  return V::select(x != x, x, r);
}

template <int W>
TESSERA_INLINE typename Vec<W>::F vsigmoid(typename Vec<W>::F x) {
  return 1.f / (1.f + vexp<W>(-x));
}

template <int W>
TESSERA_INLINE typename Vec<W>::F vtanh(typename Vec<W>::F x) {
  using V = Vec<W>;
  using F = typename V::F;
  F ax = V::abs(x);
  // |x| < 0.625: odd polynomial (Cephes tanhf); beyond, 1 - 2 / (exp(2|x|) + 1) loses nothing.
  F z = x * x;
  F p = Vec<W>::splat(-5.70498872745e-3f);
  p = p * z + 2.06390887954e-2f;
  p = p * z + -5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z + -3.33332819422e-1f;
  F small = p * z * x + x;
  F big = 1.f - 2.f / (vexp<W>(ax + ax) + 1.f);
  big = V::as_float(V::as_int(big) | (V::as_int(x) & (int32_t)0x80000000));  // sign of x
  return V::select(ax < 0.625f, small, big);
}

/** Whether any lane of a mask is set. */
template <int W>
TESSERA_INLINE bool any(typename Vec<W>::I m) {
  int32_t lanes[W];
  std::memcpy(lanes, &m, sizeof lanes);
  int32_t acc = 0;
  for (int i = 0; i < W; i++) acc |= lanes[i];
  return acc != 0;
}

/** sin(x) or cos(x) (Cephes sinf/cosf): reduction by pi/4 in three parts, exact enough for
 *  |x| <= 8192; vectors holding a larger or non-finite x go lane by lane through libm. */
template <int W, bool Cos>
TESSERA_INLINE typename Vec<W>::F vsincos(typename Vec<W>::F x) {
  using V = Vec<W>;
  using F = typename V::F;
  using I = typename V::I;
  F ax = V::abs(x);
  if (any<W>((ax > 8192.f) | (ax != ax))) {
    return V::each(x, [](float v) TESSERA_LAMBDA_INLINE { return Cos ? std::cos(v) : std::sin(v); });
  }
  // Octant j (rounded up to even, so the remainder lies in [-pi/4, pi/4]).
  I j = __builtin_convertvector(ax * 1.27323954473516f, I);
  j = (j + 1) & ~1;
  F y = __builtin_convertvector(j, F);
  I sign;
  if constexpr (Cos) {
    j = j - 2;
    sign = (~j & 4) << 29;
  } else {
    sign = (V::as_int(x) & (int32_t)0x80000000) ^ ((j & 4) << 29);
  }
  const I use_sin_poly = (j & 2) == 0;
  F r = ((ax - y * 0.78515625f) - y * 2.4187564849853515625e-4f) - y * 3.77489497744594108e-8f;
  F z = r * r;
  F c = Vec<W>::splat(2.443315711809948e-5f);
  c = c * z + -1.388731625493765e-3f;
  c = c * z + 4.166664568298827e-2f;
  c = c * z * z - 0.5f * z + 1.f;
  F sn = Vec<W>::splat(-1.9515295891e-4f);
  sn = sn * z + 8.3321608736e-3f;
  sn = sn * z + -1.6666654611e-1f;
  sn = sn * z * r + r;
  return V::as_float(V::as_int(V::select(use_sin_poly, sn, c)) ^ sign);
}

/** erf / erfc pieces for gelu, with a few ulp relative error also deep in the upper tail of erfc
 *  (gelu needs 1 + erf(x) for very negative x): erf(z) = z * P(z^2) near 0, erfc(z) =
 *  exp(-z^2) * Q(1 / (1 + |z|/2)) beyond. Coefficients were fitted (weighted least squares on the
 *  relative error) against mpmath. */
template <int W>
TESSERA_INLINE typename Vec<W>::F verf_small(typename Vec<W>::F z) {
  typename Vec<W>::F s = z * z;
  typename Vec<W>::F p = Vec<W>::splat(-0.000598454027921233f);
  p = p * s + 0.004991738481403635f;
  p = p * s + -0.026765432889484228f;
  p = p * s + 0.11281774626704497f;
  p = p * s + -0.3761248804209365f;
  p = p * s + 1.1283791477679619f;
  return z * p;
}
constexpr float kErfSplit = 0.921875f;

/** exp(-a^2 * half_or_one) (the factor is 0.5 or 1, so scaling is exact) without rounding a^2, which
 *  would cost a^2 * 2^-24 relative error: a = hi + lo with hi of 12 significant bits, so hi^2 is exact
 *  and the rest, d = a^2 - hi^2, is below a^2 * 2^-11; exp(-d) to third order is exact to float
 *  precision while d < 0.05, which holds wherever the result does not underflow. */
template <int W>
TESSERA_INLINE typename Vec<W>::F vexp_neg_square(typename Vec<W>::F a, float half_or_one) {
  using V = Vec<W>;
  using F = typename V::F;
  a = V::abs(a);
  a = a > 20.f ? V::splat(20.f) : a;  // the result is 0 from here on; keeps d finite (NaN passes)
  F hi = V::as_float(V::as_int(a) & (int32_t)0xfffff000);
  F d = (a - hi) * (hi + a) * half_or_one;
  F exp_d = 1.f - d * (1.f - d * (0.5f - d * 0.16666667f));
  return vexp<W>(-(hi * hi * half_or_one)) * exp_d;
}

/** erfc(az) for az >= kErfSplit, given e = exp(-az^2): e * Q(1 / (1 + az/2)). */
template <int W>
TESSERA_INLINE typename Vec<W>::F verfc_tail(typename Vec<W>::F az, typename Vec<W>::F e) {
  using F = typename Vec<W>::F;
  F u = 1.f / (1.f + 0.5f * az);
  F q = Vec<W>::splat(0.07737302325097341f);
  q = q * u + -0.1745855440263661f;
  q = q * u + 0.011973654705438631f;
  q = q * u + 0.11431657759529636f;
  q = q * u + 0.15437184903519396f;
  q = q * u + 0.25387832044335346f;
  q = q * u + 0.2808576811617095f;
  q = q * u + 0.28220976190698266f;
  q = q * u + -4.4264216860798004e-06f;
  return e * q;
}

/** erfc(z) given e = exp(-z^2) (computed by the caller from exact inputs). */
template <int W>
TESSERA_INLINE typename Vec<W>::F verfc_with(typename Vec<W>::F z, typename Vec<W>::F e) {
  using V = Vec<W>;
  typename V::F az = V::abs(z);
  typename V::F tail = verfc_tail<W>(az, e);
  typename V::F r = V::select(z < 0.f, 2.f - tail, tail);
  return V::select(az < kErfSplit, 1.f - verf_small<W>(z), r);
}

/** gelu(x) = x/2 * (1 + erf(x/sqrt2)) = x/2 * erfc(-x/sqrt2), exact (erf) form as torch. exp(-x^2/2)
 *  comes from x itself: x/sqrt2 is rounded, and squaring that rounding error would show in the tail. */
template <int W>
TESSERA_INLINE typename Vec<W>::F vgelu(typename Vec<W>::F x) {
  return 0.5f * x * verfc_with<W>(x * -0.70710678118654752f, vexp_neg_square<W>(x, 0.5f));
}

template <int W>
TESSERA_INLINE typename Vec<W>::F vgelu_grad(typename Vec<W>::F x) {
  typename Vec<W>::F e = vexp_neg_square<W>(x, 0.5f);
  return 0.5f * verfc_with<W>(x * -0.70710678118654752f, e) + x * 0.39894228040143268f * e;
}

// ---- dispatch ----

namespace detail {
/** The lanes Kernel runs with under AVX-512: 8 (see the top of this file) unless the kernel declares
 *  `static constexpr int kAvx512Lanes = 16`, which one may do once its 16-lane code was checked to compile to
 *  512-bit instructions throughout: some compares and selects do, others (float == and !=, x != x, some
 *  selects) fall back lane by lane, so look for scalar compares (vucomiss) or inserts in the disassembly and
 *  measure. It pays where a kernel is bound by arithmetic, e.g. the LSTM cell's sigmoids and tanhs. */
template <template <int> class Kernel, class = void>
struct Avx512Lanes { static constexpr int value = 8; };
template <template <int> class Kernel>
struct Avx512Lanes<Kernel, std::void_t<decltype(Kernel<8>::kAvx512Lanes)>> {
  static constexpr int value = Kernel<8>::kAvx512Lanes;
};
#ifdef TESSERA_X86
template <template <int> class Kernel, class... Args>
TESSERA_TARGET_AVX512 decltype(auto) run_avx512(Args... args) { return Kernel<Avx512Lanes<Kernel>::value>::run(args...); }
template <template <int> class Kernel, class... Args>
TESSERA_TARGET_AVX2 decltype(auto) run_avx2(Args... args) { return Kernel<8>::run(args...); }
#endif
template <template <int> class Kernel, class... Args>
decltype(auto) run_baseline(Args... args) { return Kernel<4>::run(args...); }
}  // namespace detail

/** Runs Kernel<W>::run(args...) for the given instruction set (which the CPU must support). */
template <template <int> class Kernel, class... Args>
decltype(auto) simd_run(Isa isa, Args... args) {
#ifdef TESSERA_X86
  switch (isa) {
    case Isa::avx512: return detail::run_avx512<Kernel>(args...);
    case Isa::avx2: return detail::run_avx2<Kernel>(args...);
    case Isa::scalar: break;
  }
#endif
  return detail::run_baseline<Kernel>(args...);
}

/** Runs Kernel<W>::run(args...) for active_isa(). */
template <template <int> class Kernel, class... Args>
decltype(auto) simd_dispatch(Args... args) {
  return simd_run<Kernel>(active_isa(), args...);
}

// ---- conversions shared by kernels that store into int32 ----

/** JavaScript's ToInt32 (what storing a number into an Int32Array does): truncate, wrap mod 2^32,
 *  NaN and infinities to 0. Matches the reference backend bit for bit. */
inline int32_t js_to_int32(double v) {
  if (v >= -2147483648.0 && v < 2147483648.0) return static_cast<int32_t>(v);
  if (!std::isfinite(v)) return 0;
  double m = std::fmod(std::trunc(v), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

}  // namespace tessera
