// Max and average pooling over NCDHW (2D pooling is D = 1, kd = 1), and the
// average pooling backward. One thread per output element for the forward;
// the backward gathers, one thread per input element over the windows that
// cover it, so it needs no atomics and no zero fill.
#include "kernels/cuda/common.cuh"

namespace tessera::cuda {
namespace {

constexpr int kThreads = 256;

// Output position of a flat output index, and the window's first input cell.
struct Window {
  int64_t plane;  // n * C + c
  int64_t d0, h0, w0;
};

__device__ __forceinline__ Window window_of(const tsr_pool_params& p, int64_t o) {
  const int64_t ow = o % p.oW, oh = (o / p.oW) % p.oH, od = (o / (p.oW * p.oH)) % p.oD;
  return {o / (p.oW * p.oH * p.oD), od * p.stride[0] - p.padding[0], oh * p.stride[1] - p.padding[1],
          ow * p.stride[2] - p.padding[2]};
}

// Scans a window's taps (start + tap * dilation) in (d, h, w) order, calling
// f(index within the plane) for every cell inside the input.
template <class F>
__device__ __forceinline__ void for_each_cell(const tsr_pool_params& p, const Window& w, F f) {
  for (int64_t a = 0; a < p.kd; ++a) {
    const int64_t d = w.d0 + a * p.dilation[0];
    if (d < 0 || d >= p.D) continue;
    for (int64_t b = 0; b < p.kh; ++b) {
      const int64_t h = w.h0 + b * p.dilation[1];
      if (h < 0 || h >= p.H) continue;
      for (int64_t e = 0; e < p.kw; ++e) {
        const int64_t x = w.w0 + e * p.dilation[2];
        if (x >= 0 && x < p.W) f((d * p.H + h) * p.W + x);
      }
    }
  }
}

// Average pooling's divisor for the window starting at (d0, h0, w0): the window cut at the padded
// input's end (count_include_pad, as torch in ceil mode) or its cells inside the input.
__device__ __forceinline__ float avg_divisor(const tsr_pool_params& p, int64_t d0, int64_t h0, int64_t w0) {
  auto len = [&](int64_t start, int64_t k, int64_t n, int64_t pad) {
    return p.count_include_pad ? imin(start + k, n + pad) - start : imin(start + k, n) - imax<int64_t>(start, 0);
  };
  return float(len(d0, p.kd, p.D, p.padding[0]) * len(h0, p.kh, p.H, p.padding[1]) * len(w0, p.kw, p.W, p.padding[2]));
}

// As the reference: the first cell inside the input, then any strictly
// greater one or NaN (so NaN wins, the last one as torch); argmax -1 and -inf for
// a window entirely in the padding.
__global__ void __launch_bounds__(kThreads)
    max_pool_kernel(const float* __restrict__ x, float* __restrict__ out, int32_t* __restrict__ argmax,
                    tsr_pool_params p, int64_t outputs) {
  const int64_t plane_size = p.D * p.H * p.W;
  for (int64_t o = int64_t(blockIdx.x) * kThreads + threadIdx.x; o < outputs; o += int64_t(gridDim.x) * kThreads) {
    const Window w = window_of(p, o);
    const float* xp = x + w.plane * plane_size;
    float best = -INFINITY;
    int64_t at = -1;
    for_each_cell(p, w, [&](int64_t i) {
      const float v = xp[i];
      if (at < 0 || v > best || isnan(v)) best = v, at = i;
    });
    out[o] = best;
    argmax[o] = static_cast<int32_t>(at);
  }
}

// The divisor as the reference (avg_divisor); average pooling has dilation 1.
__global__ void __launch_bounds__(kThreads)
    avg_pool_kernel(const float* __restrict__ x, float* __restrict__ out, tsr_pool_params p, int64_t outputs) {
  const int64_t plane_size = p.D * p.H * p.W;
  for (int64_t o = int64_t(blockIdx.x) * kThreads + threadIdx.x; o < outputs; o += int64_t(gridDim.x) * kThreads) {
    const Window w = window_of(p, o);
    const float* xp = x + w.plane * plane_size;
    float sum = 0.0f;
    for_each_cell(p, w, [&](int64_t i) { sum += xp[i]; });
    out[o] = sum / avg_divisor(p, w.d0, w.h0, w.w0);
  }
}

// Output positions along one axis whose window covers input position i:
// o * stride - pad <= i < o * stride - pad + k, 0 <= o < n.
__device__ __forceinline__ void covering(int64_t i, int64_t stride, int64_t pad, int64_t k, int64_t n,
                                         int64_t& first, int64_t& last) {
  const int64_t t = i + pad;  // o * stride <= t < o * stride + k
  first = t - k + 1 <= 0 ? 0 : ceil_div(t - k + 1, stride);
  last = imin(t / stride, n - 1);
}

__global__ void __launch_bounds__(kThreads)
    avg_pool_backward_kernel(const float* __restrict__ gy, float* __restrict__ gx, tsr_pool_params p, int64_t inputs) {
  const int64_t out_plane = p.oD * p.oH * p.oW;
  for (int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x; i < inputs; i += int64_t(gridDim.x) * kThreads) {
    const int64_t iw = i % p.W, ih = (i / p.W) % p.H, id = (i / (p.W * p.H)) % p.D;
    const int64_t plane = i / (p.W * p.H * p.D);
    int64_t d0, d1, h0, h1, w0, w1;
    covering(id, p.stride[0], p.padding[0], p.kd, p.oD, d0, d1);
    covering(ih, p.stride[1], p.padding[1], p.kh, p.oH, h0, h1);
    covering(iw, p.stride[2], p.padding[2], p.kw, p.oW, w0, w1);
    const float* g = gy + plane * out_plane;
    float sum = 0.0f;
    for (int64_t od = d0; od <= d1; ++od)
      for (int64_t oh = h0; oh <= h1; ++oh)
        for (int64_t ow = w0; ow <= w1; ++ow)
          sum += g[(od * p.oH + oh) * p.oW + ow] /
                 avg_divisor(p, od * p.stride[0] - p.padding[0], oh * p.stride[1] - p.padding[1], ow * p.stride[2] - p.padding[2]);
    gx[i] = sum;
  }
}


cudaError_t max_pool(const float* x, float* out, int32_t* argmax, const tsr_pool_params& p, cudaStream_t s) {
  const int64_t outputs = p.N * p.C * p.oD * p.oH * p.oW;
  if (outputs == 0) return cudaSuccess;
  max_pool_kernel<<<blocks_for(outputs, kThreads), kThreads, 0, s>>>(x, out, argmax, p, outputs);
  return cudaGetLastError();
}

cudaError_t avg_pool(const float* x, float* out, const tsr_pool_params& p, cudaStream_t s) {
  const int64_t outputs = p.N * p.C * p.oD * p.oH * p.oW;
  if (outputs == 0) return cudaSuccess;
  avg_pool_kernel<<<blocks_for(outputs, kThreads), kThreads, 0, s>>>(x, out, p, outputs);
  return cudaGetLastError();
}

cudaError_t avg_pool_backward(const float* gy, float* gx, const tsr_pool_params& p, cudaStream_t s) {
  const int64_t inputs = p.N * p.C * p.D * p.H * p.W;
  if (inputs == 0) return cudaSuccess;
  avg_pool_backward_kernel<<<blocks_for(inputs, kThreads), kThreads, 0, s>>>(gy, gx, p, inputs);
  return cudaGetLastError();
}

// ---- argument checks of the C ABI ----

std::string pool_string(const tsr_pool_params& p) {
  return "x [" + std::to_string(p.N) + ", " + std::to_string(p.C) + ", " + std::to_string(p.D) + ", " +
         std::to_string(p.H) + ", " + std::to_string(p.W) + "], kernel [" + std::to_string(p.kd) + ", " +
         std::to_string(p.kh) + ", " + std::to_string(p.kw) + "], out spatial [" + std::to_string(p.oD) + ", " +
         std::to_string(p.oH) + ", " + std::to_string(p.oW) + "], stride " + shape_string(p.stride, 3) + ", padding " +
         shape_string(p.padding, 3) + ", dilation " + shape_string(p.dilation, 3);
}

std::string pool_problem(const tsr_pool_params& p) {
  const int64_t non_negative[] = {p.N, p.C, p.D, p.H, p.W, p.oD, p.oH, p.oW, p.padding[0], p.padding[1], p.padding[2]};
  for (int64_t v : non_negative)
    if (v < 0) return "negative extent or padding";
  const int64_t positive[] = {p.kd, p.kh, p.kw, p.stride[0], p.stride[1], p.stride[2], p.dilation[0], p.dilation[1], p.dilation[2]};
  for (int64_t v : positive)
    if (v <= 0) return "kernel, stride and dilation must be positive";
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
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

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
