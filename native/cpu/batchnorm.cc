// Batch normalization with batch statistics over x dense [outer, channels, inner]
// (src/backend/interface.ts: batchNormForward, batchNormBackward), the activation fused.
// Threads split the channels. A channel is `outer` spans of `inner` floats, walked by
// every pass back to back, so the later passes find them in cache: forward, the mean,
// the variance of x - mean, then out; backward, dL/dz (into gx) with its two sums,
// then gx from it.
#include <algorithm>
#include <cmath>
#include <string>

#include "families.h"
#include "simd.h"
#include "threadpool.h"

namespace tessera {
namespace {

/** The first n <= W floats at p as a vector, `fill` in the lanes past n. */
template <int W>
TESSERA_INLINE typename Vec<W>::F load_n(const float* p, int64_t n, float fill) {
  if (n >= W) return Vec<W>::load(p);
  float lanes[W];
  for (int l = 0; l < W; l++) lanes[l] = l < n ? p[l] : fill;
  return Vec<W>::load(lanes);
}

template <int W>
TESSERA_INLINE void store_n(float* p, typename Vec<W>::F v, int64_t n) {
  if (n >= W) return Vec<W>::store(p, v);
  float lanes[W];
  Vec<W>::store(lanes, v);
  for (int l = 0; l < n; l++) p[l] = lanes[l];
}

/** act(z) and act'(z) for the tsr_norm_activation ACT. */
template <int W, int ACT>
TESSERA_INLINE typename Vec<W>::F activate(typename Vec<W>::F z) {
  using V = Vec<W>;
  if constexpr (ACT == TSR_NORM_ACT_RELU) return V::select(z > 0.f, z, V::splat(0.f));
  else if constexpr (ACT == TSR_NORM_ACT_SILU) return z * vsigmoid<W>(z);
  else return z;
}
template <int W, int ACT>
TESSERA_INLINE typename Vec<W>::F slope(typename Vec<W>::F z) {
  using V = Vec<W>;
  if constexpr (ACT == TSR_NORM_ACT_RELU) return V::select(z > 0.f, V::splat(1.f), V::splat(0.f));
  else if constexpr (ACT == TSR_NORM_ACT_SILU) {
    const typename V::F s = vsigmoid<W>(z);
    return s * (1.f + z * (1.f - s));
  } else return V::splat(1.f);
}

/** The element offset of span n of channel c. */
TESSERA_INLINE int64_t span(const tsr_batchnorm_params& p, int64_t n, int64_t c) { return (n * p.channels + c) * p.inner; }

template <int ACT>
struct Forward {
  template <int W>
  struct Kernel {
    static TESSERA_INLINE void run(const float* x, const float* weight, const float* bias, const float* addend, float* out,
                                   float* stats, const tsr_batchnorm_params* pp, int64_t c0, int64_t c1) {
      using V = Vec<W>;
      const tsr_batchnorm_params& p = *pp;
      const int64_t inner = p.inner;
      const double count = static_cast<double>(p.outer * inner);
      for (int64_t c = c0; c < c1; c++) {
        // Float lanes sum one span; spans add up in double.
        double sum = 0.0;
        for (int64_t n = 0; n < p.outer; n++) {
          const float* xs = x + span(p, n, c);
          typename V::F acc = V::splat(0.f);
          for (int64_t k = 0; k < inner; k += W) acc += load_n<W>(xs + k, inner - k, 0.f);
          sum += V::sum(acc);
        }
        const float mean = static_cast<float>(sum / count);
        double squares = 0.0;
        for (int64_t n = 0; n < p.outer; n++) {
          const float* xs = x + span(p, n, c);
          typename V::F acc = V::splat(0.f);
          for (int64_t k = 0; k < inner; k += W) {
            const typename V::F d = load_n<W>(xs + k, inner - k, mean) - mean;
            acc += d * d;
          }
          squares += V::sum(acc);
        }
        const double variance = squares / count;
        stats[c] = mean;
        stats[p.channels + c] = static_cast<float>(variance);
        const float scale = static_cast<float>(weight[c] / std::sqrt(variance + p.eps)), shift = bias[c];
        for (int64_t n = 0; n < p.outer; n++) {
          const int64_t at = span(p, n, c);
          for (int64_t k = 0; k < inner; k += W) {
            typename V::F z = (load_n<W>(x + at + k, inner - k, mean) - mean) * scale + shift;
            if (addend) z += load_n<W>(addend + at + k, inner - k, 0.f);
            store_n<W>(out + at + k, activate<W, ACT>(z), inner - k);
          }
        }
      }
    }
  };
};

template <int ACT>
struct Backward {
  template <int W>
  struct Kernel {
    static TESSERA_INLINE void run(const float* g, const float* x, const float* weight, const float* bias,
                                   const float* addend, const float* stats, float* gx, float* sums, float* gz,
                                   const tsr_batchnorm_params* pp, int64_t c0, int64_t c1) {
      using V = Vec<W>;
      const tsr_batchnorm_params& p = *pp;
      const int64_t inner = p.inner;
      const double count = static_cast<double>(p.outer * inner);
      for (int64_t c = c0; c < c1; c++) {
        const float mean = stats[c];
        const double inv_std = 1.0 / std::sqrt(static_cast<double>(stats[p.channels + c]) + p.eps);
        const float scale = static_cast<float>(weight[c] * inv_std), shift = bias[c];
        // dL/dz into gx (and gz when asked), with the sums of dL/dz and of dL/dz * (x - mean).
        double g_sum = 0.0, g_centered_sum = 0.0;
        for (int64_t n = 0; n < p.outer; n++) {
          const int64_t at = span(p, n, c);
          typename V::F acc = V::splat(0.f), acc_centered = V::splat(0.f);
          for (int64_t k = 0; k < inner; k += W) {
            const typename V::F centered = load_n<W>(x + at + k, inner - k, mean) - mean;
            typename V::F z = centered * scale + shift;
            if (addend) z += load_n<W>(addend + at + k, inner - k, 0.f);
            // Lanes past the span read g = 0, so they add nothing to the sums.
            const typename V::F gzv = load_n<W>(g + at + k, inner - k, 0.f) * slope<W, ACT>(z);
            acc += gzv;
            acc_centered += gzv * centered;
            store_n<W>(gx + at + k, gzv, inner - k);
            if (gz) store_n<W>(gz + at + k, gzv, inner - k);
          }
          g_sum += V::sum(acc);
          g_centered_sum += V::sum(acc_centered);
        }
        sums[c] = static_cast<float>(g_sum);
        sums[p.channels + c] = static_cast<float>(g_centered_sum * inv_std);
        // gx = scale * (gz - mean(gz) - (x - mean) * invStd^2 * mean(gz * (x - mean))).
        const float g_mean = static_cast<float>(g_sum / count);
        const float centered_coef = static_cast<float>(g_centered_sum / count * inv_std * inv_std);
        for (int64_t n = 0; n < p.outer; n++) {
          const int64_t at = span(p, n, c);
          for (int64_t k = 0; k < inner; k += W) {
            const typename V::F centered = load_n<W>(x + at + k, inner - k, mean) - mean;
            const typename V::F gzv = load_n<W>(gx + at + k, inner - k, 0.f);
            store_n<W>(gx + at + k, (gzv - g_mean - centered * centered_coef) * scale, inner - k);
          }
        }
      }
    }
  };
};

/** Runs Family<ACT>::Kernel for the record's activation. */
template <template <int> class Family, class... Args>
void dispatch_activation(int64_t act, Args... args) {
  switch (act) {
    case TSR_NORM_ACT_RELU: return simd_dispatch<Family<TSR_NORM_ACT_RELU>::template Kernel>(args...);
    case TSR_NORM_ACT_SILU: return simd_dispatch<Family<TSR_NORM_ACT_SILU>::template Kernel>(args...);
    default: return simd_dispatch<Family<TSR_NORM_ACT_NONE>::template Kernel>(args...);
  }
}

tsr_batchnorm_params batchnorm_params(const Napi::CallbackInfo& info, size_t i, const char* kernel) {
  const tsr_batchnorm_params p = record_arg<tsr_batchnorm_params>(info, i, kernel);
  if (p.outer < 0 || p.channels < 0 || p.inner < 0 || (p.channels > 0 && p.outer * p.inner < 1) ||
      p.act < 0 || p.act >= TSR_NORM_ACT_COUNT || !(p.eps >= 0)) {
    fail(std::string(kernel) + ": needs outer, channels, inner >= 0 with outer * inner >= 1, eps >= 0 and a known " +
         "activation, got outer " + std::to_string(p.outer) + ", channels " + std::to_string(p.channels) + ", inner " +
         std::to_string(p.inner) + ", eps " + std::to_string(p.eps) + ", act " + std::to_string(p.act) + " (cpu backend)");
  }
  return p;
}

/** Channels per thread task: about 32K elements, so that small layers do not pay a hand-off per channel. */
int64_t channel_grain(const tsr_batchnorm_params& p) {
  return std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(1, p.outer * p.inner));
}

// batchNormForward(x, weight, bias, addend?, out, stats, record)
Napi::Value BatchNormForward(const Napi::CallbackInfo& info) {
  const char* kernel = "batchNormForward";
  const tsr_batchnorm_params p = batchnorm_params(info, 6, kernel);
  const int64_t size = checked_product({p.outer, p.channels, p.inner}, kernel);
  Span<float> x = f32_arg(info, 0, kernel, "x"), weight = f32_arg(info, 1, kernel, "weight");
  Span<float> bias = f32_arg(info, 2, kernel, "bias"), addend = optional_f32_arg(info, 3, kernel, "addend");
  Span<float> out = f32_arg(info, 4, kernel, "out"), stats = f32_arg(info, 5, kernel, "stats");
  require_length(kernel, "x", x.size, size);
  require_length(kernel, "weight", weight.size, p.channels);
  require_length(kernel, "bias", bias.size, p.channels);
  if (addend.data) require_length(kernel, "addend", addend.size, size);
  require_length(kernel, "out", out.size, size);
  require_length(kernel, "stats", stats.size, 2 * p.channels);
  parallel_for(p.channels, channel_grain(p), [&](int64_t c0, int64_t c1) {
    dispatch_activation<Forward>(p.act, static_cast<const float*>(x.data), static_cast<const float*>(weight.data),
                                 static_cast<const float*>(bias.data), static_cast<const float*>(addend.data), out.data,
                                 stats.data, &p, c0, c1);
  });
  return info.Env().Undefined();
}

// batchNormBackward(gOut, x, weight, bias, addend?, stats, gx, sums, gz?, record)
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  const char* kernel = "batchNormBackward";
  const tsr_batchnorm_params p = batchnorm_params(info, 9, kernel);
  const int64_t size = checked_product({p.outer, p.channels, p.inner}, kernel);
  Span<float> g = f32_arg(info, 0, kernel, "gOut"), x = f32_arg(info, 1, kernel, "x");
  Span<float> weight = f32_arg(info, 2, kernel, "weight"), bias = f32_arg(info, 3, kernel, "bias");
  Span<float> addend = optional_f32_arg(info, 4, kernel, "addend"), stats = f32_arg(info, 5, kernel, "stats");
  Span<float> gx = f32_arg(info, 6, kernel, "gx"), sums = f32_arg(info, 7, kernel, "sums");
  Span<float> gz = optional_f32_arg(info, 8, kernel, "gz");
  require_length(kernel, "gOut", g.size, size);
  require_length(kernel, "x", x.size, size);
  require_length(kernel, "weight", weight.size, p.channels);
  require_length(kernel, "bias", bias.size, p.channels);
  if (addend.data) require_length(kernel, "addend", addend.size, size);
  require_length(kernel, "stats", stats.size, 2 * p.channels);
  require_length(kernel, "gx", gx.size, size);
  require_length(kernel, "sums", sums.size, 2 * p.channels);
  if (gz.data) require_length(kernel, "gz", gz.size, size);
  parallel_for(p.channels, channel_grain(p), [&](int64_t c0, int64_t c1) {
    dispatch_activation<Backward>(p.act, static_cast<const float*>(g.data), static_cast<const float*>(x.data),
                                  static_cast<const float*>(weight.data), static_cast<const float*>(bias.data),
                                  static_cast<const float*>(addend.data), static_cast<const float*>(stats.data), gx.data,
                                  sums.data, gz.data, &p, c0, c1);
  });
  return info.Env().Undefined();
}

void InitBatchNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNormForward", Napi::Function::New(env, BatchNormForward, "batchNormForward"));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward, "batchNormBackward"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(batchnorm, InitBatchNorm);

}  // namespace tessera
