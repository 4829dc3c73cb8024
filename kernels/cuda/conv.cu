// 3D convolution (NCDHW; conv2d is D = 1) as implicit GEMM on the main loop
// of gemm.cuh: the loaders below gather the im2col matrix on the fly, so no
// unfolded copy of the input is ever stored. Per group g ("batch" of the
// GEMM), with P = oD*oH*oW output positions and kvol = kd*kh*kw taps:
//   forward:         out[o][(n,p)]   = sum_(c,tap) w[o][(c,tap)] * x[(c,tap)][(n,p)]
//   backward input:  gx[c][(n,i)]    = sum_(o,tap) w[o][(c,tap)] * gy[(o,tap)][(n,i)]
//                    (gy is read where i = p*stride - pad + tap*dilation)
//   backward weight: gw[o][(c,tap)]  = sum_(n,p)   gy[o][(n,p)] * x[(n,p)][(c,tap)]
// Index math is 32-bit (the C ABI at the end rejects tensors of 2^31 elements).
#include "kernels/cuda/gemm.cuh"

namespace tessera::cuda {
namespace {

struct Geometry {
  int N, C, D, H, W, O, kd, kh, kw;
  int sd, sh, sw, pd, ph, pw, dd, dh, dw;
  int groups, oD, oH, oW;
  int Cg, Og, kvol, khw, P, oHW, HW, DHW;
};

Geometry geometry(const tsr_conv_params& p) {
  Geometry g{};
  g.N = int(p.N), g.C = int(p.C), g.D = int(p.D), g.H = int(p.H), g.W = int(p.W), g.O = int(p.O);
  g.kd = int(p.kd), g.kh = int(p.kh), g.kw = int(p.kw);
  g.sd = int(p.stride[0]), g.sh = int(p.stride[1]), g.sw = int(p.stride[2]);
  g.pd = int(p.padding[0]), g.ph = int(p.padding[1]), g.pw = int(p.padding[2]);
  g.dd = int(p.dilation[0]), g.dh = int(p.dilation[1]), g.dw = int(p.dilation[2]);
  g.groups = int(p.groups), g.oD = int(p.oD), g.oH = int(p.oH), g.oW = int(p.oW);
  g.Cg = g.C / g.groups, g.Og = g.O / g.groups;
  g.khw = g.kh * g.kw, g.kvol = g.kd * g.khw;
  g.oHW = g.oH * g.oW, g.P = g.oD * g.oHW;
  g.HW = g.H * g.W, g.DHW = g.D * g.HW;
  return g;
}

// A tap index split into its kernel offsets (already times the dilation).
struct Tap {
  int a, b, e;
};
__device__ __forceinline__ Tap split_tap(const Geometry& g, int tap) {
  const int a = tap / g.khw, r = tap - a * g.khw, b = r / g.kw;
  return {a * g.dd, b * g.dh, (r - b * g.kw) * g.dw};
}

// Forward B: element (k = (c, tap), j = (n, p)) of the im2col matrix. Groups
// run along j (adjacent output positions: adjacent input columns); the
// context keeps each position's image offset and window origin.
struct ForwardInputLoader {
  const float* x;
  Geometry g;
  int64_t extent;  // N * P
  struct Ctx {
    int base[4];  // offset of (n, first channel of the group), or -1 past the end
    int d0[4], h0[4], w0[4];
  };
  __device__ bool kcontig() const { return false; }
  __device__ Ctx context(int64_t group, int64_t j0) const {
    Ctx c;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int64_t j = j0 + i;
      const int n = int(j / g.P), p = int(j - int64_t(n) * g.P);
      const int od = p / g.oHW, oh = (p - od * g.oHW) / g.oW, ow = p - od * g.oHW - oh * g.oW;
      c.base[i] = j < extent ? (n * g.C + int(group) * g.Cg) * g.DHW : -1;
      c.d0[i] = od * g.sd - g.pd, c.h0[i] = oh * g.sh - g.ph, c.w0[i] = ow * g.sw - g.pw;
    }
    return c;
  }
  __device__ void load(const Ctx& c, int64_t, int64_t k, int64_t k_end, float (&v)[4]) const {
    v[0] = v[1] = v[2] = v[3] = 0.0f;
    if (k >= k_end) return;
    const int ci = int(k) / g.kvol;
    const Tap t = split_tap(g, int(k) - ci * g.kvol);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int id = c.d0[i] + t.a, ih = c.h0[i] + t.b, iw = c.w0[i] + t.e;
      if (c.base[i] >= 0 && unsigned(id) < unsigned(g.D) && unsigned(ih) < unsigned(g.H) && unsigned(iw) < unsigned(g.W))
        v[i] = x[c.base[i] + ci * g.DHW + id * g.HW + ih * g.W + iw];
    }
  }
};

struct ForwardEpilogue {
  float* out;
  const float* bias;
  Geometry g;
  __device__ void operator()(int64_t group, int64_t m, int64_t j, float v) const {
    const int o = int(group) * g.Og + int(m);
    const int n = int(j / g.P), p = int(j - int64_t(n) * g.P);
    out[(int64_t(n) * g.O + o) * g.P + p] = v + (bias ? bias[o] : 0.0f);
  }
};

// Backward input A: element (m = c, k = (o, tap)) = w[group*Og + o][c][tap].
struct WeightTransposedLoader {
  const float* w;
  Geometry g;
  struct Ctx {
    int off;  // offset of w[group * Og][c][0], or -1 past Cg
  };
  __device__ bool kcontig() const { return true; }
  __device__ Ctx context(int64_t group, int64_t c) const {
    return {c < g.Cg ? (int(group) * g.Og * g.Cg + int(c)) * g.kvol : -1};
  }
  __device__ void load(const Ctx& c, int64_t, int64_t k, int64_t k_end, float (&v)[4]) const {
    int o = int(k) / g.kvol, tap = int(k) - o * g.kvol;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      v[i] = c.off >= 0 && k + i < k_end ? w[c.off + o * g.Cg * g.kvol + tap] : 0.0f;
      if (++tap == g.kvol) tap = 0, ++o;
    }
  }
};

// Backward input B: element (k = (o, tap), j = (n, input position)) =
// gy[n][o][q] where q * stride = position + pad - tap * dilation, when that
// lands on an output position; else 0. Groups run along j.
struct OutputGradLoader {
  const float* gy;
  Geometry g;
  int64_t extent;  // N * DHW
  struct Ctx {
    int base[4];  // offset of gy[n][group * Og], or -1 past the end
    int td[4], th[4], tw[4];  // input position + padding
  };
  __device__ bool kcontig() const { return false; }
  __device__ Ctx context(int64_t group, int64_t j0) const {
    Ctx c;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int64_t j = j0 + i;
      const int n = int(j / g.DHW), q = int(j - int64_t(n) * g.DHW);
      const int id = q / g.HW, ih = (q - id * g.HW) / g.W, iw = q - id * g.HW - ih * g.W;
      c.base[i] = j < extent ? (n * g.O + int(group) * g.Og) * g.P : -1;
      c.td[i] = id + g.pd, c.th[i] = ih + g.ph, c.tw[i] = iw + g.pw;
    }
    return c;
  }
  // The output index o with o * stride == t, if it exists.
  __device__ static bool output_index(int t, int stride, int extent, int& o) {
    if (t < 0) return false;
    o = t / stride;
    return o * stride == t && o < extent;
  }
  __device__ void load(const Ctx& c, int64_t, int64_t k, int64_t k_end, float (&v)[4]) const {
    v[0] = v[1] = v[2] = v[3] = 0.0f;
    if (k >= k_end) return;
    const int o = int(k) / g.kvol;
    const Tap t = split_tap(g, int(k) - o * g.kvol);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      int od, oh, ow;
      if (c.base[i] >= 0 && output_index(c.td[i] - t.a, g.sd, g.oD, od) && output_index(c.th[i] - t.b, g.sh, g.oH, oh) &&
          output_index(c.tw[i] - t.e, g.sw, g.oW, ow))
        v[i] = gy[c.base[i] + o * g.P + od * g.oHW + oh * g.oW + ow];
    }
  }
};

struct InputGradEpilogue {
  float* gx;
  Geometry g;
  __device__ void operator()(int64_t group, int64_t c, int64_t j, float v) const {
    const int n = int(j / g.DHW), q = int(j - int64_t(n) * g.DHW);
    gx[(int64_t(n) * g.C + int(group) * g.Cg + int(c)) * g.DHW + q] = v;
  }
};

// Backward weight A: element (m = o, k = (n, p)) = gy[n][group*Og + o][p].
// Four adjacent k stay in one image when P % 4 == 0: one 16-byte load.
struct OutputGradRowsLoader {
  const float* gy;
  Geometry g;
  bool vec;  // P % 4 == 0 and gy 16-byte aligned
  struct Ctx {
    int off;  // offset of gy[0][group * Og + o][0], or -1 past Og
  };
  __device__ bool kcontig() const { return true; }
  __device__ Ctx context(int64_t group, int64_t o) const {
    return {o < g.Og ? (int(group) * g.Og + int(o)) * g.P : -1};
  }
  __device__ void load(const Ctx& c, int64_t, int64_t k, int64_t k_end, float (&v)[4]) const {
    v[0] = v[1] = v[2] = v[3] = 0.0f;
    if (c.off < 0) return;
    int n = int(k / g.P), p = int(k - int64_t(n) * g.P);
    if (vec && k + 3 < k_end) {
      const float4 t = *reinterpret_cast<const float4*>(gy + c.off + int64_t(n) * g.O * g.P + p);
      v[0] = t.x, v[1] = t.y, v[2] = t.z, v[3] = t.w;
      return;
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      if (k + i < k_end) v[i] = gy[c.off + int64_t(n) * g.O * g.P + p];
      if (++p == g.P) p = 0, ++n;
    }
  }
};

// Backward weight B: element (k = (n, p), m = (c, tap)) = x[n][group*Cg + c]
// at p's window cell `tap`. Groups run along k (adjacent output positions).
struct InputColsLoader {
  const float* x;
  Geometry g;
  struct Ctx {
    int off;  // offset of x[0][group * Cg + c], or -1 past Cg * kvol
    Tap t;
  };
  __device__ bool kcontig() const { return true; }
  __device__ Ctx context(int64_t group, int64_t col) const {
    const int c = int(col) / g.kvol;
    return {col < int64_t(g.Cg) * g.kvol ? (int(group) * g.Cg + c) * g.DHW : -1, split_tap(g, int(col) - c * g.kvol)};
  }
  __device__ void load(const Ctx& c, int64_t, int64_t k, int64_t k_end, float (&v)[4]) const {
    v[0] = v[1] = v[2] = v[3] = 0.0f;
    if (c.off < 0) return;
    int n = int(k / g.P), p = int(k - int64_t(n) * g.P);
    int od = p / g.oHW, oh = (p - od * g.oHW) / g.oW, ow = p - od * g.oHW - oh * g.oW;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int id = od * g.sd - g.pd + c.t.a, ih = oh * g.sh - g.ph + c.t.b, iw = ow * g.sw - g.pw + c.t.e;
      if (k + i < k_end && unsigned(id) < unsigned(g.D) && unsigned(ih) < unsigned(g.H) && unsigned(iw) < unsigned(g.W))
        v[i] = x[int64_t(n) * g.C * g.DHW + c.off + id * g.HW + ih * g.W + iw];
      if (++ow == g.oW) {
        ow = 0;
        if (++oh == g.oH) {
          oh = 0;
          if (++od == g.oD) od = 0, ++n;
        }
      }
    }
  }
};

struct WeightGradEpilogue {
  float* gw;
  Geometry g;
  __device__ void operator()(int64_t group, int64_t o, int64_t col, float v) const {
    gw[(int64_t(group) * g.Og + o) * g.Cg * g.kvol + col] = v;
  }
};


cudaError_t conv_forward(const float* x, const float* w, const float* bias, float* out, const tsr_conv_params& p,
                         cudaStream_t s) {
  const Geometry g = geometry(p);
  const int64_t K = int64_t(g.Cg) * g.kvol;
  const auto la = gemm::dense_loader(w, int64_t(g.Og) * K, K, 1, g.Og);
  const ForwardInputLoader lb{x, g, int64_t(g.N) * g.P};
  const ForwardEpilogue epi{out, bias, g};
  return gemm::run_with_precision(int(p.precision), la, lb, epi, g.groups, g.Og, int64_t(g.N) * g.P, K, s);
}

cudaError_t conv_backward_input(const float* gy, const float* w, float* gx, const tsr_conv_params& p,
                                cudaStream_t s) {
  const Geometry g = geometry(p);
  const WeightTransposedLoader la{w, g};
  const OutputGradLoader lb{gy, g, int64_t(g.N) * g.DHW};
  const InputGradEpilogue epi{gx, g};
  return gemm::run_with_precision(int(p.precision), la, lb, epi, g.groups, g.Cg, int64_t(g.N) * g.DHW,
                                  int64_t(g.Og) * g.kvol, s);
}

cudaError_t conv_backward_weight(const float* x, const float* gy, float* gw, const tsr_conv_params& p,
                                 cudaStream_t s) {
  const Geometry g = geometry(p);
  const bool vec = g.P % 4 == 0 && (reinterpret_cast<uintptr_t>(gy) & 15) == 0;
  const OutputGradRowsLoader la{gy, g, vec};
  const InputColsLoader lb{x, g};
  const WeightGradEpilogue epi{gw, g};
  return gemm::run_with_precision(int(p.precision), la, lb, epi, g.groups, g.Og, int64_t(g.Cg) * g.kvol,
                                  int64_t(g.N) * g.P, s);
}

// ---- argument checks of the C ABI ----

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
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

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
