// 3D max and average pooling (NCDHW) and the average-pooling backward.
// Windows are clipped to the input once per axis, so the inner loops carry no
// bounds checks; cells are visited in the reference's order, so max pooling
// breaks ties (and treats NaN: any NaN wins, the last one as torch) exactly as the reference does.
#include <algorithm>
#include <cmath>
#include <vector>

#include "families.h"
#include "threadpool.h"

namespace tessera {
namespace {

struct PoolShape {
  int64_t N, C;
  int64_t in[3], out[3], k[3], stride[3], pad[3], dilation[3];
  bool count_include_pad;
  int64_t in_plane, out_plane, window;
};

/** The geometry of a tsr_pool_params record, checked where a bad value would take a kernel outside
 *  its buffers or divide by zero (the op has validated what users can get wrong). */
PoolShape pool_shape(const tsr_pool_params& p, const char* kernel) {
  const std::string where = std::string(kernel) + ": ";
  PoolShape s;
  s.N = p.N;
  s.C = p.C;
  const int64_t in[3] = {p.D, p.H, p.W}, k[3] = {p.kd, p.kh, p.kw}, out[3] = {p.oD, p.oH, p.oW};
  for (int a = 0; a < 3; a++) {
    s.in[a] = in[a];
    s.k[a] = k[a];
    s.stride[a] = p.stride[a];
    s.pad[a] = p.padding[a];
    s.dilation[a] = p.dilation[a];
    s.out[a] = out[a];
  }
  s.count_include_pad = p.count_include_pad != 0;
  for (int64_t x : {s.N, s.C, s.in[0], s.in[1], s.in[2], s.k[0], s.k[1], s.k[2], s.stride[0], s.stride[1],
                    s.stride[2], s.pad[0], s.pad[1], s.pad[2], s.out[0], s.out[1], s.out[2], s.dilation[0], s.dilation[1],
                    s.dilation[2]})
    if (x < 0 || x >= (int64_t{1} << 31)) fail(where + "params must be integers in [0, 2^31) (cpu backend)");
  for (int a = 0; a < 3; a++)
    if (s.in[a] < 1 || s.k[a] < 1 || s.stride[a] < 1 || s.dilation[a] < 1)
      fail(where + "input sizes, kernel sizes, strides and dilations must be >= 1 (cpu backend)");
  s.in_plane = checked_product({s.in[0], s.in[1], s.in[2]}, kernel);
  s.out_plane = checked_product({s.out[0], s.out[1], s.out[2]}, kernel);
  s.window = checked_product({s.k[0], s.k[1], s.k[2]}, kernel);
  return s;
}

/** The input positions lo, lo + step, ... < hi that output position o's window covers on axis a, and
 *  the window's length within the padded input (torch's divisor with count_include_pad; average
 *  pooling has no dilation). */
struct Span1 {
  int64_t lo, hi, step, padded;
};
Span1 window_on(const PoolShape& s, int a, int64_t o) {
  const int64_t start = o * s.stride[a] - s.pad[a], dil = s.dilation[a];
  const int64_t first = start < 0 ? (-start + dil - 1) / dil : 0;                       // first tap inside
  const int64_t end = std::min(s.k[a], (s.in[a] - start + dil - 1) / dil);              // past the last tap inside
  const int64_t padded = std::min(start + s.k[a], s.in[a] + s.pad[a]) - start;
  if (end <= first) return {start, start, dil, padded};
  return {start + first * dil, start + end * dil, dil, padded};
}

/** Average pooling's divisor for one window: the padded window (count_include_pad) or its cells inside. */
float avg_divisor(const PoolShape& s, Span1 dw, Span1 hw, Span1 ww) {
  if (s.count_include_pad) return static_cast<float>(dw.padded * hw.padded * ww.padded);
  return static_cast<float>((dw.hi - dw.lo) * (hw.hi - hw.lo) * (ww.hi - ww.lo));
}

/** fn(plane, dWindow, hWindow, wWindow, outIndex) for every output cell, in
 *  parallel over (plane, od) rows. */
template <class Fn>
void for_each_window(const PoolShape& s, const Fn& fn) {
  const int64_t rows = s.N * s.C * s.out[0];
  const int64_t row_work = std::max<int64_t>(1, s.out[1] * s.out[2] * s.window);
  parallel_for(rows, std::max<int64_t>(1, 32768 / row_work), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t plane = r / s.out[0], od = r % s.out[0];
      const Span1 dw = window_on(s, 0, od);
      for (int64_t oh = 0; oh < s.out[1]; oh++) {
        const Span1 hw = window_on(s, 1, oh);
        for (int64_t ow = 0; ow < s.out[2]; ow++)
          fn(plane, dw, hw, window_on(s, 2, ow), plane * s.out_plane + (od * s.out[1] + oh) * s.out[2] + ow);
      }
    }
  });
}

void require_pool_buffers(const PoolShape& s, const char* kernel, int64_t in_size, const char* in_name,
                          int64_t out_size, const char* out_name) {
  require_length(kernel, in_name, in_size, checked_product({s.N, s.C, s.in_plane}, kernel));
  require_length(kernel, out_name, out_size, checked_product({s.N, s.C, s.out_plane}, kernel));
}

Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  const char* kernel = "maxPool";
  Span<float> x = f32_arg(info, 0, kernel, "x");
  Span<float> out = f32_arg(info, 1, kernel, "out");
  Span<int32_t> argmax = i32_arg(info, 2, kernel, "argmax");
  const PoolShape s = pool_shape(record_arg<tsr_pool_params>(info, 3, kernel), kernel);
  require_pool_buffers(s, kernel, x.size, "x", out.size, "out");
  require_length(kernel, "argmax", argmax.size, checked_product({s.N, s.C, s.out_plane}, kernel));
  if (s.in_plane > INT32_MAX)
    fail(std::string(kernel) + ": an input plane of " + std::to_string(s.in_plane) +
         " cells does not fit the int32 argmax (cpu backend)");
  const int64_t H = s.in[1], W = s.in[2];
  for_each_window(s, [&](int64_t plane, Span1 dw, Span1 hw, Span1 ww, int64_t o) {
    const float* src = x.data + plane * s.in_plane;
    float best = -INFINITY;
    int64_t best_at = -1;  // a window wholly in the padding keeps -inf and -1, as the reference
    for (int64_t d = dw.lo; d < dw.hi; d += dw.step)
      for (int64_t h = hw.lo; h < hw.hi; h += hw.step)
        for (int64_t w = ww.lo; w < ww.hi; w += ww.step) {
          const int64_t at = (d * H + h) * W + w;
          if (best_at < 0 || src[at] > best || std::isnan(src[at])) {
            best = src[at];
            best_at = at;
          }
        }
    out.data[o] = best;
    argmax.data[o] = static_cast<int32_t>(best_at);
  });
  return info.Env().Undefined();
}

/** The divisor: see avg_divisor (torch's count_include_pad, windows cut at the padded input's end in ceil mode). */
Napi::Value AvgPool(const Napi::CallbackInfo& info) {
  const char* kernel = "avgPool";
  Span<float> x = f32_arg(info, 0, kernel, "x");
  Span<float> out = f32_arg(info, 1, kernel, "out");
  const PoolShape s = pool_shape(record_arg<tsr_pool_params>(info, 2, kernel), kernel);
  require_pool_buffers(s, kernel, x.size, "x", out.size, "out");
  const int64_t H = s.in[1], W = s.in[2];
  for_each_window(s, [&](int64_t plane, Span1 dw, Span1 hw, Span1 ww, int64_t o) {
    const float* src = x.data + plane * s.in_plane;
    float sum = 0.f;
    for (int64_t d = dw.lo; d < dw.hi; d++)
      for (int64_t h = hw.lo; h < hw.hi; h++)
        for (int64_t w = ww.lo; w < ww.hi; w++) sum += src[(d * H + h) * W + w];
    out.data[o] = sum / avg_divisor(s, dw, hw, ww);
  });
  return info.Env().Undefined();
}

/** gx[cell] = sum over the windows holding the cell of gy / divisor; planes in parallel. */
Napi::Value AvgPoolBackward(const Napi::CallbackInfo& info) {
  const char* kernel = "avgPoolBackward";
  Span<float> gy = f32_arg(info, 0, kernel, "gy");
  Span<float> gx = f32_arg(info, 1, kernel, "gx");
  const PoolShape s = pool_shape(record_arg<tsr_pool_params>(info, 2, kernel), kernel);
  require_pool_buffers(s, kernel, gx.size, "gx", gy.size, "gy");
  const int64_t H = s.in[1], W = s.in[2];
  const int64_t plane_work = std::max<int64_t>(1, s.out_plane * s.window + s.in_plane);
  parallel_for(s.N * s.C, std::max<int64_t>(1, 32768 / plane_work), [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; plane++) {
      float* dst = gx.data + plane * s.in_plane;
      const float* g = gy.data + plane * s.out_plane;
      std::fill(dst, dst + s.in_plane, 0.f);
      for (int64_t od = 0; od < s.out[0]; od++) {
        const Span1 dw = window_on(s, 0, od);
        for (int64_t oh = 0; oh < s.out[1]; oh++) {
          const Span1 hw = window_on(s, 1, oh);
          for (int64_t ow = 0; ow < s.out[2]; ow++) {
            const Span1 ww = window_on(s, 2, ow);
            const float v = g[(od * s.out[1] + oh) * s.out[2] + ow] / avg_divisor(s, dw, hw, ww);
            for (int64_t d = dw.lo; d < dw.hi; d++)
              for (int64_t h = hw.lo; h < hw.hi; h++)
                for (int64_t w = ww.lo; w < ww.hi; w++) dst[(d * H + h) * W + w] += v;
          }
        }
      }
    }
  });
  return info.Env().Undefined();
}

void InitPool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool", Napi::Function::New(env, MaxPool, "maxPool"));
  exports.Set("avgPool", Napi::Function::New(env, AvgPool, "avgPool"));
  exports.Set("avgPoolBackward", Napi::Function::New(env, AvgPoolBackward, "avgPoolBackward"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(pool, InitPool);

}  // namespace tessera
