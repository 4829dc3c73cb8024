// C ABI of kernels/cuda/conv.cu.
#include "native/cuda/launch_common.h"

using namespace tessera::cuda;

namespace {

std::string conv_string(const tsr_conv_params& p) {
  auto triple = [](const int64_t* v) { return shape_string(v, 3); };
  return "x [" + std::to_string(p.N) + ", " + std::to_string(p.C) + ", " + std::to_string(p.D) + ", " +
         std::to_string(p.H) + ", " + std::to_string(p.W) + "], w [" + std::to_string(p.O) + ", " +
         std::to_string(p.groups > 0 ? p.C / p.groups : 0) + ", " + std::to_string(p.kd) + ", " + std::to_string(p.kh) +
         ", " + std::to_string(p.kw) + "], out spatial [" + std::to_string(p.oD) + ", " + std::to_string(p.oH) + ", " +
         std::to_string(p.oW) + "], stride " + triple(p.stride) + ", padding " + triple(p.padding) + ", dilation " +
         triple(p.dilation) + ", groups " + std::to_string(p.groups);
}

// Positive extents, groups dividing C and O, and every tensor under 2^31
// elements (the kernels index in 32 bits).
std::string conv_problem(const tsr_conv_params& p) {
  const int64_t positive[] = {p.N, p.C, p.D, p.H, p.W, p.O, p.kd, p.kh, p.kw, p.groups, p.oD, p.oH, p.oW,
                              p.stride[0], p.stride[1], p.stride[2], p.dilation[0], p.dilation[1], p.dilation[2]};
  for (int64_t v : positive)
    if (v <= 0) return "extents, strides, dilations and groups must be positive";
  for (int64_t v : p.padding)
    if (v < 0) return "negative padding";
  if (p.C % p.groups || p.O % p.groups) return "groups must divide C and O";
  if (p.precision < 0 || p.precision >= TSR_PRECISION_COUNT) return "unknown precision";
  const double limit = double(INT32_MAX);
  const double x = double(p.N) * p.C * p.D * p.H * p.W, y = double(p.N) * p.O * p.oD * p.oH * p.oW;
  const double w = double(p.O) * (p.C / p.groups) * p.kd * p.kh * p.kw;
  if (x >= limit || y >= limit || w >= limit) return "a tensor has 2^31 or more elements";
  return "";
}

template <class Enqueue>
int run_conv(const char* op, const tsr_conv_params* p, bool pointers_ok, Enqueue enqueue) {
  return guarded(op, [&]() -> int {
    if (!p) return invalid(op, "params are null");
    const std::string why = conv_problem(*p);
    if (!why.empty()) return invalid(op, why + " (" + conv_string(*p) + ")");
    if (!pointers_ok) return invalid(op, "null pointer");
    const cudaError_t err = enqueue();
    if (err == cudaErrorNotSupported)
      return invalid(op, "TF32/BF16 tensor cores need compute capability 8.0+");
    return check(op, conv_string(*p), err);
  });
}

}  // namespace

extern "C" {

int tsr_cuda_conv_forward(const float* x, const float* w, const float* bias, float* out, const tsr_conv_params* p,
                          void* stream) {
  return run_conv("conv", p, x && w && out, [&] { return conv_forward(x, w, bias, out, *p, as_stream(stream)); });
}

int tsr_cuda_conv_backward_input(const float* gy, const float* w, float* gx, const tsr_conv_params* p, void* stream) {
  return run_conv("conv_backward_input", p, gy && w && gx,
                  [&] { return conv_backward_input(gy, w, gx, *p, as_stream(stream)); });
}

int tsr_cuda_conv_backward_weight(const float* x, const float* gy, float* gw, const tsr_conv_params* p, void* stream) {
  return run_conv("conv_backward_weight", p, x && gy && gw,
                  [&] { return conv_backward_weight(x, gy, gw, *p, as_stream(stream)); });
}

}  // extern "C"
