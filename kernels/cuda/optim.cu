// Optimizer updates (src/backend/interface.ts: adamUpdate, sgdUpdate): one grid-stride pass over a parameter that
// rewrites it and its state in place, in float32 with the hyperparameters rounded to float32.
#include <string>

#include "kernels/cuda/common.cuh"

namespace tessera::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void adam_update_kernel(int64_t n, float* __restrict__ x, const float* __restrict__ g, float* __restrict__ m,
                                   float* __restrict__ v, float b1, float b2, float c1, float c2, float l2, float decay,
                                   float step, float bc2, float eps) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float d = g[i] + l2 * x[i];
    const float mi = b1 * m[i] + c1 * d;
    const float vi = b2 * v[i] + c2 * d * d;
    m[i] = mi;
    v[i] = vi;
    x[i] = x[i] * decay - step * (mi / (sqrtf(vi) / bc2 + eps));
  }
}

__global__ void sgd_update_kernel(int64_t n, float* __restrict__ x, const float* __restrict__ g, float* __restrict__ buf,
                                  float lr, float wd, float mu, float undamped, bool first, bool nesterov) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float d = g[i] + wd * x[i];
    const float b = first ? d : mu * buf[i] + undamped * d;
    buf[i] = b;
    x[i] -= lr * (nesterov ? d + mu * b : b);
  }
}

// Whether any two of the n-element operands share memory (the kernels read one after writing another).
bool overlap(std::initializer_list<const float*> ptrs, int64_t n) {
  for (auto a = ptrs.begin(); a != ptrs.end(); ++a)
    for (auto b = a + 1; b != ptrs.end(); ++b)
      if (*a < *b + n && *b < *a + n) return true;
  return false;
}

}  // namespace
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

extern "C" {

int tsr_cuda_adam_update(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, const tsr_adam_params* p,
                         void* stream) {
  return guarded("adam_update", [&]() -> int {
    if (!p) return invalid("adam_update", "null parameter record");
    if (p->n < 0 || (p->decoupled != 0 && p->decoupled != 1)) {
      return invalid("adam_update", "needs n >= 0 and decoupled 0 or 1, got n " + std::to_string(p->n) + ", decoupled " +
                                        std::to_string(p->decoupled));
    }
    if (p->n == 0) return TSR_OK;
    if (!param || !grad || !exp_avg || !exp_avg_sq) return invalid("adam_update", "null pointer");
    if (overlap({param, grad, exp_avg, exp_avg_sq}, p->n)) return invalid("adam_update", "operands overlap");
    const float decay = p->decoupled ? float(1 - p->lr * p->weight_decay) : 1.f;
    const float l2 = p->decoupled ? 0.f : float(p->weight_decay);
    adam_update_kernel<<<blocks_for(p->n, kThreads), kThreads, 0, as_stream(stream)>>>(
        p->n, param, grad, exp_avg, exp_avg_sq, float(p->beta1), float(p->beta2), float(1 - p->beta1), float(1 - p->beta2),
        l2, decay, float(p->step_size), float(p->bias_correction2_sqrt), float(p->eps));
    return check("adam_update", "n " + std::to_string(p->n), cudaGetLastError());
  });
}

int tsr_cuda_sgd_update(float* param, const float* grad, float* momentum_buffer, const tsr_sgd_params* p, void* stream) {
  return guarded("sgd_update", [&]() -> int {
    if (!p) return invalid("sgd_update", "null parameter record");
    if (p->n < 0 || (p->nesterov != 0 && p->nesterov != 1) || (p->first != 0 && p->first != 1)) {
      return invalid("sgd_update", "needs n >= 0 and nesterov, first 0 or 1, got n " + std::to_string(p->n));
    }
    if (p->n == 0) return TSR_OK;
    if (!param || !grad || !momentum_buffer) return invalid("sgd_update", "null pointer");
    if (overlap({param, grad, momentum_buffer}, p->n)) return invalid("sgd_update", "operands overlap");
    sgd_update_kernel<<<blocks_for(p->n, kThreads), kThreads, 0, as_stream(stream)>>>(
        p->n, param, grad, momentum_buffer, float(p->lr), float(p->weight_decay), float(p->momentum),
        float(1 - p->dampening), p->first == 1, p->nesterov == 1);
    return check("sgd_update", "n " + std::to_string(p->n), cudaGetLastError());
  });
}

}  // extern "C"
