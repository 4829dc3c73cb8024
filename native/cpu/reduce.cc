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

enum ReduceOp : int { kSum, kProd, kMax, kMin, kArgmax, kArgmin, kReduceOpCount };
const char* const kReduceOpNames[kReduceOpCount] = {"sum", "prod", "max", "min", "argmax", "argmin"};

constexpr bool is_arg(int op) { return op == kArgmax || op == kArgmin; }

/** The value reducing nothing gives, and what pads partial vectors (it never changes a result). */
inline float identity(int op) {
  const float inf = std::numeric_limits<float>::infinity();
  switch (op) {
    case kSum: return 0.f;
    case kProd: return 1.f;
    case kMax: case kArgmax: return -inf;
    default: return inf;
  }
}

/** Whether candidate value v replaces the current extreme `best` (strictly better, or the first NaN).
 *  Scanning in index order with this rule keeps the first index on ties. */
inline bool better(int op, float v, float best) {
  bool nan_first = v != v && best == best;
  return (op == kMax || op == kArgmax) ? (v > best || nan_first) : (v < best || nan_first);
}

constexpr int64_t kColTile = 256;   // columns (inner positions) one task reduces together
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
  static TESSERA_INLINE I takes(bool is_max, F x, F best) {
    I nan_first = (x != x) & (best == best);
    return (is_max ? (x > best) : (x < best)) | nan_first;
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
    if (op == kSum) {
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
    if (op == kProd) {
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
    // max / min / argmax / argmin: each lane keeps its extreme and where it was; lanes that never
    // took a value hold (pad, 0), which only wins when every element equals the pad, and then
    // index 0 is the right answer.
    const bool is_max = op == kMax || op == kArgmax;
    F best = V::splat(pad);
    I best_i = V::splat_i(0), idx;
    int32_t first_idx[W];
    for (int l = 0; l < W; l++) first_idx[l] = l;
    std::memcpy(&idx, first_idx, sizeof idx);
    for (int64_t i = 0; i < n; i += W) {
      F v = load_padded(x + i, n - i, pad);
      I take = takes(is_max, v, best);
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

  // ---- strided columns (inner > 1): vectors run along the contiguous inner axis ----

  static constexpr int64_t kColBlock = 64;  // rows summed in sequence before pairwise combination

  /** Reduces x[s * inner + j] over s < size for j < jw (<= kColTile) into values[j] (and indices[j]). */
  static TESSERA_INLINE void cols(int op, const float* x, int64_t size, int64_t inner, int64_t jw, float* values,
                                  int32_t* indices) {
    if (op == kSum) {
      struct Tile { float v[kColTile]; };
      Tile levels[kMaxLevels];
      PairwiseStack<Tile> stack{levels};
      auto add = [jw](Tile& into, Tile& from) TESSERA_LAMBDA_INLINE {
        for (int64_t j = 0; j < jw; j += W) V::store(into.v + j, V::load(into.v + j) + V::load(from.v + j));
      };
      for (int64_t s0 = 0; s0 < size; s0 += kColBlock) {
        float* acc = stack.next().v;
        std::fill(acc, acc + kColTile, 0.f);
        for (int64_t s = s0; s < std::min(size, s0 + kColBlock); s++)
          for (int64_t j = 0; j < jw; j += W) V::store(acc + j, V::load(acc + j) + load_padded(x + s * inner + j, jw - j, 0.f));
        stack.push(add);
      }
      if (stack.finish(add)) std::memcpy(values, levels[0].v, jw * sizeof(float));
      else std::fill(values, values + jw, 0.f);
      return;
    }
    const float pad = identity(op);
    const bool is_max = op == kMax || op == kArgmax;
    alignas(64) int32_t best_i[kColTile];
    std::fill(values, values + jw, pad);
    std::fill(best_i, best_i + kColTile, 0);
    for (int64_t s = 0; s < size; s++) {
      const float* row = x + s * inner;
      for (int64_t j = 0; j < jw; j += W) {
        F v = load_padded(row + j, jw - j, pad);
        F acc = load_padded(values + j, jw - j, pad);
        if (op == kProd) {
          store_n(values + j, acc * v, jw - j);
        } else {
          I take = takes(is_max, v, acc);
          store_n(values + j, V::select(take, v, acc), jw - j);
          I bi;
          std::memcpy(&bi, best_i + j, sizeof bi);
          bi = take ? V::splat_i(static_cast<int32_t>(s)) : bi;
          std::memcpy(best_i + j, &bi, sizeof bi);
        }
      }
    }
    if (indices) std::memcpy(indices, best_i, jw * sizeof(int32_t));
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
                                 int32_t* indices) {
    ReduceSimd<W>::cols(op, x, size, inner, jw, values, indices);
  }
};

constexpr int64_t kRowChunk = 1 << 16;  // a long row is split into chunks of this many elements across threads

void store_result(int op, const AnyArray& out, int64_t i, double value, int32_t index) {
  if (is_arg(op)) out.i32()[i] = index;
  else if (out.dtype == DType::f32) out.f32()[i] = static_cast<float>(value);
  else out.i32()[i] = js_to_int32(value);
}

void reduce_f32(int op, const float* x, int64_t outer, int64_t size, int64_t inner, const AnyArray& out) {
  if (inner == 1) {
    const int64_t chunks = outer < 2 * num_threads() ? std::max<int64_t>(1, (size + kRowChunk - 1) / kRowChunk) : 1;
    if (chunks == 1) {
      parallel_for(outer, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(size, 1)), [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; o++) {
          float v;
          int32_t idx = 0;
          simd_dispatch<RowKernel>(op, x + o * size, size, &v, is_arg(op) ? &idx : nullptr);
          store_result(op, out, o, v, idx);
        }
      });
      return;
    }
    // Few long rows: reduce chunks in parallel, then merge each row's chunks in order.
    std::vector<float> part(outer * chunks);
    std::vector<int32_t> part_idx(outer * chunks);
    parallel_for(outer * chunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t u = b; u < e; u++) {
        int64_t o = u / chunks, c = u % chunks, s0 = c * kRowChunk, n = std::min(kRowChunk, size - s0);
        int32_t idx = 0;
        simd_dispatch<RowKernel>(op, x + o * size + s0, n, &part[u], is_arg(op) ? &idx : nullptr);
        part_idx[u] = static_cast<int32_t>(s0) + idx;
      }
    });
    for (int64_t o = 0; o < outer; o++) {
      const float* p = &part[o * chunks];
      const int32_t* pi = &part_idx[o * chunks];
      if (op == kSum || op == kProd) {
        double acc = op == kSum ? 0.0 : 1.0;  // a handful of partials: combine them in double
        for (int64_t c = 0; c < chunks; c++) acc = op == kSum ? acc + p[c] : acc * p[c];
        store_result(op, out, o, acc, 0);
      } else {
        float best = p[0];
        int32_t best_i = pi[0];
        for (int64_t c = 1; c < chunks; c++)
          if (better(op, p[c], best)) { best = p[c]; best_i = pi[c]; }
        store_result(op, out, o, best, best_i);
      }
    }
    return;
  }
  const int64_t tiles = (inner + kColTile - 1) / kColTile;
  parallel_for(outer * tiles, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(size * kColTile, 1)),
               [&](int64_t b, int64_t e) {
    float values[kColTile];
    int32_t indices[kColTile];
    for (int64_t u = b; u < e; u++) {
      int64_t o = u / tiles, j0 = (u % tiles) * kColTile, jw = std::min(kColTile, inner - j0);
      simd_dispatch<ColKernel>(op, x + o * size * inner + j0, size, inner, jw, values, is_arg(op) ? indices : nullptr);
      for (int64_t j = 0; j < jw; j++) store_result(op, out, o * inner + j0 + j, values[j], indices[j]);
    }
  });
}

/** int32 input: plain loops in double, as the reference backend computes. */
void reduce_i32(int op, const int32_t* x, int64_t outer, int64_t size, int64_t inner, const AnyArray& out) {
  parallel_for(outer * inner, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(size, 1)), [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; u++) {
      const int32_t* p = x + (u / inner) * size * inner + u % inner;
      double acc = op == kSum ? 0.0 : op == kProd ? 1.0 : identity(op);
      int32_t best = 0;
      for (int64_t s = 0; s < size; s++) {
        double v = p[s * inner];
        if (op == kSum) acc += v;
        else if (op == kProd) acc *= v;
        else if ((op == kMax || op == kArgmax) ? v > acc : v < acc) { acc = v; best = static_cast<int32_t>(s); }
      }
      store_result(op, out, u, acc, best);
    }
  });
}

// reduce(op, x, outer, size, inner, out)
void Reduce(const Napi::CallbackInfo& info) {
  const char* k = "reduce";
  int64_t op = int_arg(info, 0, k, "op code");
  if (op < 0 || op >= kReduceOpCount) fail("reduce: unknown op code " + std::to_string(op) + " (cpu backend)");
  AnyArray x = any_array_arg(info, 1, k, "x");
  int64_t outer = size_arg(info, 2, k, "outer"), size = size_arg(info, 3, k, "size"), inner = size_arg(info, 4, k, "inner");
  AnyArray out = any_array_arg(info, 5, k, "out");
  const char* name = kReduceOpNames[op];
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
  exports.Set("reduceOps", string_array(env, kReduceOpNames, kReduceOpCount));
}

}  // namespace

TESSERA_REGISTER_FAMILY(reduce, InitReduce);

}  // namespace tessera
