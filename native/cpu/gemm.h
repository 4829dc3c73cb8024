// Single-precision GEMM with a fused epilogue, shared by matmul, linear and convolution.
#pragma once
#include <cstdint>

#include "kernels/schema.h"

namespace tessera {

struct GemmEpilogue {
  float alpha = 1.f;
  const float* bias = nullptr;  // [N] (or [M] when bias_per_row)
  bool bias_per_row = false;
  int act = TSR_ACT_NONE;       // a tsr_activation code; gelu is the erf form
  bool accumulate = false;      // C += ...; then act must be TSR_ACT_NONE
};

/** An operand that sgemm packs through a callback instead of reading it as a strided matrix, e.g. the
 *  column matrix of a convolution, gathered from the input straight into sgemm's packing buffers
 *  (no column matrix in memory, one pass less over it). pack(ctx, k0, kc, j0, count, width, dst)
 *  writes dst[k * width + i] = op(k0 + k, j0 + i) for k < kc and i < count, and zero for
 *  count <= i < width, where op(k, j) is B[k, j] for a B operand and A[j, k] for an A operand. */
struct GemmSource {
  void (*pack)(const void* ctx, int64_t k0, int64_t kc, int64_t j0, int count, int width, float* dst);
  const void* ctx;
};

/** An A matrix packed once in sgemm's panel layout, for several sgemm calls with the same A (a
 *  convolution's weights, used by every tile of output positions): [panels][K][mr], zero rows after M. */
struct PackedA {
  const float* panels = nullptr;
  int mr = 0;
  int64_t M = 0, K = 0;
};

/** Floats that pack_a_once needs for an M x K matrix. */
int64_t packed_a_floats(int64_t M, int64_t K);
/** Packs A (element (i, k) at A[i * rsA + k * csA]) into `storage` for the instruction set active now. */
PackedA pack_a_once(int64_t M, int64_t K, const float* A, int64_t rsA, int64_t csA, float* storage);

/** A B matrix packed once in sgemm's panel layout, for several sgemm calls with the same B (an LSTM's
 *  recurrent weights, used by every step): [panels][K][nr], zero columns after N. */
struct PackedB {
  const float* panels = nullptr;
  int nr = 0;
  int64_t N = 0, K = 0;
};

/** Floats that pack_b_once needs for a K x N matrix. */
int64_t packed_b_floats(int64_t N, int64_t K);
/** Packs B (element (k, j) at B[k * rsB + j * csB]) into `storage` for the instruction set active now. */
PackedB pack_b_once(int64_t N, int64_t K, const float* B, int64_t rsB, int64_t csB, float* storage);

/** A GEMM operand: a strided matrix (element (r, c) at data[r * rs + c * cs]) or a GemmSource. An A
 *  operand may also carry the same matrix packed (used when the panel height matches), and a B
 *  operand likewise (used when the panel width matches). */
struct GemmOperand {
  const float* data = nullptr;
  int64_t rs = 0, cs = 0;
  const GemmSource* source = nullptr;
  const PackedA* packed = nullptr;    // an A operand's panels, packed once
  const PackedB* packed_b = nullptr;  // a B operand's panels, packed once
};

/** Multiply-adds below which sgemm runs on the calling thread: waking a pool worker costs several
 *  microseconds (more on a busy machine), about what this much work takes on one core. Callers that
 *  thread over several products use it as their grain. */
constexpr double kGemmThreadedWork = double(1 << 19);

/** C[i*ldc + j] (=, or += when accumulate) act(alpha * sum_k A[i*rsA + k*csA] * B[k*rsB + j*csB] + bias).
 *  Any strides (0 included) on A and B; C rows are ldc apart with unit column stride.
 *  Threaded over tiles of C through parallel_for (on this thread when nested or under kGemmThreadedWork).
 *  The caller guarantees that every addressed element exists. */
void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA,
           const float* B, int64_t rsB, int64_t csB, float* C, int64_t ldc, const GemmEpilogue& ep);

/** The same with either operand given as a GemmOperand (strided or packed through a source). */
void sgemm(int64_t M, int64_t N, int64_t K, const GemmOperand& A, const GemmOperand& B, float* C, int64_t ldc,
           const GemmEpilogue& ep);

}  // namespace tessera
