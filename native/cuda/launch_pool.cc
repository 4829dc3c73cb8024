// C ABI of kernels/cuda/pool.cu.
#include "native/cuda/launch_common.h"

using namespace tessera::cuda;

namespace {

std::string pool_string(const tsr_pool_params& p) {
  return "x [" + std::to_string(p.N) + ", " + std::to_string(p.C) + ", " + std::to_string(p.D) + ", " +
         std::to_string(p.H) + ", " + std::to_string(p.W) + "], kernel [" + std::to_string(p.kd) + ", " +
         std::to_string(p.kh) + ", " + std::to_string(p.kw) + "], out spatial [" + std::to_string(p.oD) + ", " +
         std::to_string(p.oH) + ", " + std::to_string(p.oW) + "], stride " + shape_string(p.stride, 3) + ", padding " +
         shape_string(p.padding, 3);
}

std::string pool_problem(const tsr_pool_params& p) {
  const int64_t non_negative[] = {p.N, p.C, p.D, p.H, p.W, p.oD, p.oH, p.oW, p.padding[0], p.padding[1], p.padding[2]};
  for (int64_t v : non_negative)
    if (v < 0) return "negative extent or padding";
  const int64_t positive[] = {p.kd, p.kh, p.kw, p.stride[0], p.stride[1], p.stride[2]};
  for (int64_t v : positive)
    if (v <= 0) return "kernel and stride must be positive";
  if (double(p.D) * p.H * p.W >= double(INT32_MAX)) return "an input plane has 2^31 or more elements (argmax is int32)";
  return "";
}

template <class Enqueue>
int run_pool(const char* op, const tsr_pool_params* p, bool pointers_ok, Enqueue enqueue) {
  return guarded(op, [&]() -> int {
    if (!p) return invalid(op, "params are null");
    const std::string why = pool_problem(*p);
    if (!why.empty()) return invalid(op, why + " (" + pool_string(*p) + ")");
    if (!pointers_ok) return invalid(op, "null pointer");
    return check(op, pool_string(*p), enqueue());
  });
}

}  // namespace

extern "C" {

int tsr_cuda_max_pool(const float* x, float* out, int32_t* argmax, const tsr_pool_params* p, void* stream) {
  return run_pool("max_pool", p, x && out && argmax, [&] { return max_pool(x, out, argmax, *p, as_stream(stream)); });
}

int tsr_cuda_avg_pool(const float* x, float* out, const tsr_pool_params* p, void* stream) {
  return run_pool("avg_pool", p, x && out, [&] { return avg_pool(x, out, *p, as_stream(stream)); });
}

int tsr_cuda_avg_pool_backward(const float* gy, float* gx, const tsr_pool_params* p, void* stream) {
  return run_pool("avg_pool_backward", p, gy && gx, [&] { return avg_pool_backward(gy, gx, *p, as_stream(stream)); });
}

}  // extern "C"
