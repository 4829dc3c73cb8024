// Reductions over the middle axis of a dense [outer, size, inner] array into [outer, inner].
// Sums are blocked and pairwise in float32 (error grows with log(size), not size); max/min
// propagate NaN; argmax/argmin return the first index of the extreme (NaN counts as extreme),
// like the reference backend and torch.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "families.h"
#include "simd.h"
#include "strided.h"
#include "threadpool.h"

namespace tessera {
namespace {

// Op codes (TSR_SUM, ...) and their names come from kernels/schema.h.

constexpr bool is_arg(int op) { return op == TSR_ARGMAX || op == TSR_ARGMIN; }

/** The value reducing nothing gives, and what pads partial vectors (it never changes a result). */
constexpr float identity(int op) {
  const float inf = std::numeric_limits<float>::infinity();
  switch (op) {
    case TSR_SUM: return 0.f;
    case TSR_PROD: return 1.f;
    case TSR_MAX: case TSR_ARGMAX: return -inf;
    default: return inf;
  }
}

/** Whether candidate value v replaces the current extreme `best` (strictly better, or the first NaN).
 *  Scanning in index order with this rule keeps the first index on ties. */
inline bool better(int op, float v, float best) {
  bool nan_first = v != v && best == best;
  return (op == TSR_MAX || op == TSR_ARGMAX) ? (v > best || nan_first) : (v < best || nan_first);
}

// Inner positions one task reduces together (64 KB of each row): wide enough that rows are read
// from memory as one contiguous stream, while the accumulators stay in L2.
constexpr int64_t kColTile = 16384;
constexpr int kMaxLevels = 48;      // pairwise partials in flight: enough for 2^48 blocks

/** Pairwise combination of block partials without recursion (recursion would leave the SIMD
 *  target function): partial sums sit on a stack like the digits of a binary counter, and
 *  equal-sized neighbours merge as soon as both exist. */
template <class Partial>
struct PairwiseStack {
  Partial* levels;  // kMaxLevels entries
  int top = 0;
  int64_t count = 0;
  /** The next partial goes here; call push() once it is filled. */
  Partial& next() { return levels[top]; }
  template <class Add>
  void push(Add add) {
    for (int64_t c = count; c & 1; c >>= 1, top--) add(levels[top - 1], levels[top]);
    top++;
    count++;
  }
  /** Folds what is left into levels[0]; returns false if nothing was pushed. */
  template <class Add>
  bool finish(Add add) {
    for (; top > 1; top--) add(levels[top - 2], levels[top - 1]);
    return count > 0;
  }
};

template <int W>
struct ReduceSimd {
  using V = Vec<W>;
  using F = typename V::F;
  using I = typename V::I;

  static TESSERA_INLINE F load_padded(const float* p, int64_t n, float pad) {
    if (n >= W) return V::load(p);
    float buf[W];
    for (int i = 0; i < W; i++) buf[i] = i < n ? p[i] : pad;
    return V::load(buf);
  }

  static TESSERA_INLINE void store_n(float* p, F v, int64_t n) {
    if (n >= W) {
      V::store(p, v);
    } else {
      float buf[W];
      V::store(buf, v);
      std::memcpy(p, buf, n * sizeof(float));
    }
  }

  /** Lanes that take x: strictly better, or NaN arriving where the lane holds none. */
  template <bool IsMax>
  static TESSERA_INLINE I takes(F x, F best) {
    I nan_first = (x != x) & (best == best);
    if constexpr (IsMax) return (x > best) | nan_first;
    else return (x < best) | nan_first;
  }

  // ---- contiguous rows (inner == 1) ----

  static constexpr int64_t kSumBlock = 2048;

  static TESSERA_INLINE float sum_block(const float* x, int64_t n) {
    F acc[4] = {V::splat(0.f), V::splat(0.f), V::splat(0.f), V::splat(0.f)};
    int64_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W)
      for (int u = 0; u < 4; u++) acc[u] += V::load(x + i + u * W);
    for (; i < n; i += W) acc[0] += load_padded(x + i, n - i, 0.f);
    return V::sum((acc[0] + acc[1]) + (acc[2] + acc[3]));
  }

  /** Reduces x[0, n) into value (and index, for arg ops). n may be 0. */
  static TESSERA_INLINE void row(int op, const float* x, int64_t n, float* value, int32_t* index) {
    if (op == TSR_SUM) {
      float levels[kMaxLevels];
      PairwiseStack<float> stack{levels};
      for (int64_t i = 0; i < n; i += kSumBlock) {
        stack.next() = sum_block(x + i, std::min(kSumBlock, n - i));
        stack.push([](float& into, float& from) { into += from; });
      }
      *value = stack.finish([](float& into, float& from) { into += from; }) ? levels[0] : 0.f;
      return;
    }
    const float pad = identity(op);
    if (op == TSR_PROD) {
      F acc[2] = {V::splat(1.f), V::splat(1.f)};
      int64_t i = 0;
      for (; i + 2 * W <= n; i += 2 * W) {
        acc[0] *= V::load(x + i);
        acc[1] *= V::load(x + i + W);
      }
      for (; i < n; i += W) acc[0] *= load_padded(x + i, n - i, pad);
      float lanes[W];
      V::store(lanes, acc[0] * acc[1]);
      float p = 1.f;
      for (int l = 0; l < W; l++) p *= lanes[l];
      *value = p;
      return;
    }
    if (op == TSR_MAX || op == TSR_ARGMAX) extreme_row<true>(op, x, n, value, index);
    else extreme_row<false>(op, x, n, value, index);
  }

  /** max / min / argmax / argmin of a row: each lane keeps its extreme and where it was; lanes that
   *  never took a value hold (pad, 0), which only wins when every element equals the pad, and then
   *  index 0 is the right answer. */
  template <bool IsMax>
  static TESSERA_INLINE void extreme_row(int op, const float* x, int64_t n, float* value, int32_t* index) {
    const float pad = identity(op);
    F best = V::splat(pad);
    I best_i = V::splat_i(0), idx;
    int32_t first_idx[W];
    for (int l = 0; l < W; l++) first_idx[l] = l;
    std::memcpy(&idx, first_idx, sizeof idx);
    for (int64_t i = 0; i < n; i += W) {
      F v = load_padded(x + i, n - i, pad);
      I take = takes<IsMax>(v, best);
      best = V::select(take, v, best);
      best_i = take ? idx : best_i;
      idx += W;
    }
    float lanes[W];
    int32_t lane_idx[W];
    V::store(lanes, best);
    std::memcpy(lane_idx, &best_i, sizeof lane_idx);
    float b = lanes[0];
    int32_t bi = lane_idx[0];
    for (int l = 1; l < W; l++) {
      bool tie = lanes[l] == b || (lanes[l] != lanes[l] && b != b);
      if (better(op, lanes[l], b) || (tie && lane_idx[l] < bi)) {
        b = lanes[l];
        bi = lane_idx[l];
      }
    }
    *value = b;
    if (index) *index = bi;
  }

  // ---- strided columns (inner > 1): rows of a tile stream through an accumulator tile ----

  static constexpr int64_t kColBlock = 64;  // rows summed in sequence before pairwise combination

  /** acc[j] = fn(acc[j], row[j], j, lanes) for j < jw: whole vectors (lanes == W), then one padded
   *  tail with the lanes that exist. */
  template <class Fn>
  static TESSERA_INLINE void along_tile(float* acc, const float* row, int64_t jw, float pad, Fn fn) {
    const int64_t full = jw / W * W;
    for (int64_t j = 0; j < full; j += W) V::store(acc + j, fn(V::load(acc + j), V::load(row + j), j, int64_t(W)));
    if (full < jw) {
      const int64_t m = jw - full;
      store_n(acc + full, fn(load_padded(acc + full, m, pad), load_padded(row + full, m, pad), full, m), m);
    }
  }

  /** Pairwise partial tiles a column sum over `size` rows can hold at once. */
  static constexpr int levels_for(int64_t size) {
    int levels = 2;
    for (int64_t blocks = (size + kColBlock - 1) / kColBlock; blocks > 1; blocks >>= 1) levels++;
    return levels;
  }

  /** Reduces rows s < size of a tile (x[s * inner + j], j < jw <= kColTile) into values[j] and,
   *  for arg ops, the row index into indices[j]. `levels` is scratch for levels_for(size) * jw floats. */
  template <int OP>
  static TESSERA_INLINE void cols_for(const float* x, int64_t size, int64_t inner, int64_t jw, float* values,
                                      int32_t* indices, float* levels) {
    const float pad = identity(OP);
    if constexpr (OP == TSR_SUM) {
      struct Tile { float* v; };
      Tile tiles[kMaxLevels];
      for (int l = 0; l < levels_for(size); l++) tiles[l].v = levels + l * jw;
      PairwiseStack<Tile> stack{tiles};
      auto add = [jw](Tile& into, Tile& from) TESSERA_LAMBDA_INLINE {
        along_tile(into.v, from.v, jw, 0.f, [](F a, F b, int64_t, int64_t) TESSERA_LAMBDA_INLINE { return a + b; });
      };
      for (int64_t s0 = 0; s0 < size; s0 += kColBlock) {
        float* acc = stack.next().v;
        std::fill(acc, acc + jw, 0.f);
        const int64_t s1 = std::min(size, s0 + kColBlock);
        int64_t s = s0;
        // Four rows per pass over the accumulators: a quarter of the L1 traffic.
        for (; s + 4 <= s1; s += 4) {
          const float* r = x + s * inner;
          along_tile(acc, r, jw, 0.f, [r, inner](F a, F b, int64_t j, int64_t lanes) TESSERA_LAMBDA_INLINE {
            auto row = [&](int64_t k) TESSERA_LAMBDA_INLINE {
              return lanes == W ? V::load(r + k * inner + j) : load_padded(r + k * inner + j, lanes, 0.f);
            };
            return a + ((b + row(1)) + (row(2) + row(3)));
          });
        }
        for (; s < s1; s++)
          along_tile(acc, x + s * inner, jw, 0.f, [](F a, F b, int64_t, int64_t) TESSERA_LAMBDA_INLINE { return a + b; });
        stack.push(add);
      }
      if (stack.finish(add)) std::memcpy(values, tiles[0].v, jw * sizeof(float));
      else std::fill(values, values + jw, 0.f);
    } else if constexpr (OP == TSR_PROD) {
      std::fill(values, values + jw, 1.f);
      for (int64_t s = 0; s < size; s++)
        along_tile(values, x + s * inner, jw, 1.f, [](F a, F b, int64_t, int64_t) TESSERA_LAMBDA_INLINE { return a * b; });
    } else {
      constexpr bool is_max = OP == TSR_MAX || OP == TSR_ARGMAX;
      std::fill(values, values + jw, pad);
      if constexpr (is_arg(OP)) std::fill(indices, indices + jw, 0);
      for (int64_t s = 0; s < size; s++) {
        const I row_index = V::splat_i(static_cast<int32_t>(s));
        along_tile(values, x + s * inner, jw, pad, [&](F acc, F v, int64_t j, int64_t lanes) TESSERA_LAMBDA_INLINE {
          I take = takes<is_max>(v, acc);
          if constexpr (is_arg(OP)) {
            // Only `lanes` indices exist past j (the tail): copy through a full-width buffer.
            int32_t buf[W] = {};
            std::memcpy(buf, indices + j, lanes * sizeof(int32_t));
            I best;
            std::memcpy(&best, buf, sizeof best);
            best = take ? row_index : best;
            std::memcpy(buf, &best, sizeof best);
            std::memcpy(indices + j, buf, lanes * sizeof(int32_t));
          }
          return V::select(take, v, acc);
        });
      }
    }
  }

  static TESSERA_INLINE void cols(int op, const float* x, int64_t size, int64_t inner, int64_t jw, float* values,
                                  int32_t* indices, float* levels) {
    switch (op) {
      case TSR_SUM: return cols_for<TSR_SUM>(x, size, inner, jw, values, indices, levels);
      case TSR_PROD: return cols_for<TSR_PROD>(x, size, inner, jw, values, indices, levels);
      case TSR_MAX: return cols_for<TSR_MAX>(x, size, inner, jw, values, indices, levels);
      case TSR_MIN: return cols_for<TSR_MIN>(x, size, inner, jw, values, indices, levels);
      case TSR_ARGMAX: return cols_for<TSR_ARGMAX>(x, size, inner, jw, values, indices, levels);
      default: return cols_for<TSR_ARGMIN>(x, size, inner, jw, values, indices, levels);
    }
  }
};

// simd_dispatch entry points (one kernel struct per shape of work).
template <int W> struct RowKernel {
  static TESSERA_INLINE void run(int op, const float* x, int64_t n, float* value, int32_t* index) {
    ReduceSimd<W>::row(op, x, n, value, index);
  }
};
template <int W> struct ColKernel {
  static TESSERA_INLINE void run(int op, const float* x, int64_t size, int64_t inner, int64_t jw, float* values,
                                 int32_t* indices, float* levels) {
    ReduceSimd<W>::cols(op, x, size, inner, jw, values, indices, levels);
  }
};

// Work per task when the reduced axis is split: few outputs but a long axis still use every thread.
constexpr int64_t kChunkElements = 1 << 16;
// Rows (inner == 1) of at most this many elements are summed by a plain loop.
constexpr int64_t kShortRow = 8;

void store_result(int op, const AnyArray& out, int64_t i, double value, int32_t index) {
  if (is_arg(op)) out.i32()[i] = index;
  else if (out.dtype == DType::f32) out.f32()[i] = static_cast<float>(value);
  else out.i32()[i] = js_to_int32(value);
}

/** Tasks are (outer, tile of inner positions, chunk of the reduced axis). Contiguous rows
 *  (inner == 1) are one position per tile; otherwise a tile is kColTile positions whose rows stream
 *  through L1. The axis is split into chunks only when outer x tiles would leave threads idle;
 *  chunk results then merge in axis order (sums and products in double). */
void reduce_f32(int op, const float* x, int64_t outer, int64_t size, int64_t inner, const AnyArray& out) {
  const bool rows = inner == 1;
  const int64_t tile = rows ? 1 : kColTile;
  const int64_t tiles = (inner + tile - 1) / tile;
  const int64_t row_width = std::min(inner, tile);
  int64_t chunk = std::max<int64_t>(size, 1);
  if (outer * tiles < 2 * num_threads()) {
    const int64_t block = ReduceSimd<4>::kColBlock;  // keep the pairwise blocks whole
    chunk = std::max<int64_t>(block, (kChunkElements / row_width + block - 1) / block * block);
  }
  const int64_t chunks = std::max<int64_t>(1, (size + chunk - 1) / chunk);
  const bool arg = is_arg(op);
  if (rows && chunks == 1 && size <= kShortRow && (op == TSR_SUM || op == TSR_PROD)) {
    // Short rows (the 2 x 2 cells of a nearest upsampling's gradient): a plain loop over a task's
    // rows, where the vector kernel's dispatch per row would cost more than the row itself.
    parallel_for(outer, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(size, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; o++) {
        const float* row = x + o * size;
        float acc = op == TSR_SUM ? 0.f : 1.f;
        for (int64_t s = 0; s < size; s++) acc = op == TSR_SUM ? acc + row[s] : acc * row[s];
        store_result(op, out, o, acc, 0);
      }
    });
    return;
  }

  // Partial results, chunk-major (part[c * positions + pos]), so a task writes one contiguous run
  // and the merge reads rows; empty when chunks == 1 (results go straight to out).
  const int64_t positions = outer * inner;
  std::vector<float> part(chunks > 1 ? positions * chunks : 0);
  std::vector<int32_t> part_idx(chunks > 1 && arg ? positions * chunks : 0);
  const int64_t units = outer * tiles * chunks;
  const int64_t unit_work = std::min(chunk, std::max<int64_t>(size, 1)) * row_width;
  parallel_for(units, std::max<int64_t>(1, kElementwiseGrain / unit_work), [&](int64_t b, int64_t e) {
    thread_local std::vector<float> levels, values_buf;
    thread_local std::vector<int32_t> indices_buf;
    const size_t width = static_cast<size_t>(row_width);
    if (values_buf.size() < width) { values_buf.resize(width); indices_buf.resize(width); }
    if (op == TSR_SUM && !rows) {
      const size_t need = ReduceSimd<4>::levels_for(std::min(chunk, size)) * width;
      if (levels.size() < need) levels.resize(need);
    }
    for (int64_t u = b; u < e; u++) {
      const int64_t o = u / (tiles * chunks), t = u / chunks % tiles, c = u % chunks;
      const int64_t s0 = c * chunk, n = std::max<int64_t>(0, std::min(chunk, size - s0));
      const int64_t j0 = t * tile, jw = std::min(tile, inner - j0), pos0 = o * inner + j0;
      const float* base = x + (o * size + s0) * inner + j0;
      float* values = chunks > 1 ? &part[c * positions + pos0] : values_buf.data();
      int32_t* indices = chunks > 1 && arg ? &part_idx[c * positions + pos0] : indices_buf.data();
      if (rows) simd_dispatch<RowKernel>(op, base, n, values, indices);
      else simd_dispatch<ColKernel>(op, base, n, inner, jw, values, indices, levels.data());
      if (chunks == 1)
        for (int64_t j = 0; j < jw; j++) store_result(op, out, pos0 + j, values[j], arg ? indices[j] : 0);
    }
  });
  if (chunks == 1) return;
  parallel_for(positions, std::max<int64_t>(1, kElementwiseGrain / chunks), [&](int64_t b, int64_t e) {
    constexpr int64_t kBlock = 256;
    double acc[kBlock];
    int64_t best[kBlock];  // chunk holding the extreme so far
    for (int64_t p0 = b; p0 < e; p0 += kBlock) {
      const int64_t n = std::min(kBlock, e - p0);
      if (op == TSR_SUM || op == TSR_PROD) {
        std::fill(acc, acc + n, op == TSR_SUM ? 0.0 : 1.0);
        for (int64_t c = 0; c < chunks; c++) {
          const float* row = &part[c * positions + p0];
          for (int64_t i = 0; i < n; i++) acc[i] = op == TSR_SUM ? acc[i] + row[i] : acc[i] * row[i];
        }
        for (int64_t i = 0; i < n; i++) store_result(op, out, p0 + i, acc[i], 0);
      } else {
        std::fill(best, best + n, 0);
        for (int64_t c = 1; c < chunks; c++) {
          const float* row = &part[c * positions + p0];
          for (int64_t i = 0; i < n; i++)
            if (better(op, row[i], part[best[i] * positions + p0 + i])) best[i] = c;
        }
        for (int64_t i = 0; i < n; i++) {
          const int64_t at = best[i] * positions + p0 + i;
          store_result(op, out, p0 + i, part[at], arg ? static_cast<int32_t>(best[i] * chunk) + part_idx[at] : 0);
        }
      }
    }
  });
}

/** int32 input: plain loops in double, as the reference backend computes. */
void reduce_i32(int op, const int32_t* x, int64_t outer, int64_t size, int64_t inner, const AnyArray& out) {
  parallel_for(outer * inner, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(size, 1)), [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; u++) {
      const int32_t* p = x + (u / inner) * size * inner + u % inner;
      double acc = op == TSR_SUM ? 0.0 : op == TSR_PROD ? 1.0 : identity(op);
      int32_t best = 0;
      for (int64_t s = 0; s < size; s++) {
        double v = p[s * inner];
        if (op == TSR_SUM) acc += v;
        else if (op == TSR_PROD) acc *= v;
        else if ((op == TSR_MAX || op == TSR_ARGMAX) ? v > acc : v < acc) { acc = v; best = static_cast<int32_t>(s); }
      }
      store_result(op, out, u, acc, best);
    }
  });
}

// reduce(op, x, outer, size, inner, out)
void Reduce(const Napi::CallbackInfo& info) {
  const char* k = "reduce";
  int64_t op = int_arg(info, 0, k, "op code");
  if (op < 0 || op >= TSR_REDUCE_OP_COUNT) fail("reduce: unknown op code " + std::to_string(op) + " (cpu backend)");
  AnyArray x = any_array_arg(info, 1, k, "x");
  int64_t outer = size_arg(info, 2, k, "outer"), size = size_arg(info, 3, k, "size"), inner = size_arg(info, 4, k, "inner");
  AnyArray out = any_array_arg(info, 5, k, "out");
  const char* name = tsr_reduce_op_names[op];
  require_length(k, "x", x.size, checked_product({outer, size, inner}, k));
  require_length(k, "out", out.size, checked_product({outer, inner}, k));
  if (is_arg(static_cast<int>(op)) && out.dtype != DType::i32) fail(std::string("reduce: ") + name + " writes int32, got a float32 out (cpu backend)");
  if (!is_arg(static_cast<int>(op)) && x.dtype == DType::f32 && out.dtype != DType::f32) fail(std::string("reduce: ") + name + " of float32 into int32 is not supported (cpu backend)");
  if (size > std::numeric_limits<int32_t>::max()) fail("reduce: reduced axis of " + std::to_string(size) + " elements exceeds int32 indexing (cpu backend)");
  if (outer == 0 || inner == 0) return;
  if (x.dtype == DType::f32) reduce_f32(static_cast<int>(op), x.f32(), outer, size, inner, out);
  else reduce_i32(static_cast<int>(op), x.i32(), outer, size, inner, out);
}

void InitReduce(Napi::Env env, Napi::Object exports) {
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(reduce, InitReduce);

}  // namespace tessera
