// CMD (central moment discrepancy) statistics of a dense [n, d] matrix: column
// means and central moments c_2..c_k, and the fused backward.
//
// Forward: one pass for the means, one pass for every central moment at once.
// Each pass splits the rows into one slot per chunk of rows (threaded), walks
// them in blocks of kRowBlock rows (those stay in L2 while all columns are
// swept), keeps float accumulators in registers over a block and adds them into
// the slot's double partials; slots are summed in double at the end.
// Backward: dL/dx is a polynomial of degree k-1 in (x - mean) per column, so one
// elementwise pass evaluates it by Horner's rule.
#include <algorithm>
#include <vector>

#include "families.h"
#include "simd.h"
#include "threadpool.h"

namespace tessera {
namespace {

constexpr int64_t kRowBlock = 256;  // rows summed in float registers before spilling to double
constexpr int kMaxPowers = 8;       // powers summed in one pass; more take further passes

/** sums[j][c] += sum over rows [r0, r1) of (x[r, c] - center[c])^(first + j), j < NP,
 *  for the CB vectors of Wd columns starting at column c0. */
template <int Wd, int NP, int CB>
TESSERA_INLINE void power_block(const float* x, int64_t d, int64_t r0, int64_t r1, int64_t c0, const float* center,
                                int first, double* sums) {
  using V = Vec<Wd>;
  typename V::F ctr[CB], acc[NP][CB];
  for (int b = 0; b < CB; b++) {
    ctr[b] = center ? V::load(center + c0 + b * Wd) : V::splat(0.f);
    for (int j = 0; j < NP; j++) acc[j][b] = V::splat(0.f);
  }
  for (int64_t r = r0; r < r1; r++) {
    for (int b = 0; b < CB; b++) {
      const typename V::F dl = V::load(x + r * d + c0 + b * Wd) - ctr[b];
      typename V::F p = dl;
      for (int i = 1; i < first; i++) p *= dl;
      acc[0][b] += p;
      for (int j = 1; j < NP; j++) {
        p *= dl;
        acc[j][b] += p;
      }
    }
  }
  for (int j = 0; j < NP; j++)
    for (int b = 0; b < CB; b++) {
      float lanes[Wd];
      V::store(lanes, acc[j][b]);
      for (int l = 0; l < Wd; l++) sums[j * d + c0 + b * Wd + l] += lanes[l];
    }
}

/** power_block over the columns [c, d): as many CB-vector blocks of the widest
 *  vectors as fit (CB sized so accumulators stay in registers), then narrower
 *  vectors, then scalars for the last few columns. */
template <int Wd, int NP, int CB>
TESSERA_INLINE void power_columns(const float* x, int64_t d, int64_t r0, int64_t r1, int64_t c, const float* center,
                                  int first, double* sums) {
  for (; c + CB * Wd <= d; c += CB * Wd) power_block<Wd, NP, CB>(x, d, r0, r1, c, center, first, sums);
  for (; c + Wd <= d; c += Wd) power_block<Wd, NP, 1>(x, d, r0, r1, c, center, first, sums);
  if constexpr (Wd > 4) {
    power_columns<Wd / 2, NP, 1>(x, d, r0, r1, c, center, first, sums);
  } else {
    for (; c < d; c++)
      for (int64_t r = r0; r < r1; r++) {
        const float dl = x[r * d + c] - (center ? center[c] : 0.f);
        float p = dl;
        for (int i = 1; i < first; i++) p *= dl;
        sums[c] += p;
        for (int j = 1; j < NP; j++) {
          p *= dl;
          sums[j * d + c] += p;
        }
      }
  }
}

template <int NP>
struct PowerSums {
  template <int W>
  struct Kernel {
    // Accumulators NP*CB plus CB centers plus a few temporaries fit the register file
    // (32 vector registers with AVX-512, 16 below).
    static constexpr int kRegisters = W == 16 ? 32 : 16;
    static constexpr int CB = std::max(1, std::min(4, (kRegisters - 4) / (NP + 1)));

    static TESSERA_INLINE void run(const float* x, int64_t d, int64_t r0, int64_t r1, const float* center, int first,
                                   double* sums) {
      for (int64_t rb = r0; rb < r1; rb += kRowBlock)
        power_columns<W, NP, CB>(x, d, rb, std::min(r1, rb + kRowBlock), 0, center, first, sums);
    }
  };
};

/** PowerSums<np> for np known only at run time (1 <= np <= NP). */
template <int NP = kMaxPowers>
void dispatch_power_sums(int np, const float* x, int64_t d, int64_t r0, int64_t r1, const float* center, int first,
                         double* sums) {
  if constexpr (NP >= 1) {
    if (np == NP) simd_dispatch<PowerSums<NP>::template Kernel>(x, d, r0, r1, center, first, sums);
    else dispatch_power_sums<NP - 1>(np, x, d, r0, r1, center, first, sums);
  }
}

/** A buffer of n zeros kept for the calling thread across calls: fresh memory costs a
 *  page fault per 4 KiB on first touch, which is slow on virtual machines. */
template <class T>
T* zeroed_scratch(int64_t n) {
  thread_local std::vector<T> buffer;
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(n);
  std::fill(buffer.begin(), buffer.begin() + n, T{});
  return buffer.data();
}

/** out[(j - first) * d + c] = mean over rows of (x[r, c] - center[c])^j for j in
 *  [first, last], center nullptr meaning 0. n > 0. */
void power_means(const float* x, int64_t n, int64_t d, const float* center, int first, int last, float* out) {
  const int64_t slots = std::max<int64_t>(1, std::min<int64_t>(num_threads() * 4, (n + kRowBlock - 1) / kRowBlock));
  for (int p0 = first; p0 <= last; p0 += kMaxPowers) {
    const int np = std::min(kMaxPowers, last - p0 + 1);
    double* partial = zeroed_scratch<double>(slots * np * d);
    parallel_for(slots, 1, [&](int64_t s0, int64_t s1) {
      for (int64_t s = s0; s < s1; s++)
        dispatch_power_sums(np, x, d, n * s / slots, n * (s + 1) / slots, center, p0, partial + s * np * d);
    });
    for (int64_t i = 0; i < np * d; i++) {
      double total = 0.0;
      for (int64_t s = 0; s < slots; s++) total += partial[s * np * d + i];
      out[(p0 - first) * d + i] = static_cast<float>(total / static_cast<double>(n));
    }
  }
}

Napi::Value CmdMoments(const Napi::CallbackInfo& info) {
  const char* kernel = "cmdMoments";
  Span<float> x = f32_arg(info, 0, kernel, "x");
  const int64_t n = size_arg(info, 1, kernel, "n"), d = size_arg(info, 2, kernel, "d");
  const int64_t k = size_arg(info, 3, kernel, "k");
  Span<float> mean = f32_arg(info, 4, kernel, "mean");
  Span<float> moments = f32_arg(info, 5, kernel, "moments");
  if (k < 1 || k > 1024) fail(std::string(kernel) + ": k must be in [1, 1024], got " + std::to_string(k) + " (cpu backend)");
  require_length(kernel, "x", x.size, checked_product({n, d}, kernel));
  require_length(kernel, "mean", mean.size, d);
  require_length(kernel, "moments", moments.size, checked_product({k - 1, d}, kernel));
  if (n == 0) {  // as the reference: empty statistics are zero
    std::fill(mean.data, mean.data + d, 0.f);
    std::fill(moments.data, moments.data + (k - 1) * d, 0.f);
    return info.Env().Undefined();
  }
  if (d == 0) return info.Env().Undefined();
  power_means(x.data, n, d, nullptr, 1, 1, mean.data);
  if (k >= 2) power_means(x.data, n, d, mean.data, 2, static_cast<int>(k), moments.data);
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- backward

/** gx[r, c] = sum_i coef[i][c] * (x[r, c] - mean[c])^i, i < degree + 1, by Horner's rule. */
template <int W>
struct PolynomialRows {
  template <int Wd>
  static TESSERA_INLINE void vector_at(const float* x, int64_t d, int64_t r, int64_t c, const float* mean,
                                       const float* coef, int degree, float* gx) {
    using V = Vec<Wd>;
    const typename V::F dl = V::load(x + r * d + c) - V::load(mean + c);
    typename V::F g = V::load(coef + degree * d + c);
    for (int i = degree - 1; i >= 0; i--) g = g * dl + V::load(coef + i * d + c);
    V::store(gx + r * d + c, g);
  }

  template <int Wd>
  static TESSERA_INLINE void row_from(const float* x, int64_t d, int64_t r, int64_t c, const float* mean,
                                      const float* coef, int degree, float* gx) {
    for (; c + Wd <= d; c += Wd) vector_at<Wd>(x, d, r, c, mean, coef, degree, gx);
    if constexpr (Wd > 4) {
      row_from<Wd / 2>(x, d, r, c, mean, coef, degree, gx);
    } else {
      for (; c < d; c++) {
        const float dl = x[r * d + c] - mean[c];
        float g = coef[degree * d + c];
        for (int i = degree - 1; i >= 0; i--) g = g * dl + coef[i * d + c];
        gx[r * d + c] = g;
      }
    }
  }

  static TESSERA_INLINE void run(const float* x, int64_t d, int64_t r0, int64_t r1, const float* mean,
                                 const float* coef, int degree, float* gx) {
    for (int64_t r = r0; r < r1; r++) row_from<W>(x, d, r, 0, mean, coef, degree, gx);
  }
};

Napi::Value CmdMomentsBackward(const Napi::CallbackInfo& info) {
  const char* kernel = "cmdMomentsBackward";
  Span<float> x = f32_arg(info, 0, kernel, "x");
  const int64_t n = size_arg(info, 1, kernel, "n"), d = size_arg(info, 2, kernel, "d");
  const int64_t k = size_arg(info, 3, kernel, "k");
  Span<float> mean = f32_arg(info, 4, kernel, "mean");
  Span<float> moments = f32_arg(info, 5, kernel, "moments");
  Span<float> g_mean = f32_arg(info, 6, kernel, "gMean");
  Span<float> g_moments = f32_arg(info, 7, kernel, "gMoments");
  Span<float> out = f32_arg(info, 8, kernel, "out");
  if (k < 1 || k > 1024) fail(std::string(kernel) + ": k must be in [1, 1024], got " + std::to_string(k) + " (cpu backend)");
  const int64_t size = checked_product({n, d}, kernel), moment_size = checked_product({k - 1, d}, kernel);
  require_length(kernel, "x", x.size, size);
  require_length(kernel, "mean", mean.size, d);
  require_length(kernel, "moments", moments.size, moment_size);
  require_length(kernel, "gMean", g_mean.size, d);
  require_length(kernel, "gMoments", g_moments.size, moment_size);
  require_length(kernel, "out", out.size, size);
  if (size == 0) return info.Env().Undefined();

  // gx = gmean/n + sum_{j=2..k} a_j ((x - mean)^(j-1) - c_(j-1)), a_j = gc_j * j / n, c_1 = 0:
  // the coefficient of (x - mean)^(j-1) is a_j, and the constant collects the rest.
  const int degree = static_cast<int>(k - 1);
  float* coef = zeroed_scratch<float>(k * d);
  const double inv_n = 1.0 / static_cast<double>(n);
  for (int64_t c = 0; c < d; c++) {
    double constant = g_mean.data[c] * inv_n;
    for (int64_t j = 2; j <= k; j++) {
      const double a = g_moments.data[(j - 2) * d + c] * static_cast<double>(j) * inv_n;
      coef[(j - 1) * d + c] = static_cast<float>(a);
      if (j >= 3) constant -= a * moments.data[(j - 3) * d + c];
    }
    coef[c] = static_cast<float>(constant);
  }
  const int64_t grain = std::max<int64_t>(1, 32768 / (d * k));
  parallel_for(n, grain, [&](int64_t r0, int64_t r1) {
    simd_dispatch<PolynomialRows>(x.data, d, r0, r1, mean.data, coef, degree, out.data);
  });
  return info.Env().Undefined();
}

void InitCmd(Napi::Env env, Napi::Object exports) {
  exports.Set("cmdMoments", Napi::Function::New(env, CmdMoments, "cmdMoments"));
  exports.Set("cmdMomentsBackward", Napi::Function::New(env, CmdMomentsBackward, "cmdMomentsBackward"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(cmd, InitCmd);

}  // namespace tessera
