// C ABI of kernels/cuda/cmd.cu.
#include "native/cuda/launch_common.h"

using namespace tessera::cuda;

namespace {

std::string cmd_problem(int64_t n, int64_t d, int64_t k) {
  if (n < 0 || d < 0) return "negative extent";
  if (k < 1 || k > TSR_CMD_MAX_K) return "k = " + std::to_string(k) + " outside [1, " + std::to_string(TSR_CMD_MAX_K) + "]";
  return "";
}

std::string cmd_string(int64_t n, int64_t d, int64_t k) {
  return "x [" + std::to_string(n) + ", " + std::to_string(d) + "], k " + std::to_string(k);
}

}  // namespace

extern "C" {

int tsr_cuda_cmd_moments(const float* x, int64_t n, int64_t d, int64_t k, float* mean, float* moments, void* stream) {
  return guarded("cmd_moments", [&]() -> int {
    const std::string why = cmd_problem(n, d, k);
    if (!why.empty()) return invalid("cmd_moments", why);
    if (d > 0 && (!mean || (n > 0 && !x) || (k > 1 && !moments))) return invalid("cmd_moments", "null pointer");
    return check("cmd_moments", cmd_string(n, d, k), cmd_moments(x, n, d, int(k), mean, moments, as_stream(stream)));
  });
}

int tsr_cuda_cmd_moments_backward(const float* x, int64_t n, int64_t d, int64_t k, const float* mean,
                                  const float* moments, const float* g_mean, const float* g_moments, float* out,
                                  void* stream) {
  return guarded("cmd_moments_backward", [&]() -> int {
    const std::string why = cmd_problem(n, d, k);
    if (!why.empty()) return invalid("cmd_moments_backward", why);
    if (n * d > 0 && (!x || !mean || !g_mean || !out || (k > 1 && (!moments || !g_moments))))
      return invalid("cmd_moments_backward", "null pointer");
    return check("cmd_moments_backward", cmd_string(n, d, k),
                 cmd_moments_backward(x, n, d, int(k), mean, moments, g_mean, g_moments, out, as_stream(stream)));
  });
}

}  // extern "C"
