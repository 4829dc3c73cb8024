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

namespace {

cudaError_t matmul(const float* a, const float* b, float* out, const tsr_matmul_params& p, cudaStream_t s) {
  // A is [batch][M][K]: its m/n index is m; B is [batch][K][N]: its m/n index is n.
  const auto la = gemm::dense_loader(a + p.a_offset, p.a_strides[0], p.a_strides[1], p.a_strides[2], p.M);
  const auto lb = gemm::dense_loader(b + p.b_offset, p.b_strides[0], p.b_strides[2], p.b_strides[1], p.N);
  const gemm::MatmulEpilogue epi{out, p.M, p.N, static_cast<float>(p.alpha), p.bias, static_cast<int>(p.act)};
  return gemm::run_with_precision(static_cast<int>(p.precision), la, lb, epi, p.batch, p.M, p.N, p.K, s);
}

}  // namespace
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

extern "C" int tsr_cuda_matmul(const float* a, const float* b, float* out, const tsr_matmul_params* p, void* stream) {
  return guarded("matmul", [&]() -> int {
    if (!p) return invalid("matmul", "params are null");
    const std::string dims = "batch " + std::to_string(p->batch) + ", M " + std::to_string(p->M) + ", N " +
                             std::to_string(p->N) + ", K " + std::to_string(p->K);
    if (p->batch < 0 || p->M < 0 || p->N < 0 || p->K < 0) return invalid("matmul", "negative extent in " + dims);
    if (p->act < 0 || p->act >= TSR_ACT_COUNT) return invalid("matmul", "unknown activation " + std::to_string(p->act));
    if (p->precision < 0 || p->precision >= TSR_PRECISION_COUNT)
      return invalid("matmul", "unknown precision " + std::to_string(p->precision));
    if (p->batch * p->M * p->N > 0 && (!out || (p->K > 0 && (!a || !b)))) return invalid("matmul", "null pointer");
    const cudaError_t err = matmul(a, b, out, *p, as_stream(stream));
    if (err == cudaErrorNotSupported)
      return fail(TSR_INVALID_ARGUMENT, "cuda matmul (" + dims + "): TF32/BF16 tensor cores need compute capability 8.0+");
    if (err == cudaErrorInvalidConfiguration)
      return invalid("matmul", dims + ": M needs more than 65535 row tiles");
    return check("matmul", dims, err);
  });
}
