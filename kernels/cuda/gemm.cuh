// The tiled GEMM main loop shared by matmul (gemm.cu) and the implicit-GEMM
// convolutions (conv.cu). C[batch][M][N] = sum_k A[m][k] * B[k][n], where
//  - a Loader reads A or B from global memory in groups of 4 elements that
//    are adjacent in memory (along k, or along m/n), so a dense matrix, a
//    transposed view or an im2col gather of a convolution input all plug in;
//  - a Policy owns the shared-memory layout and the math: FFMA with register
//    blocking (exact float32), or tensor cores through mma.sync with TF32 or
//    BF16 operands (sm_80+);
//  - an Epilogue writes each finished element (alpha, bias, activation,
//    output layout).
// Tiles are double-buffered: the next tile's global loads are issued into
// registers before the current tile's math, and stored to the other shared
// buffer after it, so one barrier per tile suffices. When the tiles alone
// would not fill the GPU and K is long, K is split across blocks and a
// second kernel sums the partial tiles before the epilogue.
#pragma once

#include <cuda_bf16.h>

#include <algorithm>

#include "kernels/cuda/common.cuh"

namespace tessera::cuda::gemm {

constexpr int kThreads = 256;

// ---------------------------------------------------------------------------
// Which tile elements a thread loads. A tile holds BMN x BK elements as
// groups of 4; group g = tid + i * kThreads. Along k (k-contiguous operand):
// BK/4 groups per m/n row; along m/n: BMN/4 groups per k row. Consecutive
// threads take consecutive groups, so a warp reads contiguous memory.
template <int BMN, int BK>
struct TileMap {
  static constexpr int kGroups = BMN * BK / 4;
  static constexpr int kPerThread = (kGroups + kThreads - 1) / kThreads;
  __device__ static bool coords(bool k_contig, int i, int& mn, int& k) {
    const int g = threadIdx.x + i * kThreads;
    if (k_contig) {
      mn = g / (BK / 4);
      k = (g % (BK / 4)) * 4;
    } else {
      mn = (g % (BMN / 4)) * 4;
      k = g / (BMN / 4);
    }
    return g < kGroups;
  }
};

// ---------------------------------------------------------------------------
// Loader for a strided matrix (any strides; fast paths for unit strides).
struct DenseLoader {
  const float* base;  // element (0, 0) of batch 0
  int64_t s_batch, s_mn, s_k;
  int64_t extent;     // M or N
  bool k_contig;      // the thread map walks along k (else along m/n)
  bool vec;           // 16-byte loads along the walked direction are aligned

  struct Ctx {
    const float* p;  // element (mn, 0) of this batch
    int64_t left;    // extent - mn: how many of mn, mn+1, ... exist
  };
  __device__ bool kcontig() const { return k_contig; }
  __device__ Ctx context(int64_t batch, int64_t mn) const {
    return {base + batch * s_batch + mn * s_mn, extent - mn};
  }
  __device__ void load(const Ctx& c, int64_t /*mn*/, int64_t k, int64_t k_end, float (&v)[4]) const {
    if (k_contig) {
      if (c.left <= 0) {
        v[0] = v[1] = v[2] = v[3] = 0.0f;
      } else if (vec && k + 3 < k_end) {
        const float4 t = *reinterpret_cast<const float4*>(c.p + k);
        v[0] = t.x, v[1] = t.y, v[2] = t.z, v[3] = t.w;
      } else {
#pragma unroll
        for (int i = 0; i < 4; ++i) v[i] = k + i < k_end ? c.p[(k + i) * s_k] : 0.0f;
      }
    } else {
      const float* q = c.p + k * s_k;
      if (k >= k_end) {
        v[0] = v[1] = v[2] = v[3] = 0.0f;
      } else if (vec && c.left >= 4) {
        const float4 t = *reinterpret_cast<const float4*>(q);
        v[0] = t.x, v[1] = t.y, v[2] = t.z, v[3] = t.w;
      } else {
#pragma unroll
        for (int i = 0; i < 4; ++i) v[i] = i < c.left ? q[i * s_mn] : 0.0f;
      }
    }
  }
};

// A dense loader for a view with strides (batch, mn, k).
inline DenseLoader dense_loader(const float* base, int64_t s_batch, int64_t s_mn, int64_t s_k, int64_t extent) {
  DenseLoader l{base, s_batch, s_mn, s_k, extent, true, false};
  l.k_contig = s_k == 1 || s_mn != 1;  // walk the unit stride; neither: any order, scalar loads
  const bool aligned = (reinterpret_cast<uintptr_t>(base) & 15) == 0 && s_batch % 4 == 0;
  l.vec = aligned && (l.k_contig ? s_k == 1 && s_mn % 4 == 0 : s_mn == 1 && s_k % 4 == 0);
  return l;
}

// ---------------------------------------------------------------------------
// Policies.

// FFMA, BM x BN tile, 256 threads as 16 x 16, each with a (BM/16) x (BN/16)
// register block made of 4x4 sub-blocks 64 rows/columns apart: a warp's
// shared-memory reads are then either broadcasts or 16 distinct float4 in
// one row, free of bank conflicts. A is stored k-major (transposed).
template <int BM_, int BN_>
struct SimtPolicy {
  static constexpr int BM = BM_, BN = BN_, BK = 8;
  static constexpr int TM = BM / 16, TN = BN / 16;
  // Two blocks per multiprocessor (at most 128 registers) where that costs
  // no spills: the 64-row tile, which the convolutions of R3D use.
  static constexpr int kMinBlocks = BM == 64 ? 2 : 1;
  struct Smem {
    float a[BK][BM + 4];  // +4: a k-contiguous group's transposed stores hit distinct banks
    float b[BK][BN + 4];
  };
  struct Acc {
    float c[TM][TN];
  };
  __device__ static void zero(Acc& acc) {
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j) acc.c[i][j] = 0.0f;
  }
  template <int Pitch>
  __device__ static void store(float (*s)[Pitch], bool k_contig, int mn, int k, const float (&v)[4]) {
    if (k_contig) {
#pragma unroll
      for (int i = 0; i < 4; ++i) s[k + i][mn] = v[i];
    } else {
      *reinterpret_cast<float4*>(&s[k][mn]) = make_float4(v[0], v[1], v[2], v[3]);
    }
  }
  __device__ static void store_a(Smem& s, bool kc, int m, int k, const float (&v)[4]) { store(s.a, kc, m, k, v); }
  __device__ static void store_b(Smem& s, bool kc, int n, int k, const float (&v)[4]) { store(s.b, kc, n, k, v); }
  __device__ static void compute(const Smem& s, Acc& acc) {
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      float a[TM], b[TN];
#pragma unroll
      for (int q = 0; q < TM / 4; ++q) {
        const float4 t = *reinterpret_cast<const float4*>(&s.a[k][q * 64 + ty * 4]);
        a[q * 4] = t.x, a[q * 4 + 1] = t.y, a[q * 4 + 2] = t.z, a[q * 4 + 3] = t.w;
      }
#pragma unroll
      for (int q = 0; q < TN / 4; ++q) {
        const float4 t = *reinterpret_cast<const float4*>(&s.b[k][q * 64 + tx * 4]);
        b[q * 4] = t.x, b[q * 4 + 1] = t.y, b[q * 4 + 2] = t.z, b[q * 4 + 3] = t.w;
      }
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc.c[i][j] = fmaf(a[i], b[j], acc.c[i][j]);
    }
  }
  template <class F>
  __device__ static void for_each(const Acc& acc, F f) {
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j) f((i / 4) * 64 + ty * 4 + i % 4, (j / 4) * 64 + tx * 4 + j % 4, acc.c[i][j]);
  }
};

// Tensor-core operand types. Each knows its shared-memory element, how to
// round float32 into it, and the mma.sync shape it feeds.
struct Tf32 {
  using Elem = float;  // TF32 bits kept in a float
  static constexpr int kStep = 8;  // m16n8k8
  __device__ static float round(float x) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return __uint_as_float(r);
  }
  __device__ static void mma(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
    __trap();  // the launcher never selects tensor cores below sm_80
#endif
  }
};

struct Bf16 {
  using Elem = __nv_bfloat16;
  static constexpr int kStep = 16;  // m16n8k16
  __device__ static __nv_bfloat16 round(float x) { return __float2bfloat16_rn(x); }
  __device__ static void mma(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
    __trap();
#endif
  }
};

// mma.sync, 128 x 128 x 32 tiles, 8 warps as 2 (m) x 4 (n), each warp a
// 64 x 32 block of 4 x 4 m16n8 tiles. Both operands are stored k-contiguous
// (A as [m][k], B as [n][k]), which is the register layout mma wants ("row"
// A, "col" B): a fragment register is one 32-bit shared load. Rows are
// padded to 36 words (TF32) or 20 words (BF16, 2 per word): the 8 rows x 4
// columns of words that a warp reads land in 32 distinct banks.
template <class Op>
struct MmaPolicy {
  using Elem = typename Op::Elem;
  static constexpr int BM = 128, BN = 128, BK = 32;
  static constexpr int kMinBlocks = 1;  // 64 accumulators and the staged tiles need ~200 registers
  static constexpr int kPad = 16 / sizeof(Elem);  // 16 bytes per row
  static constexpr int kPitch = BK + kPad;        // elements
  static constexpr int kWords = kPitch * sizeof(Elem) / 4;
  static constexpr int kPerWord = 4 / sizeof(Elem);
  struct Smem {
    Elem a[BM][kPitch];
    Elem b[BN][kPitch];
  };
  struct Acc {
    float c[4][4][4];  // [m tile][n tile][fragment]
  };
  __device__ static void zero(Acc& acc) {
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j)
#pragma unroll
        for (int r = 0; r < 4; ++r) acc.c[i][j][r] = 0.0f;
  }
  __device__ static void store(Elem (*s)[kPitch], bool k_contig, int mn, int k, const float (&v)[4]) {
    if (k_contig) {
      // 4 adjacent k: one 16-byte (TF32) or 8-byte (BF16) store.
      if constexpr (sizeof(Elem) == 4) {
        *reinterpret_cast<float4*>(&s[mn][k]) =
            make_float4(Op::round(v[0]), Op::round(v[1]), Op::round(v[2]), Op::round(v[3]));
      } else {
        __nv_bfloat162 lo = __halves2bfloat162(Op::round(v[0]), Op::round(v[1]));
        __nv_bfloat162 hi = __halves2bfloat162(Op::round(v[2]), Op::round(v[3]));
        uint2 w;
        w.x = *reinterpret_cast<uint32_t*>(&lo);
        w.y = *reinterpret_cast<uint32_t*>(&hi);
        *reinterpret_cast<uint2*>(&s[mn][k]) = w;
      }
    } else {
#pragma unroll
      for (int i = 0; i < 4; ++i) s[mn + i][k] = Op::round(v[i]);
    }
  }
  __device__ static void store_a(Smem& s, bool kc, int m, int k, const float (&v)[4]) { store(s.a, kc, m, k, v); }
  __device__ static void store_b(Smem& s, bool kc, int n, int k, const float (&v)[4]) { store(s.b, kc, n, k, v); }

  __device__ static void compute(const Smem& s, Acc& acc) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int g = lane / 4, t = lane % 4;
    const int wm = (warp / 4) * 64, wn = (warp % 4) * 32;
    const uint32_t* a = reinterpret_cast<const uint32_t*>(&s.a[0][0]);
    const uint32_t* b = reinterpret_cast<const uint32_t*>(&s.b[0][0]);
    // Word offsets of the fragment registers: TF32 a0..a3 are (g, t),
    // (g+8, t), (g, t+4), (g+8, t+4); BF16 words hold k pairs, so the same
    // pattern in words covers k = 2t, 2t+1 and 2t+8, 2t+9. B likewise with
    // rows n = g and words t, t+4.
#pragma unroll
    for (int kk = 0; kk < BK; kk += Op::kStep) {
      const int kw = kk / kPerWord;
      uint32_t af[4][4], bf[4][2];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int row = wm + i * 16 + g;
        af[i][0] = a[row * kWords + kw + t];
        af[i][1] = a[(row + 8) * kWords + kw + t];
        af[i][2] = a[row * kWords + kw + t + 4];
        af[i][3] = a[(row + 8) * kWords + kw + t + 4];
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int row = wn + j * 8 + g;
        bf[j][0] = b[row * kWords + kw + t];
        bf[j][1] = b[row * kWords + kw + t + 4];
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) Op::mma(acc.c[i][j], af[i], bf[j]);
    }
  }
  template <class F>
  __device__ static void for_each(const Acc& acc, F f) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int g = lane / 4, t = lane % 4;
    const int wm = (warp / 4) * 64, wn = (warp % 4) * 32;
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j)
#pragma unroll
        for (int r = 0; r < 4; ++r) f(wm + i * 16 + g + (r / 2) * 8, wn + j * 8 + 2 * t + r % 2, acc.c[i][j][r]);
  }
};

// ---------------------------------------------------------------------------
// The kernel.

struct Problem {
  int64_t M, N, K;
  int64_t batch_base;   // batch of blockIdx.z / splits == 0
  int64_t splits;       // blocks along K per tile
  int64_t k_per_split;  // a multiple of BK
  float* partial;       // [batches][splits][M][N] when splits > 1
};

template <class P, class LA, class LB, class Epi>
__global__ void __launch_bounds__(kThreads, P::kMinBlocks) gemm_kernel(LA la, LB lb, Epi epi, Problem pr) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  auto* stages = reinterpret_cast<typename P::Smem*>(smem_raw);

  // Tiles are visited in bands of 8 tile rows so that blocks running at the
  // same time share A rows and B columns in L2.
  constexpr int kBand = 8;
  const int64_t tiles_m = gridDim.y, tiles_n = gridDim.x;
  const int64_t lin = int64_t(blockIdx.y) * tiles_n + blockIdx.x;
  const int64_t band = lin / (kBand * tiles_n);
  const int64_t band_rows = imin<int64_t>(kBand, tiles_m - band * kBand);
  const int64_t in_band = lin - band * kBand * tiles_n;
  const int64_t m0 = (band * kBand + in_band % band_rows) * P::BM;
  const int64_t n0 = (in_band / band_rows) * P::BN;

  const int64_t local_batch = blockIdx.z / pr.splits, split = blockIdx.z % pr.splits;
  const int64_t batch = pr.batch_base + local_batch;
  const int64_t k_begin = split * pr.k_per_split;
  const int64_t k_end = imin(pr.K, k_begin + pr.k_per_split);

  using MapA = TileMap<P::BM, P::BK>;
  using MapB = TileMap<P::BN, P::BK>;
  const bool kca = la.kcontig(), kcb = lb.kcontig();
  int am[MapA::kPerThread], ak[MapA::kPerThread], bn[MapB::kPerThread], bk[MapB::kPerThread];
  bool av[MapA::kPerThread], bv[MapB::kPerThread];
  typename LA::Ctx ac[MapA::kPerThread];
  typename LB::Ctx bc[MapB::kPerThread];
  // Walking along m/n, a thread's groups share their m/n (they differ in k
  // only), so they share one context: fewer registers for the im2col ones.
#pragma unroll
  for (int i = 0; i < MapA::kPerThread; ++i) {
    av[i] = MapA::coords(kca, i, am[i], ak[i]);
    if (av[i]) ac[i] = i > 0 && !kca ? ac[0] : la.context(batch, m0 + am[i]);
  }
#pragma unroll
  for (int i = 0; i < MapB::kPerThread; ++i) {
    bv[i] = MapB::coords(kcb, i, bn[i], bk[i]);
    if (bv[i]) bc[i] = i > 0 && !kcb ? bc[0] : lb.context(batch, n0 + bn[i]);
  }

  float ra[MapA::kPerThread][4], rb[MapB::kPerThread][4];
  auto load = [&](int64_t k0) {
#pragma unroll
    for (int i = 0; i < MapA::kPerThread; ++i)
      if (av[i]) la.load(ac[i], m0 + am[i], k0 + ak[i], k_end, ra[i]);
#pragma unroll
    for (int i = 0; i < MapB::kPerThread; ++i)
      if (bv[i]) lb.load(bc[i], n0 + bn[i], k0 + bk[i], k_end, rb[i]);
  };
  auto store = [&](typename P::Smem& s) {
#pragma unroll
    for (int i = 0; i < MapA::kPerThread; ++i)
      if (av[i]) P::store_a(s, kca, am[i], ak[i], ra[i]);
#pragma unroll
    for (int i = 0; i < MapB::kPerThread; ++i)
      if (bv[i]) P::store_b(s, kcb, bn[i], bk[i], rb[i]);
  };

  typename P::Acc acc;
  P::zero(acc);
  const int64_t tiles = ceil_div(k_end - k_begin, P::BK);
  if (tiles > 0) {
    load(k_begin);
    store(stages[0]);
    __syncthreads();
    for (int64_t t = 0; t < tiles; ++t) {
      const bool more = t + 1 < tiles;
      if (more) load(k_begin + (t + 1) * P::BK);
      P::compute(stages[t & 1], acc);
      if (more) store(stages[(t + 1) & 1]);
      __syncthreads();
    }
  }

  float* partial = pr.partial ? pr.partial + (blockIdx.z * pr.M) * pr.N : nullptr;
  P::for_each(acc, [&](int ml, int nl, float v) {
    const int64_t m = m0 + ml, n = n0 + nl;
    if (m >= pr.M || n >= pr.N) return;
    if (partial) partial[m * pr.N + n] = v;
    else epi(batch, m, n, v);
  });
}

template <class Epi>
__global__ void __launch_bounds__(kThreads)
    splitk_reduce_kernel(const float* partial, int64_t batches, int64_t splits, int64_t M, int64_t N,
                         int64_t batch_base, Epi epi) {
  const int64_t mn = M * N;
  for (int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x; i < batches * mn;
       i += int64_t(gridDim.x) * kThreads) {
    const int64_t b = i / mn, e = i - b * mn;
    const float* p = partial + b * splits * mn + e;
    float sum = 0.0f;
    for (int64_t s = 0; s < splits; ++s) sum += p[s * mn];
    epi(batch_base + b, e / N, e % N, sum);
  }
}

// Runs C = A B for `batches` independent problems through policy P.
template <class P, class LA, class LB, class Epi>
cudaError_t run(const LA& la, const LB& lb, const Epi& epi, int64_t batches, int64_t M, int64_t N, int64_t K,
                cudaStream_t s) {
  if (batches == 0 || M == 0 || N == 0) return cudaSuccess;
  const int64_t tiles_m = ceil_div(M, P::BM), tiles_n = ceil_div(N, P::BN);
  if (tiles_m > 65535 || tiles_n > INT32_MAX) return cudaErrorInvalidConfiguration;
  // Split K when one wave of tiles would leave multiprocessors idle and
  // every split still gets at least 8 k-tiles.
  const int64_t sms = multiprocessor_count();
  const int64_t tiles = tiles_m * tiles_n * batches;
  int64_t splits = 1;
  if (tiles < sms) splits = std::clamp<int64_t>(std::min(ceil_div(2 * sms, tiles), K / (8 * P::BK)), 1, 64);
  const int64_t k_per_split = std::max<int64_t>(P::BK, ceil_div(ceil_div(K, splits), P::BK) * P::BK);
  splits = std::max<int64_t>(1, ceil_div(K, k_per_split));

  const size_t smem = 2 * sizeof(typename P::Smem);
  auto kernel = gemm_kernel<P, LA, LB, Epi>;
  cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
  if (err != cudaSuccess) return err;

  const int64_t per_launch = std::max<int64_t>(1, 65535 / splits);
  for (int64_t b0 = 0; b0 < batches; b0 += per_launch) {
    const int64_t nb = std::min(per_launch, batches - b0);
    Scratch partial(splits > 1 ? size_t(nb * splits * M * N) * sizeof(float) : 0, s);
    if (partial.status() != cudaSuccess) return partial.status();
    Problem pr{M, N, K, b0, splits, k_per_split, static_cast<float*>(partial.get())};
    const dim3 grid(static_cast<unsigned>(tiles_n), static_cast<unsigned>(tiles_m), static_cast<unsigned>(nb * splits));
    kernel<<<grid, kThreads, smem, s>>>(la, lb, epi, pr);
    if ((err = cudaGetLastError()) != cudaSuccess) return err;
    if (splits > 1) {
      splitk_reduce_kernel<Epi><<<blocks_for(nb * M * N, kThreads), kThreads, 0, s>>>(
          pr.partial, nb, splits, M, N, b0, epi);
      if ((err = cudaGetLastError()) != cudaSuccess) return err;
    }
  }
  return cudaSuccess;
}

// Whether the current device runs mma.sync with TF32/BF16 (sm_80+).
bool tensor_cores_available();

// Runs through the policy that `precision` names (tsr_precision):
// FFMA with a 64-row tile when M is small, else tensor cores.
template <class LA, class LB, class Epi>
cudaError_t run_with_precision(int precision, const LA& la, const LB& lb, const Epi& epi, int64_t batches,
                               int64_t M, int64_t N, int64_t K, cudaStream_t s) {
  if (precision != TSR_PRECISION_FLOAT32 && !tensor_cores_available()) return cudaErrorNotSupported;
  switch (precision) {
    case TSR_PRECISION_TF32: return run<MmaPolicy<Tf32>>(la, lb, epi, batches, M, N, K, s);
    case TSR_PRECISION_BF16: return run<MmaPolicy<Bf16>>(la, lb, epi, batches, M, N, K, s);
    default:
      if (M <= 64) return run<SimtPolicy<64, 128>>(la, lb, epi, batches, M, N, K, s);
      return run<SimtPolicy<128, 128>>(la, lb, epi, batches, M, N, K, s);
  }
}

// Activations of the fused epilogue (exact gelu, as the unary op).
__device__ __forceinline__ float activate(int act, float x) {
  switch (act) {
    case TSR_ACT_RELU: return x < 0.0f ? 0.0f : x;  // NaN stays NaN, as torch
    case TSR_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752440f));
    case TSR_ACT_TANH: return tanhf(x);
    case TSR_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    default: return x;
  }
}

}  // namespace tessera::cuda::gemm
