// Winograd convolution F(2, 3) per axis (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016): F(2x2x2, 3x3x3) for a 3x3x3 kernel, F(2x2, 3x3) for conv2d's 1x3x3, and so on;
// an axis with one tap passes through. Each output tile (2 cells along every 3-tap axis) reads an
// input tile of 4 cells per such axis; with T points per input tile (64 for 3x3x3):
//   V[pt, c, tile] = (B^T d B)[pt]                 the input transform of each channel's tile
//   U[pt, o, c]    = (G g G^T)[pt]                 the weight transform
//   M[pt, o, tile] = U[pt] @ V[pt]                 T independent GEMMs over the channels (sgemm)
//   y[o, tile]     = A^T M[:, o, tile] A           the output transform
// For 3x3x3 that is 64 multiply-adds per channel pair and output tile of 8 cells, against 216 for
// direct convolution (3.4x fewer; 2.25x for 3x3), plus the transforms, which are additions
// vectorized over tiles (or channels).
//  - backward-input of a stride-1 convolution is the forward convolution of gy with the weights
//    flipped along every axis and transposed (O <-> C), padding taps - 1 - pad: the same kernel.
//  - backward-weight is the adjoint of the forward algorithm (exact, since the forward computes
//    the convolution exactly in exact arithmetic): gM = A gy A^T per tile, gU[pt] = sum over tiles
//    of gM[pt] @ V[pt]^T (GEMMs with the tiles as the reduction), gw = G^T gU G.
// F(2, 3)'s coefficients are 0, +-1 and 1/2, so rounding stays close to direct convolution's.
// Tiles are processed in chunks whose transformed data stays in cache; chunks run in parallel
// when there are enough of them, else one after another with each stage threaded inside.
#include "conv_winograd.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "simd.h"
#include "threadpool.h"

namespace tessera {
namespace {

// ---------------------------------------------------------------- 1D transforms of F(2, 3)

/** A 1D transform: out[j] = sum_i c[j][i] in[i] (j < rows, i < cols). */
struct Transform1D {
  int rows, cols;
  float c[4][4];
};
enum Kind { kInput, kWeight, kOutput, kOutputAdjoint, kWeightAdjoint };
constexpr Transform1D kTransforms[] = {
    {4, 4, {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}},  // B^T: input tile (4) -> points
    {4, 3, {{1, 0, 0}, {.5f, .5f, .5f}, {.5f, -.5f, .5f}, {0, 0, 1}}},    // G: kernel (3) -> points
    {2, 4, {{1, 1, 1, 0}, {0, 1, -1, -1}}},                                // A^T: points -> output tile (2)
    {4, 2, {{1, 0}, {1, 1}, {1, -1}, {0, -1}}},                            // A: output-tile gradient -> points
    {3, 4, {{1, .5f, .5f, 0}, {0, .5f, -.5f, 0}, {0, .5f, .5f, 1}}},      // G^T: points -> kernel gradient
};

template <class F>
TESSERA_INLINE F load_as(const float* p) {
  F v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class F>
TESSERA_INLINE void store_as(float* p, F v) { std::memcpy(p, &v, sizeof v); }

/** dst[j][l] = sum_i c[j][i] src[i][l] for one lane block at l; F is a float vector or float. Zero
 *  coefficients vanish at compile time (the loops unroll over a constexpr table). */
template <int K, class F>
TESSERA_INLINE void combine(const float* const* src, float* const* dst, int64_t l) {
  constexpr Transform1D t = kTransforms[K];
  F v[4];
#pragma GCC unroll 4
  for (int i = 0; i < t.cols; i++) v[i] = load_as<F>(src[i] + l);
#pragma GCC unroll 4
  for (int j = 0; j < t.rows; j++) {
    F acc = v[0] - v[0];
    bool any = false;
#pragma GCC unroll 4
    for (int i = 0; i < t.cols; i++) {
      const float c = t.c[j][i];
      if (c == 0.f) continue;
      const F term = c == 1.f ? v[i] : c == -1.f ? -v[i] : c * v[i];
      acc = any ? acc + term : term;
      any = true;
    }
    store_as<F>(dst[j] + l, acc);
  }
}

/** Applies transform K along one axis of a grid [outer][K's cols][inner] of L-float vectors, src
 *  point p at src + p * sin, into the grid [outer][K's rows][inner] at dst + p * sout. */
template <int W, int K>
TESSERA_INLINE void apply_axis(const float* src, int64_t sin, float* dst, int64_t sout, int outer, int inner,
                               int64_t L) {
  typedef float F __attribute__((vector_size(W * 4)));
  constexpr Transform1D t = kTransforms[K];
  for (int o = 0; o < outer; o++)
    for (int q = 0; q < inner; q++) {
      const float* s[4];
      float* d[4];
      for (int i = 0; i < t.cols; i++) s[i] = src + ((o * t.cols + i) * inner + q) * sin;
      for (int j = 0; j < t.rows; j++) d[j] = dst + ((o * t.rows + j) * inner + q) * sout;
      int64_t l = 0;
      for (; l + W <= L; l += W) combine<K, F>(s, d, l);
      for (; l < L; l++) combine<K, float>(s, d, l);
    }
}

/** Lane vectors are padded to this many floats in scratch grids (whole vectors at every width). */
constexpr int64_t kLaneAlign = 16;
int64_t lane_pad(int64_t L) { return (L + kLaneAlign - 1) / kLaneAlign * kLaneAlign; }

/** Transform K along every axis in `axes` (bit a) of a grid of L-float vectors, src point p at
 *  src + p * sin -> dst + p * sout. An axis not in `axes` keeps its extent, `keep[a]` (1 for an axis
 *  with one tap; 4 for the W axis when the caller transforms it itself). tmp holds two grids of 64
 *  points of lane_pad(L) floats. */
template <int W>
struct SeparableTransform {
  static TESSERA_INLINE void run(int kind, unsigned axes, const int* keep, const float* src, int64_t sin, float* dst, int64_t sout,
                  int64_t L, float* tmp) {
    switch (kind) {
      case kInput: return apply<kInput>(axes, keep, src, sin, dst, sout, L, tmp);
      case kWeight: return apply<kWeight>(axes, keep, src, sin, dst, sout, L, tmp);
      case kOutput: return apply<kOutput>(axes, keep, src, sin, dst, sout, L, tmp);
      case kOutputAdjoint: return apply<kOutputAdjoint>(axes, keep, src, sin, dst, sout, L, tmp);
      default: return apply<kWeightAdjoint>(axes, keep, src, sin, dst, sout, L, tmp);
    }
  }
  template <int K>
  static TESSERA_INLINE void apply(unsigned axes, const int* keep, const float* src, int64_t sin, float* dst,
                                   int64_t sout, int64_t L, float* tmp) {
    constexpr Transform1D t = kTransforms[K];
    const int64_t Lp = lane_pad(L);
    int e[3] = {1, 1, 1};
    int active[3], count = 0;
    for (int a = 0; a < 3; a++) {
      e[a] = (axes >> a) & 1 ? t.cols : keep[a];
      if ((axes >> a) & 1) active[count++] = a;
    }
    if (count == 0) {  // nothing to transform: copy
      for (int64_t pt = 0; pt < e[0] * e[1] * e[2]; pt++) std::memcpy(dst + pt * sout, src + pt * sin, L * sizeof(float));
      return;
    }
    const float* s = src;
    int64_t ss = sin;
    for (int i = 0; i < count; i++) {
      const bool last = i == count - 1;
      float* d = last ? dst : tmp + (i % 2) * 64 * Lp;
      const int64_t ds = last ? sout : Lp;
      const int a = active[i];
      apply_axis<W, K>(s, ss, d, ds, a == 0 ? 1 : a == 1 ? e[0] : e[0] * e[1], a == 2 ? 1 : a == 1 ? e[2] : e[1] * e[2], L);
      e[active[i]] = t.rows;
      s = d;
      ss = ds;
    }
  }
};

void separable(Kind kind, unsigned axes, const int* keep, const float* src, int64_t sin, float* dst, int64_t sout,
               int64_t L, float* tmp) {
  simd_dispatch<SeparableTransform>(static_cast<int>(kind), axes, keep, src, sin, dst, sout, L, tmp);
}

/** The W axis's transform fused with reading or writing rows: tiles along W are 2 cells apart, so
 *  the W-axis points of consecutive tiles are interleaved in an input (or output) row. */

/** planar[j * L + l] = sum_i c[j][i] row[2 l + i] for l < count (input rows, gy rows). */
template <int K>
TESSERA_INLINE void rows_to_points(const float* __restrict row, int64_t count, float* __restrict planar, int64_t L) {
  constexpr Transform1D t = kTransforms[K];
#pragma GCC unroll 4
  for (int j = 0; j < t.rows; j++) {
    float* __restrict out = planar + j * L;
    for (int64_t l = 0; l < count; l++) {
      float acc = 0.f;
      bool any = false;
#pragma GCC unroll 4
      for (int i = 0; i < t.cols; i++) {
        if (t.c[j][i] == 0.f) continue;
        acc = any ? acc + t.c[j][i] * row[2 * l + i] : t.c[j][i] * row[2 * l + i];
        any = true;
      }
      out[l] = acc;
    }
  }
}

/** row[2 l + j] = sum_i c[j][i] planar[i * L + l] + add for l < count (output rows). */
template <int K>
TESSERA_INLINE void points_to_rows(const float* __restrict planar, int64_t L, int64_t count, float add,
                                   float* __restrict row) {
  constexpr Transform1D t = kTransforms[K];
  for (int64_t l = 0; l < count; l++)
#pragma GCC unroll 4
    for (int j = 0; j < t.rows; j++) {
      float acc = add;
#pragma GCC unroll 4
      for (int i = 0; i < t.cols; i++)
        if (t.c[j][i] != 0.f) acc += t.c[j][i] * planar[i * L + l];
      row[2 * l + j] = acc;
    }
}

/** dst[j * ds + i] = src[i * ss + j] for i < rows, j < cols: 8 x 8 blocks in registers (three
 *  rounds of two-vector shuffles) under AVX2 / AVX-512, elementwise on the baseline. */
template <int W>
struct Transpose {
  static TESSERA_INLINE void run(const float* src, int64_t ss, int64_t rows, int64_t cols, float* dst, int64_t ds) {
    int64_t i0 = 0;
    if constexpr (W == 8) {
      typedef float F __attribute__((vector_size(32)));
      typedef int32_t I __attribute__((vector_size(32)));
      for (; i0 + 8 <= rows; i0 += 8) {
        int64_t j0 = 0;
        for (; j0 + 8 <= cols; j0 += 8) {
          F r[8], t[8], u[8];
          for (int i = 0; i < 8; i++) r[i] = load_as<F>(src + (i0 + i) * ss + j0);
          for (int i = 0; i < 8; i += 2) {
            t[i] = __builtin_shuffle(r[i], r[i + 1], I{0, 8, 1, 9, 4, 12, 5, 13});
            t[i + 1] = __builtin_shuffle(r[i], r[i + 1], I{2, 10, 3, 11, 6, 14, 7, 15});
          }
          for (int i = 0; i < 8; i += 4)
            for (int h = 0; h < 2; h++) {
              u[i + 2 * h] = __builtin_shuffle(t[i + h], t[i + h + 2], I{0, 1, 8, 9, 4, 5, 12, 13});
              u[i + 2 * h + 1] = __builtin_shuffle(t[i + h], t[i + h + 2], I{2, 3, 10, 11, 6, 7, 14, 15});
            }
          // u[0..3] hold columns 0, 1, 2, 3 (low halves) and 4, 5, 6, 7 (high halves) of rows 0-3; u[4..7] of rows 4-7.
          for (int j = 0; j < 4; j++) {
            store_as<F>(dst + (j0 + j) * ds + i0, __builtin_shuffle(u[j], u[j + 4], I{0, 1, 2, 3, 8, 9, 10, 11}));
            store_as<F>(dst + (j0 + j + 4) * ds + i0, __builtin_shuffle(u[j], u[j + 4], I{4, 5, 6, 7, 12, 13, 14, 15}));
          }
        }
        for (int64_t i = i0; i < i0 + 8; i++)
          for (int64_t j = j0; j < cols; j++) dst[j * ds + i] = src[i * ss + j];
      }
    }
    for (int64_t i = i0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++) dst[j * ds + i] = src[i * ss + j];
  }
};

// ---------------------------------------------------------------- tiling

/** Per-thread scratch, kept across calls (fresh memory costs a page fault per 4 KiB on first touch). */
enum Buffer { kPatch, kTemp, kWindow, kTransformedIn, kProducts, kWeights, kPackedWeights, kGradSlots, kBufferCount };
float* buffer(Buffer which, int64_t floats) {
  thread_local std::vector<float> buffers[kBufferCount];
  std::vector<float>& b = buffers[which];
  if (static_cast<int64_t>(b.size()) < floats) b.resize(floats);
  return b.data();
}

struct Plan {
  WinogradConv s;
  unsigned axes = 0;        // bit a: axis a has 3 taps
  int t[3], m[3];           // input cells and output cells of a tile along each axis
  int64_t T = 1, Q = 1, R = 1;  // points per tile (input side), output cells per tile, kernel taps
  int64_t nt[3], tiles_per_image, tiles;
  int64_t in_plane, out_plane;

  int k_w() const { return static_cast<int>(s.k[2]); }

  explicit Plan(const WinogradConv& shape) : s(shape) {
    for (int a = 0; a < 3; a++) {
      const bool three = s.k[a] == 3;
      if (three) axes |= 1u << a;
      t[a] = three ? 4 : 1;
      m[a] = three ? 2 : 1;
      T *= t[a];
      Q *= m[a];
      R *= s.k[a];
      nt[a] = (s.out[a] + m[a] - 1) / m[a];
    }
    tiles_per_image = nt[0] * nt[1] * nt[2];
    tiles = s.N * tiles_per_image;
    in_plane = s.in[0] * s.in[1] * s.in[2];
    out_plane = s.out[0] * s.out[1] * s.out[2];
  }
};

/** Consecutive tiles of a chunk along W (same image and row of tiles): lanes [lane, lane + count),
 *  the first tile's first output cell `first` (its input tile starts `pad` before). */
struct Run {
  int64_t lane, count, n;
  int64_t first[3];
};

/** The runs of the chunk of tiles [first, first + lanes). */
std::vector<Run> runs_of(const Plan& p, int64_t first, int64_t lanes) {
  std::vector<Run> runs;
  for (int64_t l = 0; l < lanes;) {
    const int64_t tile = first + l, r = tile % p.tiles_per_image;
    const int64_t i2 = r % p.nt[2];
    Run run;
    run.lane = l;
    run.count = std::min(lanes - l, p.nt[2] - i2);
    run.n = tile / p.tiles_per_image;
    run.first[0] = r / (p.nt[1] * p.nt[2]) * p.m[0];
    run.first[1] = r / p.nt[2] % p.nt[1] * p.m[1];
    run.first[2] = i2 * p.m[2];
    runs.push_back(run);
    l += run.count;
  }
  return runs;
}

/** Reads tiles of one channel into points along W: for every run, every (a, b) of the tile's
 *  extents e0 x e1 (from `origin` = run.first - shift) and every lane, row = the e2-wide window of the
 *  row (zero outside the plane of extents ext), written as planar[((a * e1 + b) * rows + j) * L + lane]
 *  with rows = K's rows and the window transformed by K along W when W has 3 taps (e2 = K's cols),
 *  or copied (e2 = rows = 1). `image` is the plane of image 0; images are image_stride apart. */
struct RowSource {
  const float* image;
  int64_t image_stride;
  int64_t ext[3], shift[3];
  int e[3];
  int kind;
};

template <int W>
struct GatherRows {
  static TESSERA_INLINE void run(const Plan* p, const std::vector<Run>* runs, const RowSource* src, float* planar, int64_t L,
                  float* window) {
    const bool three = p->k_w() == 3;
    const int rows = three ? 4 : 1;
    for (const Run& run : *runs) {
      const float* img = src->image + run.n * src->image_stride;
      const int64_t d0 = run.first[0] - src->shift[0], h0 = run.first[1] - src->shift[1], w0 = run.first[2] - src->shift[2];
      const int64_t span = three ? (run.count - 1) * 2 + src->e[2] : run.count;
      const int64_t lo = std::clamp<int64_t>(-w0, 0, span), hi = std::clamp<int64_t>(src->ext[2] - w0, lo, span);
      for (int a = 0; a < src->e[0]; a++)
        for (int b = 0; b < src->e[1]; b++) {
          float* dst = planar + (a * src->e[1] + b) * rows * L + run.lane;
          const int64_t d = d0 + a, h = h0 + b;
          if (d < 0 || d >= src->ext[0] || h < 0 || h >= src->ext[1] || lo == hi) {
            for (int j = 0; j < rows; j++) std::fill(dst + j * L, dst + j * L + run.count, 0.f);
            continue;
          }
          const float* row = img + (d * src->ext[1] + h) * src->ext[2] + w0;
          if (lo > 0 || hi < span) {  // through a zero-padded copy
            std::fill(window, window + lo, 0.f);
            std::memcpy(window + lo, row + lo, (hi - lo) * sizeof(float));
            std::fill(window + hi, window + span, 0.f);
            row = window;
          }
          if (!three) std::memcpy(dst, row, run.count * sizeof(float));
          else if (src->kind == kInput) rows_to_points<kInput>(row, run.count, dst, L);
          else rows_to_points<kOutputAdjoint>(row, run.count, dst, L);
        }
    }
  }
};

/** The output transform's last step: writes the points along W of one output channel (planar[((a *
 *  m1 + b) * t2 + i) * L + lane]) as output rows, plus `add`, into `plane` (the channel's plane of
 *  image 0; images are image_stride apart). */
template <int W>
struct ScatterRows {
  static TESSERA_INLINE void run(const Plan* p, const std::vector<Run>* runs, const float* planar, int64_t L, float add, float* plane,
                  int64_t image_stride, float* window) {
    const bool three = p->k_w() == 3;
    const int64_t oD = p->s.out[0], oH = p->s.out[1], oW = p->s.out[2];
    for (const Run& run : *runs) {
      float* img = plane + run.n * image_stride;
      const int64_t len = std::min(run.count * p->m[2], oW - run.first[2]);
      for (int a = 0; a < p->m[0]; a++)
        for (int b = 0; b < p->m[1]; b++) {
          const int64_t d = run.first[0] + a, h = run.first[1] + b;
          if (d >= oD || h >= oH) continue;
          const float* src = planar + (a * p->m[1] + b) * p->t[2] * L + run.lane;
          float* row = img + (d * oH + h) * oW + run.first[2];
          if (!three) {
            for (int64_t l = 0; l < len; l++) row[l] = src[l] + add;
          } else if (len == 2 * run.count) {
            points_to_rows<kOutput>(src, L, run.count, add, row);
          } else {
            points_to_rows<kOutput>(src, L, run.count, add, window);
            std::memcpy(row, window, len * sizeof(float));
          }
        }
    }
  }
};

/** Runs body(i) for i < count through parallel_for (inline when already inside one). */
template <class Body>
void parallel(int64_t count, int64_t grain, const Body& body) {
  parallel_for(count, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) body(i);
  });
}

/** Tiles per chunk: the transformed inputs and products of a chunk (T x (channels in + out) x
 *  tiles) about 4 MiB (of 1, 2, 4, 8 and 16 MiB on the 3x3x3 64-channel layer of
 *  bench/cases/conv3d.ts, 4 and more took the least CPU time; smaller chunks give the weight
 *  gradient's GEMMs a short reduction), and at most a thread's share of the tiles (so that small convolutions run
 *  their chunks in parallel, with one parallel region instead of one per stage); a multiple of 16
 *  tiles, at least 32 so that sgemm gets whole 32-wide panels. */
int64_t chunk_tiles(const Plan& p, int64_t channels) {
  const int64_t kFloats = int64_t{1} << 20;
  const int64_t share = lane_pad((p.tiles + num_threads() - 1) / num_threads());
  return std::clamp<int64_t>(std::min(kFloats / (p.T * channels) / 16 * 16, share), 32, 512);
}

/** Whether `count` chunks run in parallel (each chunk's stages then run inline); otherwise they
 *  run one after another with each stage threaded. */
bool parallel_chunks(int64_t count) { return num_threads() > 1 && count >= num_threads(); }

template <class Chunk>
void run_chunks(int64_t count, const Chunk& chunk) {
  if (parallel_chunks(count)) parallel(count, 1, chunk);
  else
    for (int64_t i = 0; i < count; i++) chunk(i);
}

// ---------------------------------------------------------------- forward (and backward-input)

/** A weight tensor read as w(o, c, tap) = w[o * so + c * sc + tap], or with the taps reversed. */
struct WeightView {
  const float* w;
  int64_t so, sc;
  bool flipped;
};

/** Points of every tile of a chunk for one channel: src's rows gathered and transformed along W,
 *  then along the other 3-tap axes, into dst[pt * dst_stride + lane] (lane < lanes). */
void transform_tiles(const Plan& p, const std::vector<Run>& runs, const RowSource& src, float* dst, int64_t dst_stride,
                     int64_t L, int64_t lanes) {
  float* planar = buffer(kPatch, p.T * L);
  simd_dispatch<GatherRows>(&p, &runs, &src, planar, L, buffer(kWindow, 2 * L + 8));
  const int keep[3] = {1, 1, p.t[2]};
  separable(static_cast<Kind>(src.kind), p.axes & 3u, keep, planar, L, dst, dst_stride, lanes, buffer(kTemp, 2 * 64 * L));
}

/** The rows of one channel of x (kInput) or of gy (kOutputAdjoint) as RowSource. */
RowSource input_rows(const Plan& p, const float* x, int64_t c) {
  return {x + c * p.in_plane, p.s.C * p.in_plane, {p.s.in[0], p.s.in[1], p.s.in[2]}, {p.s.pad[0], p.s.pad[1], p.s.pad[2]},
          {p.t[0], p.t[1], p.t[2]}, kInput};
}
RowSource gradient_rows(const Plan& p, const float* gy, int64_t o) {
  return {gy + o * p.out_plane, p.s.O * p.out_plane, {p.s.out[0], p.s.out[1], p.s.out[2]}, {0, 0, 0},
          {p.m[0], p.m[1], p.m[2]}, kOutputAdjoint};
}

/** Tiles of `lanes` lanes, padded to whole vectors in scratch. */
int64_t lane_stride(int64_t lanes) { return lane_pad(lanes); }

/** out = conv(x, weights) + bias for the convolution p. */
void forward(const Plan& p, const float* x, const WeightView& wv, const float* bias, float* out) {
  const WinogradConv& s = p.s;
  if (s.N == 0 || p.out_plane == 0) return;
  const int64_t C = s.C, O = s.O, T = p.T, R = p.R;
  const int ones[3] = {1, 1, 1};
  // U[pt][o][c], then each point's [O x C] packed for sgemm.
  float* U = buffer(kWeights, T * O * C);
  parallel(O, std::max<int64_t>(1, 4096 / (C * T)), [&](int64_t o) {
    const int64_t Cp = lane_pad(C);
    float* g = buffer(kPatch, R * Cp);
    for (int64_t c = 0; c < C; c++)
      for (int64_t r = 0; r < R; r++) g[r * Cp + c] = wv.w[o * wv.so + c * wv.sc + (wv.flipped ? R - 1 - r : r)];
    separable(kWeight, p.axes, ones, g, Cp, U + o * C, O * C, C, buffer(kTemp, 2 * 64 * Cp));
  });
  const int64_t packed_floats = packed_a_floats(O, C);
  float* packed_storage = buffer(kPackedWeights, T * packed_floats);
  std::vector<PackedA> packed(T);
  parallel(T, 1, [&](int64_t pt) { packed[pt] = pack_a_once(O, C, U + pt * O * C, C, 1, packed_storage + pt * packed_floats); });

  const int64_t tb = chunk_tiles(p, C + O), chunks = (p.tiles + tb - 1) / tb;
  run_chunks(chunks, [&](int64_t chunk) {
    const int64_t first = chunk * tb, lanes = std::min(tb, p.tiles - first), L = lane_stride(lanes);
    const std::vector<Run> runs = runs_of(p, first, lanes);
    float* V = buffer(kTransformedIn, T * C * L);  // V[pt][c][lane]
    float* M = buffer(kProducts, T * O * L);       // M[pt][o][lane]
    parallel(C, 1, [&](int64_t c) { transform_tiles(p, runs, input_rows(p, x, c), V + c * L, C * L, L, lanes); });
    parallel(T, 1, [&](int64_t pt) {
      GemmOperand A, B;
      A.data = U + pt * O * C;
      A.rs = C;
      A.cs = 1;
      A.packed = &packed[pt];
      B.data = V + pt * C * L;
      B.rs = L;
      B.cs = 1;
      sgemm(O, lanes, C, A, B, M + pt * O * L, L, GemmEpilogue{});
    });
    parallel(O, 1, [&](int64_t o) {
      float* y = buffer(kPatch, T * L);  // points along W of the output cells along D and H
      const int keep[3] = {1, 1, p.t[2]};
      separable(kOutput, p.axes & 3u, keep, M + o * L, O * L, y, L, lanes, buffer(kTemp, 2 * 64 * L));
      simd_dispatch<ScatterRows>(&p, &runs, static_cast<const float*>(y), L, bias ? bias[o] : 0.f, out + o * p.out_plane,
                                 O * p.out_plane, buffer(kWindow, 2 * L + 8));
    });
  });
}

// ---------------------------------------------------------------- backward-weight

/** A GEMM operand whose depth runs along rows of m (rows L floats apart): op(k, i) = m[i * L + k], as
 *  the weight gradient's gM[pt] and V[pt] are (the depth is the lanes). sgemm packs depth by depth,
 *  so packing is a transpose, done in 8 x 8 register blocks. */
struct LaneRows {
  const float* m;
  int64_t L;
  static void pack(const void* ctx, int64_t k0, int64_t kc, int64_t i0, int count, int width, float* dst) {
    const LaneRows& a = *static_cast<const LaneRows*>(ctx);
    if (count < width)
      for (int64_t k = 0; k < kc; k++) std::fill(dst + k * width + count, dst + (k + 1) * width, 0.f);
    simd_dispatch<Transpose>(a.m + i0 * a.L + k0, a.L, static_cast<int64_t>(count), kc, dst, static_cast<int64_t>(width));
  }
};

void backward_weight(const Plan& p, const float* x, const float* gy, float* gw) {
  const WinogradConv& s = p.s;
  const int64_t C = s.C, O = s.O, T = p.T, R = p.R, gu_size = T * O * C;
  if (s.N == 0 || p.out_plane == 0) {
    std::fill(gw, gw + O * C * R, 0.f);
    return;
  }
  const int64_t tb = chunk_tiles(p, C + O), chunks = (p.tiles + tb - 1) / tb;
  // One gU[pt][o][c] per slot: per thread when chunks run in parallel.
  const int64_t slots = parallel_chunks(chunks) ? num_threads() : 1;
  float* gU = buffer(kGradSlots, slots * gu_size);
  std::fill(gU, gU + slots * gu_size, 0.f);
  auto accumulate = [&](int64_t chunk, float* gu) {
    const int64_t first = chunk * tb, lanes = std::min(tb, p.tiles - first), L = lane_stride(lanes);
    const std::vector<Run> runs = runs_of(p, first, lanes);
    float* V = buffer(kTransformedIn, T * C * L);  // V[pt][c][lane]
    float* gM = buffer(kProducts, T * O * L);      // gM[pt][o][lane]
    parallel(C, 1, [&](int64_t c) { transform_tiles(p, runs, input_rows(p, x, c), V + c * L, C * L, L, lanes); });
    parallel(O, 1, [&](int64_t o) { transform_tiles(p, runs, gradient_rows(p, gy, o), gM + o * L, O * L, L, lanes); });
    parallel(T, 1, [&](int64_t pt) {
      // gU[pt] (O x C) += gM[pt] (O x lanes) @ V[pt]^T (lanes x C), a reduction over lanes.
      const LaneRows a{gM + pt * O * L, L}, b{V + pt * C * L, L};
      const GemmSource a_source{LaneRows::pack, &a}, b_source{LaneRows::pack, &b};
      GemmOperand A, B;
      A.source = &a_source;
      B.source = &b_source;
      GemmEpilogue ep;
      ep.accumulate = true;
      sgemm(O, C, lanes, A, B, gu + pt * O * C, C, ep);
    });
  };
  if (slots == 1) {
    for (int64_t i = 0; i < chunks; i++) accumulate(i, gU);
  } else {
    parallel_for(slots, 1, [&](int64_t s0, int64_t s1) {
      for (int64_t slot = s0; slot < s1; slot++)
        for (int64_t i = chunks * slot / slots; i < chunks * (slot + 1) / slots; i++) accumulate(i, gU + slot * gu_size);
    });
    parallel_for(gu_size, 16384, [&](int64_t b, int64_t e) {
      for (int64_t slot = 1; slot < slots; slot++)
        for (int64_t i = b; i < e; i++) gU[i] += gU[slot * gu_size + i];
    });
  }
  // gw[o][c][tap] = (G^T gU[:, o, c] G)[tap]
  const int ones[3] = {1, 1, 1};
  parallel(O, std::max<int64_t>(1, 4096 / (C * T)), [&](int64_t o) {
    const int64_t Cp = lane_pad(C);
    float* g = buffer(kPatch, R * Cp);
    separable(kWeightAdjoint, p.axes, ones, gU + o * C, O * C, g, Cp, C, buffer(kTemp, 2 * 64 * Cp));
    for (int64_t c = 0; c < C; c++)
      for (int64_t r = 0; r < R; r++) gw[(o * C + c) * R + r] = g[r * Cp + c];
  });
}

}  // namespace

bool winograd_eligible(const WinogradConv& s) {
  bool any = false;
  for (int a = 0; a < 3; a++) {
    if (s.k[a] != 1 && s.k[a] != 3) return false;
    if (s.pad[a] > s.k[a] - 1) return false;
    any = any || s.k[a] == 3;
  }
  return any;
}

/** The convolution that backward-input computes: gy with the flipped, transposed weights. */
WinogradConv input_gradient_conv(const WinogradConv& s) {
  WinogradConv t = s;
  t.C = s.O;
  t.O = s.C;
  for (int a = 0; a < 3; a++) {
    t.in[a] = s.out[a];
    t.out[a] = s.in[a];
    t.pad[a] = s.k[a] - 1 - s.pad[a];
  }
  return t;
}

bool winograd_pays(const WinogradConv& s, ConvPass pass) {
  // Per pair of channels, Winograd saves `saved` multiply-adds (direct convolution's less its GEMMs',
  // which count the points of whole tiles, also where they overhang the output) and costs a
  // transform of the weights (or of their gradient) of T points. Measured on this project's 2-core
  // Zen 5 VM (noisy): forward and backward-input lose to implicit GEMM at saved / T = 50 (r3d_18's
  // 512-channel 2x7x7 layer at batch 2) and 80 (the detector's 128-channel 4x4 maps at batch 16),
  // win from 320 on (the 8x8 maps) and break even at 465 (r3d_18's 256-channel 4x14x14 layer);
  // backward-weight wins wherever it saves anything (implicit GEMM's weight gradient reduces over
  // few output positions on these small maps).
  const Plan p(pass == ConvPass::backward_input ? input_gradient_conv(s) : s);
  const double saved = static_cast<double>(p.s.N * p.out_plane * p.R) - static_cast<double>(p.tiles * p.T);
  return pass == ConvPass::backward_weight ? saved > 0 : saved >= 256.0 * p.T;
}

void winograd_forward(const WinogradConv& s, const float* x, const float* w, const float* bias, float* out) {
  const int64_t R = s.k[0] * s.k[1] * s.k[2];
  forward(Plan(s), x, WeightView{w, s.C * R, R, false}, bias, out);
}

void winograd_backward_input(const WinogradConv& s, const float* gy, const float* w, float* gx) {
  // gx = conv(gy, w flipped and transposed), padding taps - 1 - pad: gx's size again.
  const int64_t R = s.k[0] * s.k[1] * s.k[2];
  forward(Plan(input_gradient_conv(s)), gy, WeightView{w, R, s.C * R, true}, nullptr, gx);
}

void winograd_backward_weight(const WinogradConv& s, const float* x, const float* gy, float* gw) {
  backward_weight(Plan(s), x, gy, gw);
}

}  // namespace tessera
