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

/** C[i*ldc + j] (=, or += when accumulate) act(alpha * sum_k A[i*rsA + k*csA] * B[k*rsB + j*csB] + bias).
 *  Any strides (0 included) on A and B; C rows are ldc apart with unit column stride.
 *  Threaded over tiles of C through parallel_for (runs single-threaded when nested).
 *  The caller guarantees that every addressed element exists. */
void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA,
           const float* B, int64_t rsB, int64_t csB, float* C, int64_t ldc, const GemmEpilogue& ep);

}  // namespace tessera
