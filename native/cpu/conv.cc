// 3D convolution (NCDHW, groups, stride, padding, dilation) as implicit GEMM on
// sgemm; conv2d is the same kernel with D = 1, kd = 1.
//
// All three passes share one column map: col[(c, taps), p] = x[c, input cell that
// output position p reads through that tap] (zero in the padding).
//  - forward:         out[o, p] = w[o, (c, taps)] @ col[(c, taps), p]  (+ bias)
//  - backward-weight: gw^T[(c, taps), o] += col[(c, taps), p] @ gy[o, p]^T
//    In these two the column matrix never exists in memory: sgemm gathers it from x
//    straight into its packing buffers (ColumnSource), and the forward packs the weights
//    once for all tiles of positions.
//  - backward-input:  colGrad = w^T @ gy, then col2im adds each column entry into
//    the input cell it came from. Its GEMM has rows = C/groups * taps, so it stays
//    efficient when the input has few channels (a network's stem), where gathering
//    gy per input cell would multiply through mostly structural zeros.
// Work items run in parallel with sgemm nested (inline); with fewer items than
// threads they run one after another and sgemm threads itself.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "conv_winograd.h"
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

/** The geometry of a tsr_conv_params record, checked where a bad value would take a kernel outside
 *  its buffers or divide by zero (the op has validated what users can get wrong). */
ConvShape conv_shape(const tsr_conv_params& p, const char* kernel) {
  const std::string where = std::string(kernel) + ": ";
  ConvShape s;
  s.N = p.N;
  s.C = p.C;
  s.O = p.O;
  s.groups = p.groups;
  const int64_t in[3] = {p.D, p.H, p.W}, k[3] = {p.kd, p.kh, p.kw}, out[3] = {p.oD, p.oH, p.oW};
  for (int a = 0; a < 3; a++) {
    s.in[a] = in[a];
    s.k[a] = k[a];
    s.stride[a] = p.stride[a];
    s.pad[a] = p.padding[a];
    s.dil[a] = p.dilation[a];
    s.out[a] = out[a];
  }
  const int64_t limit = int64_t{1} << 31;
  for (int64_t x : {s.N, s.C, s.O, s.groups, s.in[0], s.in[1], s.in[2], s.k[0], s.k[1], s.k[2], s.stride[0],
                    s.stride[1], s.stride[2], s.pad[0], s.pad[1], s.pad[2], s.dil[0], s.dil[1], s.dil[2], s.out[0],
                    s.out[1], s.out[2]})
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

/** One spatial axis of the column map: output position m, kernel tap t read input
 *  coordinate m * step + offset[t], or padding outside [0, size). */
struct Axis {
  int64_t count = 0, step = 1, size = 0;
  std::vector<int64_t> offset;  // per tap
  std::vector<int64_t> lo, hi;  // per tap: positions [lo, hi) that read inside the input

  void add_tap(int64_t off) {
    offset.push_back(off);
    const int64_t first = std::clamp<int64_t>(-floor_div(off, step), 0, count);  // ceil(-off / step)
    const int64_t last = std::clamp<int64_t>(floor_div(size - 1 - off, step) + 1, 0, count);
    lo.push_back(first);
    hi.push_back(std::max(first, last));
  }
  int64_t taps() const { return static_cast<int64_t>(offset.size()); }
};

/** The im2col map of a convolution: column matrix col[(c, td, th, tw), p] over
 *  output positions p, taken from an input [channels, D, H, W]. */
struct ColumnMap {
  Axis ax[3];

  int64_t plane() const { return ax[0].size * ax[1].size * ax[2].size; }
  /** The column matrix is the input itself (1x1x1 kernel, stride 1, no padding). */
  bool identity() const {
    for (const Axis& a : ax)
      if (a.taps() != 1 || a.offset[0] != 0 || a.step != 1 || a.count != a.size) return false;
    return true;
  }

  /** col2im, the adjoint of the column matrix: x[c, input cell] += col[(c, taps), j] for the input cell
   *  that position p0 + j reads through tap `taps`; col rows are `len` floats apart. */
  void scatter(float* x, int64_t channels, int64_t p0, int64_t len, const float* col) const {
    const Axis &A = ax[0], &B = ax[1], &Cw = ax[2];
    const int64_t plane_size = plane();
    const float* col_row = col;
    for (int64_t ch = 0; ch < channels; ch++)
      for (int64_t td = 0; td < A.taps(); td++)
        for (int64_t th = 0; th < B.taps(); th++)
          for (int64_t tw = 0; tw < Cw.taps(); tw++, col_row += len) {
            int64_t md = p0 / (B.count * Cw.count), mh = (p0 / Cw.count) % B.count, mw = p0 % Cw.count;
            // One run per output row (fixed md, mh): positions mw .. mw + run - 1.
            for (int64_t i = 0; i < len;) {
              const int64_t run = std::min(len - i, Cw.count - mw);
              if (md >= A.lo[td] && md < A.hi[td] && mh >= B.lo[th] && mh < B.hi[th]) {
                const int64_t a = std::clamp(Cw.lo[tw], mw, mw + run), b = std::clamp(Cw.hi[tw], a, mw + run);
                // x[cell + m * step] is the input cell of position m (valid for m in [a, b)).
                const int64_t cell = ch * plane_size + ((md * A.step + A.offset[td]) * B.size + mh * B.step +
                                     B.offset[th]) * Cw.size + Cw.offset[tw];
                const float* from = col_row + i - mw;  // from[m]: position m of this output row
                if (Cw.step == 1) {
                  float* __restrict to = x + cell;
                  const float* __restrict src = from;
                  for (int64_t m = a; m < b; m++) to[m] += src[m];
                } else {
                  for (int64_t m = a; m < b; m++) x[cell + m * Cw.step] += from[m];
                }
              }
              i += run;
              mw = 0;
              if (++mh == B.count) { mh = 0; md++; }
            }
          }
  }
};

/** sgemm's view of the column matrix of one input x [channels, plane] from output position p0 on:
 *  as B (rows (c, taps) by positions: the forward) or as A (the same matrix, packed by rows: the
 *  weight gradient). sgemm packs it straight from x, so the matrix never exists in memory. */
struct ColumnSource {
  const ColumnMap* map;
  const float* x;
  int64_t p0;

  /** dst[(r - row0) * row_stride + (j - pos0) * pos_stride] = col[r, p0 + j] for r in [row0, row0 + rows)
   *  and j in [pos0, pos0 + positions). */
  void gather(int64_t row0, int64_t rows, int64_t pos0, int64_t positions, float* dst, int64_t row_stride,
              int64_t pos_stride) const {
    const Axis &A = map->ax[0], &B = map->ax[1], &Cw = map->ax[2];
    const int64_t plane_size = map->plane(), taps_hw = B.taps() * Cw.taps(), kvol = A.taps() * taps_hw;
    const int64_t first = p0 + pos0;
    const int64_t md0 = first / (B.count * Cw.count), mh0 = (first / Cw.count) % B.count, mw0 = first % Cw.count;
    int64_t ch = row0 / kvol, td = row0 % kvol / taps_hw, th = row0 % taps_hw / Cw.taps(), tw = row0 % Cw.taps();
    for (int64_t r = 0; r < rows; r++) {
      float* out = dst + r * row_stride;
      int64_t md = md0, mh = mh0, mw = mw0;
      // One run per output row (fixed md, mh): positions j .. j + run - 1 are mw .. mw + run - 1 of it.
      for (int64_t j = 0; j < positions;) {
        const int64_t run = std::min(positions - j, Cw.count - mw);
        int64_t a = mw + run, b = a;  // [a, b): the run's positions that read inside the input
        int64_t cell = 0;             // x[cell + m * step] is the input cell of position m of the row
        if (md >= A.lo[td] && md < A.hi[td] && mh >= B.lo[th] && mh < B.hi[th]) {
          a = std::clamp(Cw.lo[tw], mw, mw + run);
          b = std::clamp(Cw.hi[tw], a, mw + run);
          cell = ch * plane_size + ((md * A.step + A.offset[td]) * B.size + mh * B.step + B.offset[th]) * Cw.size +
                 Cw.offset[tw];
        }
        float* o = out + j * pos_stride;  // o[(m - mw) * pos_stride] holds position m of the row
        if (pos_stride == 1) {
          std::fill(o, o + (a - mw), 0.f);
          if (Cw.step == 1) std::memcpy(o + (a - mw), x + cell + a, (b - a) * sizeof(float));
          else for (int64_t m = a; m < b; m++) o[m - mw] = x[cell + m * Cw.step];
          std::fill(o + (b - mw), o + run, 0.f);
        } else {
          for (int64_t m = mw; m < a; m++) o[(m - mw) * pos_stride] = 0.f;
          for (int64_t m = a; m < b; m++) o[(m - mw) * pos_stride] = x[cell + m * Cw.step];
          for (int64_t m = b; m < mw + run; m++) o[(m - mw) * pos_stride] = 0.f;
        }
        j += run;
        mw = 0;
        if (++mh == B.count) { mh = 0; md++; }
      }
      if (++tw == Cw.taps()) {
        tw = 0;
        if (++th == B.taps()) {
          th = 0;
          if (++td == A.taps()) { td = 0; ch++; }
        }
      }
    }
  }

  /** As sgemm's B: op(k, j) = col[k, p0 + j]. */
  static void pack_b(const void* ctx, int64_t k0, int64_t kc, int64_t j0, int count, int width, float* dst) {
    if (count < width) std::fill(dst, dst + kc * width, 0.f);
    static_cast<const ColumnSource*>(ctx)->gather(k0, kc, j0, count, dst, width, 1);
  }
  /** As sgemm's A: op(k, j) = col[j, p0 + k]. */
  static void pack_a(const void* ctx, int64_t k0, int64_t kc, int64_t j0, int count, int width, float* dst) {
    if (count < width) std::fill(dst, dst + kc * width, 0.f);
    static_cast<const ColumnSource*>(ctx)->gather(j0, count, k0, kc, dst, 1, width);
  }
};

ColumnMap column_map(const ConvShape& s) {
  ColumnMap map;
  for (int a = 0; a < 3; a++) {
    Axis& ax = map.ax[a];
    ax.count = s.out[a];
    ax.step = s.stride[a];
    ax.size = s.in[a];
    for (int64_t t = 0; t < s.k[a]; t++) ax.add_tap(t * s.dil[a] - s.pad[a]);
  }
  return map;
}

enum Scratch { kColumns, kPartials, kPacked };

/** Per-thread scratch buffers, kept across calls: fresh memory costs a page fault per
 *  4 KiB on first touch, which is slow on virtual machines. */
float* scratch(Scratch which, int64_t floats) {
  thread_local std::vector<float> buffers[3];
  std::vector<float>& b = buffers[which];
  if (static_cast<int64_t>(b.size()) < floats) b.resize(floats);
  return b.data();
}

/** Positions per tile: a column tile (rows x positions) of about 4 MiB (col2im's buffer in
 *  backward-input; a work item of the other passes). Smaller tiles give sgemm too few
 *  columns per call; larger ones fall out of cache (measured on the 3x3x3 64-channel layer
 *  of bench/cases/conv3d.ts). */
int64_t tile_positions(int64_t rows, int64_t positions) {
  const int64_t kColFloats = 1 << 20;
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

/** out[n, grp] = w[grp] @ col(x[n, grp]) (+ bias), tile by tile of output positions. */
void conv_forward(const ConvShape& s, const float* x, const float* w, const float* bias, float* out) {
  if (s.N == 0 || s.out_plane == 0) return;  // nothing to write
  const ColumnMap map = column_map(s);
  const int64_t rows = s.Cg * s.kvol, P = s.out_plane;
  const bool identity = map.identity();
  const int64_t tp = identity ? std::min<int64_t>(P, 4096) : tile_positions(rows, P);
  const int64_t tiles = (P + tp - 1) / tp;
  // Each group's weights, packed once for all its tiles.
  const int64_t packed_floats = packed_a_floats(s.Og, rows);
  float* storage = scratch(kPacked, s.groups * packed_floats);
  std::vector<PackedA> packed;
  for (int64_t grp = 0; grp < s.groups; grp++)
    packed.push_back(pack_a_once(s.Og, rows, w + grp * s.Og * rows, rows, 1, storage + grp * packed_floats));
  run_items(s.N * s.groups * tiles, [&](int64_t item) {
    const int64_t t = item % tiles, grp = (item / tiles) % s.groups, n = item / tiles / s.groups;
    const int64_t p0 = t * tp, len = std::min(tp, P - p0);
    const float* src = x + (n * s.C + grp * s.Cg) * s.in_plane;
    const ColumnSource columns{&map, src, p0};
    const GemmSource source{ColumnSource::pack_b, &columns};
    GemmOperand A, B;
    A.data = w + grp * s.Og * rows;
    A.rs = rows;
    A.cs = 1;
    A.packed = &packed[grp];
    if (identity) {
      B.data = src + p0;
      B.rs = s.in_plane;
      B.cs = 1;
    } else {
      B.source = &source;
    }
    GemmEpilogue ep;
    ep.bias = bias ? bias + grp * s.Og : nullptr;
    ep.bias_per_row = true;
    sgemm(s.Og, len, rows, A, B, out + (n * s.O + grp * s.Og) * P + p0, P, ep);
  });
}

// ------------------------------------------------------- backward: weight

/** gw[grp]^T = sum over n and tiles of col(x[n, grp], tile) @ gy[n, grp, tile]^T. The
 *  transposed product keeps the long side (C/groups * taps) as the GEMM's rows, which
 *  suits sgemm better than rows = O/groups. Each slot (one per thread when the items
 *  run in parallel) accumulates its own gw^T; the sum is transposed into gw. */
void conv_backward_weight(const ConvShape& s, const float* x, const float* gy, float* gw) {
  const ColumnMap map = column_map(s);
  const int64_t rows = s.Cg * s.kvol, P = s.out_plane, gw_size = s.O * rows;
  if (s.N == 0 || P == 0) {  // no output positions: no gradient
    std::fill(gw, gw + gw_size, 0.f);
    return;
  }
  const bool identity = map.identity();
  const int64_t tp = identity ? std::min<int64_t>(P, 4096) : tile_positions(rows, P);
  const int64_t tiles = (P + tp - 1) / tp, items = s.N * s.groups * tiles;
  auto accumulate = [&](int64_t item, float* gw_t) {
    const int64_t t = item % tiles, grp = (item / tiles) % s.groups, n = item / tiles / s.groups;
    const int64_t p0 = t * tp, len = std::min(tp, P - p0);
    const float* src = x + (n * s.C + grp * s.Cg) * s.in_plane;
    const ColumnSource columns{&map, src, p0};
    const GemmSource source{ColumnSource::pack_a, &columns};
    GemmOperand A, B;
    if (identity) {
      A.data = src + p0;
      A.rs = s.in_plane;
      A.cs = 1;
    } else {
      A.source = &source;
    }
    // B[p, o] = gy[n, grp * Og + o, p0 + p]
    B.data = gy + (n * s.O + grp * s.Og) * P + p0;
    B.rs = 1;
    B.cs = P;
    GemmEpilogue ep;
    ep.accumulate = true;
    sgemm(rows, s.Og, len, A, B, gw_t + grp * rows * s.Og, s.Og, ep);
  };
  const int64_t slots = items >= 2 * num_threads() ? num_threads() : 1;
  float* gw_t = scratch(kPartials, slots * gw_size);  // per slot: [groups][rows][Og]
  std::fill(gw_t, gw_t + slots * gw_size, 0.f);
  if (slots == 1) {
    for (int64_t i = 0; i < items; i++) accumulate(i, gw_t);  // sgemm threads itself
  } else {
    parallel_for(slots, 1, [&](int64_t s0, int64_t s1) {
      for (int64_t slot = s0; slot < s1; slot++)
        for (int64_t i = items * slot / slots; i < items * (slot + 1) / slots; i++) accumulate(i, gw_t + slot * gw_size);
    });
  }
  // gw[grp * Og + o, r] = sum over slots of gw_t[slot][grp][r][o]
  parallel_for(s.O, std::max<int64_t>(1, 16384 / rows), [&](int64_t o0, int64_t o1) {
    for (int64_t oc = o0; oc < o1; oc++) {
      const int64_t grp = oc / s.Og, o = oc % s.Og;
      for (int64_t r = 0; r < rows; r++) {
        float sum = 0.f;
        for (int64_t slot = 0; slot < slots; slot++) sum += gw_t[slot * gw_size + (grp * rows + r) * s.Og + o];
        gw[oc * rows + r] = sum;
      }
    }
  });
}

// -------------------------------------------------------- backward: input

/** gx = col2im(w^T @ gy): per tile, colGrad[(c, taps), p] = sum_o w[o, c, taps] gy[o, p],
 *  then scattered (added) into gx. Items are (n, grp, block of input channels): a block
 *  scatters only into its own channels, so items never touch the same gx cell. */
void conv_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx) {
  if (s.N == 0) return;  // nothing to write
  const ColumnMap map = column_map(s);
  const int64_t P = s.out_plane;
  const bool identity = map.identity();
  // Enough channel blocks that the items can occupy every thread.
  const int64_t blocks = std::clamp<int64_t>((2 * num_threads() + s.N * s.groups - 1) / (s.N * s.groups), 1, s.Cg);
  run_items(s.N * s.groups * blocks, [&](int64_t item) {
    const int64_t blk = item % blocks, grp = (item / blocks) % s.groups, n = item / blocks / s.groups;
    const int64_t c0 = s.Cg * blk / blocks, cb = s.Cg * (blk + 1) / blocks - c0, rows = cb * s.kvol;
    float* gx_block = gx + (n * s.C + grp * s.Cg + c0) * s.in_plane;
    // A[(c, tap), o] = w[grp * Og + o, c0 + c, tap]
    const float* A = w + (grp * s.Og * s.Cg + c0) * s.kvol;
    const float* gy_ng = gy + (n * s.O + grp * s.Og) * P;
    if (identity) {  // colGrad is gx itself
      sgemm(rows, P, s.Og, A, 1, s.Cg * s.kvol, gy_ng, P, 1, gx_block, s.in_plane, GemmEpilogue{});
      return;
    }
    std::fill(gx_block, gx_block + cb * s.in_plane, 0.f);
    const int64_t tp = tile_positions(rows, P);
    float* col = scratch(kColumns, rows * tp);
    for (int64_t p0 = 0; p0 < P; p0 += tp) {
      const int64_t len = std::min(tp, P - p0);
      sgemm(rows, len, s.Og, A, 1, s.Cg * s.kvol, gy_ng + p0, P, 1, col, len, GemmEpilogue{});
      map.scatter(gx_block, cb, p0, len, col);
    }
  });
}

// -------------------------------------------------------------- Winograd

/** Which convolutions take the Winograd kernels: 'auto' (eligible and expected to pay, the
 *  default), 'always' (every eligible one; lets tests run awkward shapes through them) or 'never'. */
enum class WinogradMode { automatic, always, never };
std::atomic<WinogradMode> winograd_mode{WinogradMode::automatic};

/** The convolution as conv_winograd.h describes it, when its kernels take this pass (stride 1,
 *  dilation 1, one group, 1 or 3 taps per axis, and the mode's rule). */
bool winograd_shape(const ConvShape& s, ConvPass pass, WinogradConv* w) {
  if (s.groups != 1 || winograd_mode == WinogradMode::never) return false;
  for (int a = 0; a < 3; a++)
    if (s.stride[a] != 1 || s.dil[a] != 1) return false;
  w->N = s.N;
  w->C = s.C;
  w->O = s.O;
  for (int a = 0; a < 3; a++) {
    w->in[a] = s.in[a];
    w->out[a] = s.out[a];
    w->k[a] = s.k[a];
    w->pad[a] = s.pad[a];
  }
  return winograd_eligible(*w) && (winograd_mode == WinogradMode::always || winograd_pays(*w, pass));
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
  const ConvShape s = conv_shape(record_arg<tsr_conv_params>(info, 4, kernel), kernel);
  require_conv_buffers(s, kernel, x, "x", w, "w", out, "out");
  if (bias.data) require_length(kernel, "bias", bias.size, s.O);
  WinogradConv wc;
  if (winograd_shape(s, ConvPass::forward, &wc)) winograd_forward(wc, x.data, w.data, bias.data, out.data);
  else conv_forward(s, x.data, w.data, bias.data, out.data);
  return info.Env().Undefined();
}

Napi::Value ConvBackwardInput(const Napi::CallbackInfo& info) {
  const char* kernel = "convBackwardInput";
  Span<float> gy = f32_arg(info, 0, kernel, "gy");
  Span<float> w = f32_arg(info, 1, kernel, "w");
  Span<float> gx = f32_arg(info, 2, kernel, "gx");
  const ConvShape s = conv_shape(record_arg<tsr_conv_params>(info, 3, kernel), kernel);
  require_conv_buffers(s, kernel, gx, "gx", w, "w", gy, "gy");
  WinogradConv wc;
  if (winograd_shape(s, ConvPass::backward_input, &wc)) winograd_backward_input(wc, gy.data, w.data, gx.data);
  else conv_backward_input(s, gy.data, w.data, gx.data);
  return info.Env().Undefined();
}

Napi::Value ConvBackwardWeight(const Napi::CallbackInfo& info) {
  const char* kernel = "convBackwardWeight";
  Span<float> x = f32_arg(info, 0, kernel, "x");
  Span<float> gy = f32_arg(info, 1, kernel, "gy");
  Span<float> gw = f32_arg(info, 2, kernel, "gw");
  const ConvShape s = conv_shape(record_arg<tsr_conv_params>(info, 3, kernel), kernel);
  require_conv_buffers(s, kernel, x, "x", gw, "gw", gy, "gy");
  WinogradConv wc;
  if (winograd_shape(s, ConvPass::backward_weight, &wc)) winograd_backward_weight(wc, x.data, gy.data, gw.data);
  else conv_backward_weight(s, x.data, gy.data, gw.data);
  return info.Env().Undefined();
}

/** convAlgorithm(record): {forward, backwardInput, backwardWeight}, each 'winograd' or 'gemm': the
 *  algorithm each conv kernel takes for these parameters (lets tests check which path they run). */
Napi::Value ConvAlgorithm(const Napi::CallbackInfo& info) {
  const char* kernel = "convAlgorithm";
  const ConvShape s = conv_shape(record_arg<tsr_conv_params>(info, 0, kernel), kernel);
  Napi::Object result = Napi::Object::New(info.Env());
  const std::pair<const char*, ConvPass> passes[] = {
      {"forward", ConvPass::forward}, {"backwardInput", ConvPass::backward_input}, {"backwardWeight", ConvPass::backward_weight}};
  for (const auto& [name, pass] : passes) {
    WinogradConv wc;
    result.Set(name, winograd_shape(s, pass, &wc) ? "winograd" : "gemm");
  }
  return result;
}

/** setConvWinograd('auto' | 'always' | 'never'): which convolutions take the Winograd kernels (for
 *  tests and benchmarks); returns the previous mode. */
Napi::Value SetConvWinograd(const Napi::CallbackInfo& info) {
  const char* names[] = {"auto", "always", "never"};
  const std::string previous = names[static_cast<int>(winograd_mode.load())];
  const std::string wanted = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  int mode = -1;
  for (int i = 0; i < 3; i++)
    if (wanted == names[i]) mode = i;
  if (mode < 0) fail("setConvWinograd: expected 'auto', 'always' or 'never' (cpu backend)");
  winograd_mode = static_cast<WinogradMode>(mode);
  return Napi::String::New(info.Env(), previous);
}

void InitConv(Napi::Env env, Napi::Object exports) {
  exports.Set("convAlgorithm", Napi::Function::New(env, ConvAlgorithm, "convAlgorithm"));
  exports.Set("setConvWinograd", Napi::Function::New(env, SetConvWinograd, "setConvWinograd"));
  exports.Set("conv", Napi::Function::New(env, Conv, "conv"));
  exports.Set("convBackwardInput", Napi::Function::New(env, ConvBackwardInput, "convBackwardInput"));
  exports.Set("convBackwardWeight", Napi::Function::New(env, ConvBackwardWeight, "convBackwardWeight"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(conv, InitConv);

}  // namespace tessera
