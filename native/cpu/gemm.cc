// Blocked SGEMM (Goto/BLIS scheme): B is packed per (NC x KC) block into NR-wide panels shared by
// all threads (or packed once by a caller that multiplies by the same B many times); each thread packs its own MC x KC block of A into MR-tall panels and runs an
// MR x NR register-blocked micro-kernel over it. Threads split C into tiles of MC rows by a group
// of NR panels. Micro-kernels: AVX-512 (12 x 32) and AVX2 (6 x 16) in intrinsics, and a
// generic-vector one for the baseline (6 x 8); the epilogue (alpha, bias, activation) is applied
// as tiles are stored.
#include "gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "simd.h"
#include "threadpool.h"

namespace tessera {
namespace {

/** A growable 64-byte-aligned scratch buffer, kept per thread across calls (packing buffers are
 *  large: reallocating them each call would cost page faults). */
class Scratch {
 public:
  float* get(int64_t n) {
    if (n > capacity_) {
      void* p = nullptr;
      if (posix_memalign(&p, 64, static_cast<size_t>(n) * sizeof(float)) != 0) throw std::bad_alloc();
      data_.reset(static_cast<float*>(p));
      capacity_ = n;
    }
    return data_.get();
  }

 private:
  struct Free { void operator()(float* p) const { std::free(p); } };
  std::unique_ptr<float, Free> data_;
  int64_t capacity_ = 0;
};

thread_local Scratch t_pack_a, t_pack_b;

/** Rows [0, rows) of an MR-tall panel: dst[k * mr + r] = A[r * rsA + k * csA], zero rows after `rows`. */
void pack_a_panel(const float* A, int64_t rsA, int64_t csA, int rows, int64_t kc, int mr, float* dst) {
  if (rows < mr) std::fill(dst, dst + kc * mr, 0.f);
  if (csA == 1) {
    for (int r = 0; r < rows; r++)
      for (int64_t k = 0; k < kc; k++) dst[k * mr + r] = A[r * rsA + k];
  } else {
    for (int64_t k = 0; k < kc; k++)
      for (int r = 0; r < rows; r++) dst[k * mr + r] = A[r * rsA + k * csA];
  }
}

/** Columns [0, cols) of an NR-wide panel: dst[k * nr + c] = B[k * rsB + c * csB], zero columns after `cols`. */
void pack_b_panel(const float* B, int64_t rsB, int64_t csB, int cols, int64_t kc, int nr, float* dst) {
  if (cols < nr) std::fill(dst, dst + kc * nr, 0.f);
  if (csB == 1) {
    for (int64_t k = 0; k < kc; k++) std::memcpy(dst + k * nr, B + k * rsB, cols * sizeof(float));
  } else {
    for (int c = 0; c < cols; c++)
      for (int64_t k = 0; k < kc; k++) dst[k * nr + c] = B[k * rsB + c * csB];
  }
}

/** Rows [i0, i0 + rows) by depths [k0, k0 + kc) of A as an MR-tall panel. */
void pack_a(const GemmOperand& A, int64_t i0, int64_t k0, int rows, int64_t kc, int mr, float* dst) {
  if (A.source) A.source->pack(A.source->ctx, k0, kc, i0, rows, mr, dst);
  else pack_a_panel(A.data + i0 * A.rs + k0 * A.cs, A.rs, A.cs, rows, kc, mr, dst);
}

/** Depths [k0, k0 + kc) by columns [j0, j0 + cols) of B as an NR-wide panel. */
void pack_b(const GemmOperand& B, int64_t k0, int64_t kc, int64_t j0, int cols, int nr, float* dst) {
  if (B.source) B.source->pack(B.source->ctx, k0, kc, j0, cols, nr, dst);
  else pack_b_panel(B.data + k0 * B.rs + j0 * B.cs, B.rs, B.cs, cols, kc, nr, dst);
}

template <int W>
TESSERA_INLINE typename Vec<W>::F activate(typename Vec<W>::F v, int act) {
  using V = Vec<W>;
  switch (act) {
    case TSR_ACT_RELU: return V::select(v < 0.f, V::splat(0.f), v);  // NaN stays NaN
    case TSR_ACT_GELU: return vgelu<W>(v);
    case TSR_ACT_TANH: return vtanh<W>(v);
    case TSR_ACT_SIGMOID: return vsigmoid<W>(v);
    default: return v;
  }
}

/** What one tile task needs; the same for every tile of a (jc, pc) step except the ranges. */
struct TileJob {
  const GemmOperand* A;
  int64_t k0;           // first depth of this KC step
  const float* b_pack;  // this KC step's NR-wide panels of B from column jc on, one per b_panel_stride floats
  int64_t b_panel_stride;
  int64_t kc;
  int64_t i0, i1;       // rows of C
  int64_t j0, j1;       // columns of C; j0 - jc is a multiple of NR
  int64_t jc;           // first column of the packed B block
  float* C;
  int64_t ldc;
  const GemmEpilogue* ep;
  bool first, last;     // first / last KC step: overwrite (unless accumulating), apply bias and act
  float* a_pack;        // this thread's scratch for the MC x KC block of A
};

/** Where a micro-kernel writes its MR x NR block: c (rows ldc apart) = alpha * block (+ c when add_c)
 *  (+ NR column biases or MR row biases). Whole blocks without an activation go straight to C this way;
 *  the others go to a tile buffer (alpha 1, nothing added) that store_tile finishes. */
struct BlockStore {
  float* c;
  int64_t ldc;
  float alpha = 1.f;
  bool add_c = false;
  const float* col_bias = nullptr;  // NR values
  const float* row_bias = nullptr;  // MR values
};

/** Stores the accumulators acc[MR][NV] (NV vectors of F per row) as `st` says, in the order store_tile
 *  applies the epilogue (alpha, then C, then bias), so both paths round alike. */
template <class F, int MR, int NV>
TESSERA_INLINE void store_block(const F (&acc)[MR][NV], const BlockStore& st) {
  constexpr int L = sizeof(F) / sizeof(float);
  auto load = [](const float* p) TESSERA_LAMBDA_INLINE { F v; std::memcpy(&v, p, sizeof v); return v; };
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
    float* crow = st.c + i * st.ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      F x = acc[i][v];
      if (st.alpha != 1.f) x *= st.alpha;
      if (st.add_c) x += load(crow + v * L);
      if (st.col_bias) x += load(st.col_bias + v * L);
      if (st.row_bias) x += st.row_bias[i];
      std::memcpy(crow + v * L, &x, sizeof x);
    }
  }
}

/** The A operand of a micro-kernel: a packed panel (row i of depth k at p[k * MR + i]) ... */
template <int MR>
struct PackedPanel {
  const float* __restrict p;
  TESSERA_INLINE const float& at(int i) const { return p[i]; }
  TESSERA_INLINE void next() { p += MR; }
};

/** ... or MR rows of a row-major A read in place (row i of depth k at p[i * rs + k]), where packing
 *  would cost as much as the product (a tile with one B panel). */
struct RowsInPlace {
  const float* __restrict p;
  int64_t rs;
  TESSERA_INLINE const float& at(int i) const { return p[i * rs]; }
  TESSERA_INLINE void next() { p += 1; }
};

// ---- micro-kernels: the MR x NR block = A panel (kc x MR) times B panel (kc x NR), stored by a BlockStore ----

#ifdef TESSERA_X86
/** AVX-512, kMR x 32 (kMR = 12: 24 of 32 zmm hold C; kMR = 8 for row counts that are multiples of 8
 *  but not of 12, such as 64, where 12-row panels would compute 72 rows), in intrinsics: GCC 12
 *  compiles the generic broadcast of an A element into 512 bits as a 256-bit broadcast plus an
 *  insert (or masked moves), which costs a third of the FMA rate; _mm512_set1_ps gives one
 *  vbroadcastss. */
template <int kMR>
struct MicroAvx512 {
  static constexpr int MR = kMR, NR = 32;
  template <class APanel>
  static TESSERA_TARGET_AVX512 void run(int64_t kc, APanel a, const float* __restrict b, const BlockStore& st) {
    __m512 c[MR][2];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
      const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++) {
        const __m512 av = _mm512_set1_ps(a.at(i));
        c[i][0] = _mm512_fmadd_ps(av, b0, c[i][0]);
        c[i][1] = _mm512_fmadd_ps(av, b1, c[i][1]);
      }
      a.next();
      b += NR;
    }
    store_block(c, st);
  }
};


/** AVX2, 6 x 16 (12 of 16 ymm hold C), in intrinsics for the same reason: the generic template
 *  broadcasts through inserts here too and spills accumulators. */
struct MicroAvx2 {
  static constexpr int MR = 6, NR = 16;
  template <class APanel>
  static TESSERA_TARGET_AVX2 void run(int64_t kc, APanel a, const float* __restrict b, const BlockStore& st) {
    __m256 c[MR][2];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++) {
        const __m256 av = _mm256_broadcast_ss(&a.at(i));
        c[i][0] = _mm256_fmadd_ps(av, b0, c[i][0]);
        c[i][1] = _mm256_fmadd_ps(av, b1, c[i][1]);
      }
      a.next();
      b += NR;
    }
    store_block(c, st);
  }
};
#endif

/** The portable baseline, 6 x 2W in W-lane generic vectors (SSE2 on x86-64, NEON elsewhere). */
template <int W>
struct MicroGeneric {
  static constexpr int MR = 6, NV = 2, NR = NV * W;
  using V = Vec<W>;
  using F = typename V::F;
  template <class APanel>
  static TESSERA_INLINE void run(int64_t kc, APanel a, const float* __restrict b, const BlockStore& st) {
    F c[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) c[i][v] = V::splat(0.f);
    for (int64_t k = 0; k < kc; k++) {
      F bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) bv[v] = V::load(b + v * W);
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++) {
        F av = V::splat(a.at(i));
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) c[i][v] += av * bv[v];
      }
      a.next();
      b += NR;
    }
    store_block(c, st);
  }
};

/** One tile of C: pack its rows of A, run the micro-kernel over every (MR x NR) block; whole blocks
 *  are stored straight into C, the others (edges, activations) through a tile buffer and the
 *  epilogue in W-lane vectors. */
template <int W, class Micro>
struct TileKernel {
  static constexpr int MR = Micro::MR, NR = Micro::NR;
  static_assert(NR % W == 0, "tile rows are stored in whole vectors");
  using V = Vec<W>;
  using F = typename V::F;

  /** C[rows x cols] (=, or +=) epilogue(alpha * tile). */
  static TESSERA_INLINE void store_tile(const float* tile, float* C, int64_t ldc, int rows, int cols, int64_t row0,
                                        int64_t col0, const GemmEpilogue& ep, bool first, bool last) {
    const bool add_c = !first || ep.accumulate;
    const float* bias = last ? ep.bias : nullptr;
    const int act = last ? ep.act : TSR_ACT_NONE;
    for (int r = 0; r < rows; r++) {
      float* crow = C + r * ldc;
      for (int c = 0; c < cols; c += W) {
        const int n = std::min(W, cols - c);
        // Partial vectors through buf, copied element by element (memcpy of a variable size is a
        // library call, which made narrow matrices (N = 3) cost several times a full tile).
        float buf[W] = {};
        auto load = [&](const float* p) TESSERA_LAMBDA_INLINE {
          if (n == W) return V::load(p);
          for (int t = 0; t < n; t++) buf[t] = p[t];
          return V::load(buf);
        };
        F v = ep.alpha * V::load(tile + r * NR + c);
        if (add_c) v += load(crow + c);
        if (bias) v += ep.bias_per_row ? V::splat(bias[row0 + r]) : load(bias + col0 + c);
        if (act != TSR_ACT_NONE) v = activate<W>(v, act);
        if (n == W) {
          V::store(crow + c, v);
        } else {
          V::store(buf, v);
          for (int t = 0; t < n; t++) crow[c + t] = buf[t];
        }
      }
    }
  }

  static TESSERA_INLINE void run(const TileJob* job) {
    alignas(64) float tile[MR * NR];
    const int64_t kc = job->kc;
    const int64_t rows_total = job->i1 - job->i0;
    // This tile's rows of A as MR-tall panels: read in place from an A packed once (its panels hold
    // depths [k0, k0 + kc) contiguously; i0 is a multiple of MR, as tiles start at multiples of MC),
    // else packed here (the MC x KC block stays in L2 while the B panels stream by).
    const PackedA* packed = job->A->packed && job->A->packed->mr == MR ? job->A->packed : nullptr;
    auto a_panel = [&](int64_t p) TESSERA_LAMBDA_INLINE {
      return packed ? packed->panels + ((job->i0 + p) / MR * packed->K + job->k0) * MR : job->a_pack + p * kc;
    };
    const GemmOperand& A = *job->A;
    // Whole panels of a row-major A are read in place when the tile has a single B panel: packing
    // them would take about as long as the product.
    const bool in_place = !packed && !A.source && A.cs == 1 && job->j1 - job->j0 <= NR;
    auto whole_in_place = [&](int64_t p) TESSERA_LAMBDA_INLINE { return in_place && p + MR <= rows_total; };
    if (!packed)
      for (int64_t p = 0; p < rows_total; p += MR) {
        if (whole_in_place(p)) continue;
        const int rows = static_cast<int>(std::min<int64_t>(MR, rows_total - p));
        float* dst = job->a_pack + p * kc;
        if (!A.source && rows == MR && (A.cs == 1 || A.rs == 1))
          pack_whole(A.data + (job->i0 + p) * A.rs + job->k0 * A.cs, A.rs, A.cs, kc, dst);
        else pack_a(A, job->i0 + p, job->k0, rows, kc, MR, dst);
      }
    auto micro = [&](int64_t p, const float* bp, const BlockStore& st) TESSERA_LAMBDA_INLINE {
      if (whole_in_place(p)) Micro::run(kc, RowsInPlace{A.data + (job->i0 + p) * A.rs + job->k0, A.rs}, bp, st);
      else Micro::run(kc, PackedPanel<MR>{a_panel(p)}, bp, st);
    };
    const GemmEpilogue& ep = *job->ep;
    BlockStore direct{nullptr, job->ldc, ep.alpha, !job->first || ep.accumulate};
    const bool direct_ok = !job->last || ep.act == TSR_ACT_NONE;
    const BlockStore to_tile{tile, NR};
    for (int64_t j = job->j0; j < job->j1; j += NR) {
      const float* bp = job->b_pack + (j - job->jc) / NR * job->b_panel_stride;
      const int cols = static_cast<int>(std::min<int64_t>(NR, job->j1 - j));
      direct.col_bias = job->last && ep.bias && !ep.bias_per_row ? ep.bias + j : nullptr;
      for (int64_t p = 0; p < rows_total; p += MR) {
        const int rows = static_cast<int>(std::min<int64_t>(MR, rows_total - p));
        const int64_t i = job->i0 + p;
        float* c = job->C + i * job->ldc + j;
        if (direct_ok && rows == MR && cols == NR) {
          direct.c = c;
          direct.row_bias = job->last && ep.bias && ep.bias_per_row ? ep.bias + i : nullptr;
          micro(p, bp, direct);
        } else {
          micro(p, bp, to_tile);
          store_tile(tile, c, job->ldc, rows, cols, i, j, ep, job->first, job->last);
        }
      }
    }
  }

  /** MR whole rows of an A with a unit stride as one panel, depth by depth with MR known here: each
   *  step writes MR consecutive floats (gathered from MR rows of a row-major A, or copied from a
   *  column-major one), where the generic packing writes MR floats apart or loops over a runtime MR. */
  static TESSERA_INLINE void pack_whole(const float* A, int64_t rsA, int64_t csA, int64_t kc, float* __restrict dst) {
    if (csA == 1) {
      for (int64_t k = 0; k < kc; k++)
#pragma GCC unroll 16
        for (int r = 0; r < MR; r++) dst[k * MR + r] = A[r * rsA + k];
    } else {
      for (int64_t k = 0; k < kc; k++)
#pragma GCC unroll 16
        for (int r = 0; r < MR; r++) dst[k * MR + r] = A[k * csA + r];
    }
  }
};

#ifdef TESSERA_X86
TESSERA_TARGET_AVX512 void run_tile_avx512(const TileJob* job) { TileKernel<8, MicroAvx512<12>>::run(job); }
TESSERA_TARGET_AVX512 void run_tile_avx512_8(const TileJob* job) { TileKernel<8, MicroAvx512<8>>::run(job); }
TESSERA_TARGET_AVX2 void run_tile_avx2(const TileJob* job) { TileKernel<8, MicroAvx2>::run(job); }
#endif
void run_tile_baseline(const TileJob* job) { TileKernel<4, MicroGeneric<4>>::run(job); }

// Block sizes, tuned by measurement on Zen 5 (1024^3 and 2048^3, one and two threads): a long KC
// amortizes each pass over C; the A block (MC x KC, 384 KB) and a B micro-panel (KC x NR, up to
// 128 KB) stay in L2, the packed B block (KC x NC, 8 MB) in L3.
struct Geometry {
  int mr, nr;
  int64_t mc, kc, nc;
  void (*run_tile)(const TileJob*);
};

template <class Micro>
constexpr Geometry geometry_for(int64_t mc, int64_t kc, int64_t nc, void (*run_tile)(const TileJob*)) {
  return {Micro::MR, Micro::NR, mc, kc, nc, run_tile};
}

/** The row padding of M in MR-tall panels. */
int64_t padding(int64_t M, int mr) { return (M + mr - 1) / mr * mr - M; }

Geometry geometry(Isa isa, int64_t M) {
  switch (isa) {
#ifdef TESSERA_X86
    case Isa::avx512:
      // 8-row panels where 12-row ones would waste more than ~3% of the products (M = 64: 72 rows).
      if (padding(M, 8) < padding(M, 12) && padding(M, 12) * 32 > M)
        return geometry_for<MicroAvx512<8>>(96, 1024, 2048, run_tile_avx512_8);
      return geometry_for<MicroAvx512<12>>(96, 1024, 2048, run_tile_avx512);
    case Isa::avx2: return geometry_for<MicroAvx2>(96, 1024, 2048, run_tile_avx2);
#endif
    default: break;
  }
  return geometry_for<MicroGeneric<4>>(96, 1024, 2048, run_tile_baseline);
}

/** K == 0: the product is zero, so C = act(bias) (or stays as is when accumulating). */
void epilogue_only(int64_t M, int64_t N, float* C, int64_t ldc, const GemmEpilogue& ep) {
  if (ep.accumulate) return;
  parallel_for(M, std::max<int64_t>(1, 16384 / std::max<int64_t>(N, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++)
      for (int64_t j = 0; j < N; j++) {
        float v = ep.bias ? ep.bias[ep.bias_per_row ? i : j] : 0.f;
        switch (ep.act) {
          case TSR_ACT_RELU: v = v < 0 ? 0 : v; break;
          case TSR_ACT_GELU: v = 0.5f * v * std::erfc(-v * 0.70710678118654752f); break;
          case TSR_ACT_TANH: v = std::tanh(v); break;
          case TSR_ACT_SIGMOID: v = 1 / (1 + std::exp(-v)); break;
          default: break;
        }
        C[i * ldc + j] = v;
      }
  });
}

}  // namespace

int64_t packed_a_floats(int64_t M, int64_t K) {
  const int mr = geometry(active_isa(), M).mr;
  return (M + mr - 1) / mr * mr * K;
}

PackedA pack_a_once(int64_t M, int64_t K, const float* A, int64_t rsA, int64_t csA, float* storage) {
  PackedA packed;
  packed.panels = storage;
  packed.mr = geometry(active_isa(), M).mr;
  packed.M = M;
  packed.K = K;
  parallel_for((M + packed.mr - 1) / packed.mr, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; p++) {
      const int rows = static_cast<int>(std::min<int64_t>(packed.mr, M - p * packed.mr));
      pack_a_panel(A + p * packed.mr * rsA, rsA, csA, rows, K, packed.mr, storage + p * packed.mr * K);
    }
  });
  return packed;
}

int64_t packed_b_floats(int64_t N, int64_t K) {
  const int nr = geometry(active_isa(), 1).nr;
  return (N + nr - 1) / nr * nr * K;
}

PackedB pack_b_once(int64_t N, int64_t K, const float* B, int64_t rsB, int64_t csB, float* storage) {
  PackedB packed;
  packed.panels = storage;
  packed.nr = geometry(active_isa(), 1).nr;  // the panel width does not depend on M
  packed.N = N;
  packed.K = K;
  const int nr = packed.nr;
  parallel_for((N + nr - 1) / nr, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, K * nr)), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; p++) {
      const int cols = static_cast<int>(std::min<int64_t>(nr, N - p * nr));
      pack_b_panel(B + p * nr * csB, rsB, csB, cols, K, nr, storage + p * nr * K);
    }
  });
  return packed;
}

void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA, const float* B, int64_t rsB,
           int64_t csB, float* C, int64_t ldc, const GemmEpilogue& ep) {
  GemmOperand a, b;
  a.data = A;
  a.rs = rsA;
  a.cs = csA;
  b.data = B;
  b.rs = rsB;
  b.cs = csB;
  sgemm(M, N, K, a, b, C, ldc, ep);
}

void sgemm(int64_t M, int64_t N, int64_t K, const GemmOperand& A, const GemmOperand& B, float* C, int64_t ldc,
           const GemmEpilogue& ep) {
  if (ep.accumulate && ep.act != TSR_ACT_NONE) throw std::invalid_argument("sgemm: an activation cannot follow accumulation");
  if (ep.act < 0 || ep.act >= TSR_ACT_COUNT) throw std::invalid_argument("sgemm: unknown activation code " + std::to_string(ep.act));
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    epilogue_only(M, N, C, ldc, ep);
    return;
  }
  const Isa isa = active_isa();  // fixed for the whole call: the packing layout depends on it
  const Geometry g = geometry(isa, M);
  const int threads = num_threads();
  // Inside another parallel region, or for a product that a hand-off to the pool would outweigh,
  // everything runs on this thread, and one tile group packs each A block once.
  const bool threaded = threads > 1 && !in_parallel_region() && double(M) * double(N) * double(K) >= kGemmThreadedWork;
  auto ranges = [threaded](int64_t n, int64_t grain, const auto& fn) {
    if (threaded) parallel_for(n, grain, fn);
    else fn(int64_t{0}, n);
  };
  // B's panels: packed once by the caller (then read in place), else packed here per NC x KC block.
  const PackedB* b_once = B.packed_b && B.packed_b->nr == g.nr ? B.packed_b : nullptr;
  if (b_once && (b_once->N != N || b_once->K != K))
    throw std::invalid_argument("sgemm: B packed as " + std::to_string(b_once->K) + " x " + std::to_string(b_once->N) +
                                ", used as " + std::to_string(K) + " x " + std::to_string(N));
  float* b_pack = b_once ? nullptr : t_pack_b.get(g.kc * ((std::min(g.nc, N) + g.nr - 1) / g.nr) * g.nr);

  for (int64_t jc = 0; jc < N; jc += g.nc) {
    const int64_t nc = std::min(g.nc, N - jc);
    const int64_t b_panels = (nc + g.nr - 1) / g.nr;
    // Tiles: MC rows by a group of NR panels, with enough tiles to balance the threads.
    const int64_t row_blocks = (M + g.mc - 1) / g.mc;
    const int64_t groups =
        threaded ? std::clamp<int64_t>((4 * threads + row_blocks - 1) / row_blocks, 1, b_panels) : 1;
    const int64_t panels_per_group = (b_panels + groups - 1) / groups;
    const int64_t col_groups = (b_panels + panels_per_group - 1) / panels_per_group;

    for (int64_t pc = 0; pc < K; pc += g.kc) {
      const int64_t kc = std::min(g.kc, K - pc);
      if (!b_once)
        ranges(b_panels, std::max<int64_t>(1, 16384 / (kc * g.nr)), [&](int64_t begin, int64_t end) {
          for (int64_t p = begin; p < end; p++) {
            int cols = static_cast<int>(std::min<int64_t>(g.nr, nc - p * g.nr));
            pack_b(B, pc, kc, jc + p * g.nr, cols, g.nr, b_pack + p * g.nr * kc);
          }
        });
      const float* b_block = b_once ? b_once->panels + (jc / g.nr * K + pc) * g.nr : b_pack;
      const int64_t b_panel_stride = (b_once ? K : kc) * g.nr;
      ranges(row_blocks * col_groups, 1, [&](int64_t begin, int64_t end) {
        TileJob job;
        job.A = &A;
        job.k0 = pc;
        job.b_pack = b_block;
        job.b_panel_stride = b_panel_stride;
        job.kc = kc;
        job.jc = jc;
        job.C = C;
        job.ldc = ldc;
        job.ep = &ep;
        job.first = pc == 0;
        job.last = pc + kc == K;
        job.a_pack = t_pack_a.get(((g.mc + g.mr - 1) / g.mr) * g.mr * kc);
        for (int64_t t = begin; t < end; t++) {
          const int64_t rb = t / col_groups, cg = t % col_groups;
          job.i0 = rb * g.mc;
          job.i1 = std::min(M, job.i0 + g.mc);
          job.j0 = jc + cg * panels_per_group * g.nr;
          job.j1 = std::min(jc + nc, job.j0 + panels_per_group * g.nr);
          g.run_tile(&job);
        }
      });
    }
  }
}

}  // namespace tessera
