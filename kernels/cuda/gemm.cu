// Batched strided matmul with the fused µP-linear epilogue:
// out = act(alpha * a @ b + bias), through the main loop of gemm.cuh.
#include "kernels/cuda/gemm.cuh"

namespace tessera::cuda {
namespace gemm {

bool tensor_cores_available() {
  int device = 0, major = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return false;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) return false;
  return major >= 8;
}

namespace {

struct MatmulEpilogue {
  float* out;  // dense [batch][M][N]
  int64_t M, N;
  float alpha;
  const float* bias;  // [N] or null
  int act;
  __device__ void operator()(int64_t b, int64_t m, int64_t n, float v) const {
    const float r = alpha * v + (bias ? bias[n] : 0.0f);
    out[(b * M + m) * N + n] = activate(act, r);
  }
};

}  // namespace
}  // namespace gemm

cudaError_t matmul(const float* a, const float* b, float* out, const tsr_matmul_params& p, cudaStream_t s) {
  // A is [batch][M][K]: its m/n index is m; B is [batch][K][N]: its m/n index is n.
  const auto la = gemm::dense_loader(a + p.a_offset, p.a_strides[0], p.a_strides[1], p.a_strides[2], p.M);
  const auto lb = gemm::dense_loader(b + p.b_offset, p.b_strides[0], p.b_strides[2], p.b_strides[1], p.N);
  const gemm::MatmulEpilogue epi{out, p.M, p.N, static_cast<float>(p.alpha), p.bias, static_cast<int>(p.act)};
  return gemm::run_with_precision(static_cast<int>(p.precision), la, lb, epi, p.batch, p.M, p.N, p.K, s);
}

}  // namespace tessera::cuda
