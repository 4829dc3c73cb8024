// 3D convolution (NCDHW, groups, stride, padding, dilation) as implicit GEMM on
// sgemm; conv2d is the same kernel with D = 1, kd = 1.
//
// Every pass has one shape: for a tile of output positions, gather a column
// matrix col[rows, positions] from a source tensor (im2col, tile by tile so it
// stays in cache), then one GEMM.
//  - forward:         out[o, p]  = w[o, (c, taps)] @ col_x[(c, taps), p]       (+ bias)
//  - backward-weight: gw[o, (c, taps)] += gy[o, p] @ col_x^T[p, (c, taps)]
//  - backward-input:  gathered from gy instead. An input position i receives from
//    output o = (i + pad - k*dil) / stride only for the taps k where that divides,
//    and which taps those are depends only on i mod stride. So the input positions
//    are split into stride^3 phases; in each phase the taps that contribute form a
//    stride-1 gather from gy, and gx[c, i] = w_phase[c, (o, taps)] @ col_gy[(o, taps), i].
//    No multiply by a structural zero, no scatter-add, no races between tiles.
// Work items (batch, group, tile) run in parallel with sgemm nested (inline); with
// fewer items than threads, items run one after another and sgemm threads itself.
#include <algorithm>
#include <cstring>
#include <vector>

#include "families.h"
#include "gemm.h"
#include "threadpool.h"

namespace tessera {
namespace {

struct ConvShape {
  int64_t N, C, O, groups, Cg, Og;
  int64_t in[3], out[3], k[3], stride[3], pad[3], dil[3];
  int64_t in_plane, out_plane, kvol;
};

/** params = [N, C, D, H, W, O, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, groups, oD, oH, oW]. */
ConvShape conv_shape_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel) {
  std::vector<int64_t> v = int_list_arg(info, i, kernel, "params");
  const std::string where = std::string(kernel) + ": ";
  if (v.size() != 22) fail(where + "params must hold 22 integers, got " + std::to_string(v.size()) + " (cpu backend)");
  ConvShape s;
  s.N = v[0];
  s.C = v[1];
  s.O = v[5];
  s.groups = v[18];
  for (int a = 0; a < 3; a++) {
    s.in[a] = v[2 + a];
    s.k[a] = v[6 + a];
    s.stride[a] = v[9 + a];
    s.pad[a] = v[12 + a];
    s.dil[a] = v[15 + a];
    s.out[a] = v[19 + a];
  }
  const int64_t limit = int64_t{1} << 31;
  for (int64_t x : v)
    if (x < 0 || x >= limit) fail(where + "params must be integers in [0, 2^31) (cpu backend)");
  for (int a = 0; a < 3; a++)
    if (s.in[a] < 1 || s.k[a] < 1 || s.stride[a] < 1 || s.dil[a] < 1)
      fail(where + "input sizes, kernel sizes, strides and dilations must be >= 1 (cpu backend)");
  if (s.C < 1 || s.O < 1 || s.groups < 1 || s.C % s.groups != 0 || s.O % s.groups != 0)
    fail(where + "channels " + std::to_string(s.C) + " -> " + std::to_string(s.O) + " do not split into " +
         std::to_string(s.groups) + " groups (cpu backend)");
  s.Cg = s.C / s.groups;
  s.Og = s.O / s.groups;
  s.in_plane = checked_product({s.in[0], s.in[1], s.in[2]}, kernel);
  s.out_plane = checked_product({s.out[0], s.out[1], s.out[2]}, kernel);
  s.kvol = checked_product({s.k[0], s.k[1], s.k[2]}, kernel);
  return s;
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }  // b > 0

/** One spatial axis of a gather: position m (of `count`) reads source coordinate
 *  m * step + offset[t] for tap t, or zero outside [0, size). */
struct Axis {
  int64_t count = 0, step = 1, size = 0;
  std::vector<int64_t> offset;  // per tap
  std::vector<int64_t> kernel;  // per tap: which kernel index it is
  std::vector<int64_t> lo, hi;  // per tap: positions [lo, hi) read inside the source

  void add_tap(int64_t off, int64_t kernel_index) {
    offset.push_back(off);
    kernel.push_back(kernel_index);
    const int64_t first = std::clamp<int64_t>(-floor_div(off, step), 0, count);        // ceil(-off / step)
    const int64_t last = std::clamp<int64_t>(floor_div(size - 1 - off, step) + 1, 0, count);
    lo.push_back(first);
    hi.push_back(std::max(first, last));
  }
  int64_t taps() const { return static_cast<int64_t>(offset.size()); }
};

/** col[(channel, td, th, tw), p] for a source [channels, size0, size1, size2]. */
struct Gather {
  int64_t channels = 0;
  Axis ax[3];

  int64_t taps() const { return ax[0].taps() * ax[1].taps() * ax[2].taps(); }
  int64_t rows() const { return channels * taps(); }
  int64_t positions() const { return ax[0].count * ax[1].count * ax[2].count; }
  int64_t plane() const { return ax[0].size * ax[1].size * ax[2].size; }
  /** The column matrix is the source itself (1x1x1 taps, stride 1, no padding). */
  bool identity() const {
    for (const Axis& a : ax)
      if (a.taps() != 1 || a.offset[0] != 0 || a.step != 1 || a.count != a.size) return false;
    return true;
  }

  /** Columns [p0, p0 + len) into col, rows `len` floats apart. */
  void gather(const float* src, int64_t p0, int64_t len, float* col) const {
    const Axis &A = ax[0], &B = ax[1], &Cw = ax[2];
    const int64_t plane_size = plane();
    float* dst = col;
    for (int64_t ch = 0; ch < channels; ch++) {
      const float* plane_src = src + ch * plane_size;
      for (int64_t td = 0; td < A.taps(); td++)
        for (int64_t th = 0; th < B.taps(); th++)
          for (int64_t tw = 0; tw < Cw.taps(); tw++, dst += len) {
            int64_t md = p0 / (B.count * Cw.count), mh = (p0 / Cw.count) % B.count, mw = p0 % Cw.count;
            for (int64_t i = 0; i < len;) {
              const int64_t run = std::min(len - i, Cw.count - mw);
              const int64_t base = i - mw;  // dst[base + m] holds position m of this output row
              int64_t a = mw, b = mw;       // [a, b): positions of the run inside the source
              if (md >= A.lo[td] && md < A.hi[td] && mh >= B.lo[th] && mh < B.hi[th]) {
                a = std::clamp(Cw.lo[tw], mw, mw + run);
                b = std::clamp(Cw.hi[tw], a, mw + run);
                const float* row = plane_src + ((md * A.step + A.offset[td]) * B.size + mh * B.step + B.offset[th]) * Cw.size;
                if (Cw.step == 1) std::memcpy(dst + base + a, row + a + Cw.offset[tw], (b - a) * sizeof(float));
                else
                  for (int64_t m = a; m < b; m++) dst[base + m] = row[m * Cw.step + Cw.offset[tw]];
              }
              std::fill(dst + i, dst + base + a, 0.f);
              std::fill(dst + base + b, dst + i + run, 0.f);
              i += run;
              mw = 0;
              if (++mh == B.count) { mh = 0; md++; }
            }
          }
    }
  }
};

/** The gather of x that forward and backward-weight multiply: output position m,
 *  kernel tap t read x at m * stride + t * dilation - padding. */
Gather input_gather(const ConvShape& s) {
  Gather g;
  g.channels = s.Cg;
  for (int a = 0; a < 3; a++) {
    Axis& ax = g.ax[a];
    ax.count = s.out[a];
    ax.step = s.stride[a];
    ax.size = s.in[a];
    for (int64_t t = 0; t < s.k[a]; t++) ax.add_tap(t * s.dil[a] - s.pad[a], t);
  }
  return g;
}

/** Per-thread scratch buffers (col matrices, GEMM output tiles), reused across calls. */
float* scratch(int which, int64_t floats) {
  thread_local std::vector<float> buffers[2];
  std::vector<float>& b = buffers[which];
  if (static_cast<int64_t>(b.size()) < floats) b.resize(floats);
  return b.data();
}

/** Positions per tile: the column tile (rows x positions) about the size of L2. */
int64_t tile_positions(int64_t rows, int64_t positions) {
  const int64_t kColFloats = 1 << 18;  // 1 MiB
  int64_t tp = std::max<int64_t>(64, kColFloats / std::max<int64_t>(rows, 1) / 16 * 16);
  return std::max<int64_t>(1, std::min(tp, positions));
}

/** Runs item(i) for i < count: in parallel when there are enough items to share
 *  out (sgemm then runs inline in each), else serially with sgemm threaded. */
template <class Item>
void run_items(int64_t count, const Item& item) {
  if (count >= 2 * num_threads()) {
    parallel_for(count, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) item(i);
    });
  } else {
    for (int64_t i = 0; i < count; i++) item(i);
  }
}

// --------------------------------------------------------------- forward

void conv_forward(const ConvShape& s, const float* x, const float* w, const float* bias, float* out) {
  const Gather g = input_gather(s);
  const int64_t rows = g.rows(), P = s.out_plane;
  const bool identity = g.identity();
  const int64_t tp = identity ? std::min<int64_t>(P, 4096) : tile_positions(rows, P);
  const int64_t tiles = (P + tp - 1) / tp;
  run_items(s.N * s.groups * tiles, [&](int64_t item) {
    const int64_t t = item % tiles, grp = (item / tiles) % s.groups, n = item / tiles / s.groups;
    const int64_t p0 = t * tp, len = std::min(tp, P - p0);
    const float* src = x + (n * s.C + grp * s.Cg) * s.in_plane;
    const float* B = src + p0;
    int64_t rsB = s.in_plane;
    if (!identity) {
      float* col = scratch(0, rows * len);
      g.gather(src, p0, len, col);
      B = col;
      rsB = len;
    }
    GemmEpilogue ep;
    ep.bias = bias ? bias + grp * s.Og : nullptr;
    ep.bias_per_row = true;
    sgemm(s.Og, len, rows, w + grp * s.Og * rows, rows, 1, B, rsB, 1, out + (n * s.O + grp * s.Og) * P + p0, P, ep);
  });
}

// ------------------------------------------------------- backward: weight

void conv_backward_weight(const ConvShape& s, const float* x, const float* gy, float* gw) {
  const Gather g = input_gather(s);
  const int64_t rows = g.rows(), P = s.out_plane, gw_size = s.O * rows;
  const bool identity = g.identity();
  const int64_t tp = identity ? std::min<int64_t>(P, 4096) : tile_positions(rows, P);
  const int64_t tiles = (P + tp - 1) / tp, items = s.N * s.groups * tiles;
  // gw[grp] (+)= gy[n, grp, tile] @ col(x[n, grp], tile)^T
  auto accumulate = [&](int64_t item, float* dst) {
    const int64_t t = item % tiles, grp = (item / tiles) % s.groups, n = item / tiles / s.groups;
    const int64_t p0 = t * tp, len = std::min(tp, P - p0);
    const float* src = x + (n * s.C + grp * s.Cg) * s.in_plane;
    const float* B = src + p0;
    int64_t csB = s.in_plane;
    if (!identity) {
      float* col = scratch(0, rows * len);
      g.gather(src, p0, len, col);
      B = col;
      csB = len;
    }
    GemmEpilogue ep;
    ep.accumulate = true;
    sgemm(s.Og, rows, len, gy + (n * s.O + grp * s.Og) * P + p0, P, 1, B, 1, csB, dst + grp * s.Og * rows, rows, ep);
  };
  std::fill(gw, gw + gw_size, 0.f);
  const int64_t slots = num_threads();
  if (items < 2 * slots) {
    for (int64_t i = 0; i < items; i++) accumulate(i, gw);
    return;
  }
  // One partial gw per thread (slot 0 is gw itself), summed at the end.
  std::vector<float> partial((slots - 1) * gw_size, 0.f);
  parallel_for(slots, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t slot = s0; slot < s1; slot++) {
      float* dst = slot == 0 ? gw : partial.data() + (slot - 1) * gw_size;
      for (int64_t i = items * slot / slots; i < items * (slot + 1) / slots; i++) accumulate(i, dst);
    }
  });
  parallel_for(gw_size, 4096, [&](int64_t b, int64_t e) {
    for (int64_t slot = 1; slot < slots; slot++) {
      const float* part = partial.data() + (slot - 1) * gw_size;
      for (int64_t i = b; i < e; i++) gw[i] += part[i];
    }
  });
}

// -------------------------------------------------------- backward: input

struct Phase {
  int64_t r[3];             // input coordinate residue per axis: i = r + m * stride
  Gather g;                 // gather from gy[n, grp]
  std::vector<float> wt;    // per group: [Cg, (o, taps)] weights of the contributing taps
};

Phase make_phase(const ConvShape& s, const int64_t r[3], const float* w) {
  Phase ph;
  ph.g.channels = s.Og;
  for (int a = 0; a < 3; a++) {
    ph.r[a] = r[a];
    Axis& ax = ph.g.ax[a];
    ax.count = (s.in[a] - r[a] + s.stride[a] - 1) / s.stride[a];
    ax.step = 1;
    ax.size = s.out[a];
    for (int64_t t = 0; t < s.k[a]; t++) {
      const int64_t num = r[a] + s.pad[a] - t * s.dil[a];  // = o * stride when tap t reaches this phase
      const int64_t o = floor_div(num, s.stride[a]);
      if (o * s.stride[a] == num) ax.add_tap(o, t);
    }
  }
  const int64_t rows = ph.g.rows(), T = ph.g.taps();
  ph.wt.resize(s.groups * s.Cg * rows);
  const Axis &A = ph.g.ax[0], &B = ph.g.ax[1], &Cw = ph.g.ax[2];
  for (int64_t grp = 0; grp < s.groups; grp++)
    for (int64_t c = 0; c < s.Cg; c++)
      for (int64_t o = 0; o < s.Og; o++)
        for (int64_t td = 0, t = 0; td < A.taps(); td++)
          for (int64_t th = 0; th < B.taps(); th++)
            for (int64_t tw = 0; tw < Cw.taps(); tw++, t++) {
              const int64_t tap = (A.kernel[td] * s.k[1] + B.kernel[th]) * s.k[2] + Cw.kernel[tw];
              ph.wt[(grp * s.Cg + c) * rows + o * T + t] = w[((grp * s.Og + o) * s.Cg + c) * s.kvol + tap];
            }
  return ph;
}

void conv_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx) {
  std::vector<Phase> phases;
  int64_t r[3];
  for (r[0] = 0; r[0] < std::min(s.stride[0], s.in[0]); r[0]++)
    for (r[1] = 0; r[1] < std::min(s.stride[1], s.in[1]); r[1]++)
      for (r[2] = 0; r[2] < std::min(s.stride[2], s.in[2]); r[2]++) phases.push_back(make_phase(s, r, w));
  // With unit strides the single phase covers gx densely and the GEMM writes it in place.
  const bool dense = phases.size() == 1 && s.stride[0] == 1 && s.stride[1] == 1 && s.stride[2] == 1;

  struct Item { int64_t phase, n, grp, p0, len; };
  std::vector<Item> items;
  std::vector<int64_t> phase_tile(phases.size());
  for (size_t ph = 0; ph < phases.size(); ph++) {
    const Gather& g = phases[ph].g;
    const int64_t P = g.positions();
    const int64_t tp = g.identity() ? std::min<int64_t>(P, 4096) : tile_positions(g.rows(), P);
    for (int64_t n = 0; n < s.N; n++)
      for (int64_t grp = 0; grp < s.groups; grp++)
        for (int64_t p0 = 0; p0 < P; p0 += tp) items.push_back({static_cast<int64_t>(ph), n, grp, p0, std::min(tp, P - p0)});
  }

  run_items(static_cast<int64_t>(items.size()), [&](int64_t i) {
    const Item& it = items[i];
    const Phase& ph = phases[it.phase];
    const Gather& g = ph.g;
    const int64_t rows = g.rows();
    float* gx_ng = gx + (it.n * s.C + it.grp * s.Cg) * s.in_plane;
    float* C = dense ? gx_ng + it.p0 : scratch(1, s.Cg * it.len);
    const int64_t ldc = dense ? s.in_plane : it.len;
    if (rows == 0) {  // no tap reaches this phase
      for (int64_t c = 0; c < s.Cg; c++) std::fill(C + c * ldc, C + c * ldc + it.len, 0.f);
    } else {
      const float* src = gy + (it.n * s.O + it.grp * s.Og) * s.out_plane;
      const float* B = src + it.p0;
      int64_t rsB = s.out_plane;
      if (!g.identity()) {
        float* col = scratch(0, rows * it.len);
        g.gather(src, it.p0, it.len, col);
        B = col;
        rsB = it.len;
      }
      sgemm(s.Cg, it.len, rows, ph.wt.data() + it.grp * s.Cg * rows, rows, 1, B, rsB, 1, C, ldc, GemmEpilogue{});
    }
    if (dense) return;
    // Scatter the tile to its strided input positions.
    const int64_t cH = g.ax[1].count, cW = g.ax[2].count;
    for (int64_t c = 0; c < s.Cg; c++) {
      int64_t md = it.p0 / (cH * cW), mh = (it.p0 / cW) % cH, mw = it.p0 % cW;
      for (int64_t j = 0; j < it.len; j++) {
        const int64_t id = ph.r[0] + md * s.stride[0], ih = ph.r[1] + mh * s.stride[1], iw = ph.r[2] + mw * s.stride[2];
        gx_ng[c * s.in_plane + (id * s.in[1] + ih) * s.in[2] + iw] = C[c * it.len + j];
        if (++mw == cW) {
          mw = 0;
          if (++mh == cH) { mh = 0; md++; }
        }
      }
    }
  });
}

// -------------------------------------------------------------- bindings

/** Checks the dense buffer sizes every conv pass uses: x, w, out (or their gradients). */
void require_conv_buffers(const ConvShape& s, const char* kernel, Span<float> x, const char* x_name, Span<float> w,
                          const char* w_name, Span<float> y, const char* y_name) {
  require_length(kernel, x_name, x.size, checked_product({s.N, s.C, s.in_plane}, kernel));
  require_length(kernel, w_name, w.size, checked_product({s.O, s.Cg, s.kvol}, kernel));
  require_length(kernel, y_name, y.size, checked_product({s.N, s.O, s.out_plane}, kernel));
}

Napi::Value Conv(const Napi::CallbackInfo& info) {
  const char* kernel = "conv";
  Span<float> x = f32_arg(info, 0, kernel, "x");
  Span<float> w = f32_arg(info, 1, kernel, "w");
  Span<float> bias = optional_f32_arg(info, 2, kernel, "bias");
  Span<float> out = f32_arg(info, 3, kernel, "out");
  const ConvShape s = conv_shape_arg(info, 4, kernel);
  require_conv_buffers(s, kernel, x, "x", w, "w", out, "out");
  if (bias.data) require_length(kernel, "bias", bias.size, s.O);
  conv_forward(s, x.data, w.data, bias.data, out.data);
  return info.Env().Undefined();
}

Napi::Value ConvBackwardInput(const Napi::CallbackInfo& info) {
  const char* kernel = "convBackwardInput";
  Span<float> gy = f32_arg(info, 0, kernel, "gy");
  Span<float> w = f32_arg(info, 1, kernel, "w");
  Span<float> gx = f32_arg(info, 2, kernel, "gx");
  const ConvShape s = conv_shape_arg(info, 3, kernel);
  require_conv_buffers(s, kernel, gx, "gx", w, "w", gy, "gy");
  conv_backward_input(s, gy.data, w.data, gx.data);
  return info.Env().Undefined();
}

Napi::Value ConvBackwardWeight(const Napi::CallbackInfo& info) {
  const char* kernel = "convBackwardWeight";
  Span<float> x = f32_arg(info, 0, kernel, "x");
  Span<float> gy = f32_arg(info, 1, kernel, "gy");
  Span<float> gw = f32_arg(info, 2, kernel, "gw");
  const ConvShape s = conv_shape_arg(info, 3, kernel);
  require_conv_buffers(s, kernel, x, "x", gw, "gw", gy, "gy");
  conv_backward_weight(s, x.data, gy.data, gw.data);
  return info.Env().Undefined();
}

void InitConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv", Napi::Function::New(env, Conv, "conv"));
  exports.Set("convBackwardInput", Napi::Function::New(env, ConvBackwardInput, "convBackwardInput"));
  exports.Set("convBackwardWeight", Napi::Function::New(env, ConvBackwardWeight, "convBackwardWeight"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(conv, InitConv);

}  // namespace tessera
