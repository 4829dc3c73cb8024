// C ABI of kernels/cuda/gemm.cu.
#include "native/cuda/launch_common.h"

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
