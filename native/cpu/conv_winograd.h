// Winograd convolution for the cpu backend's conv kernels (native/cpu/conv.cc): F(2, 3) along every
// axis whose kernel has 3 taps (a 1-tap axis passes through), for stride 1, dilation 1, one group.
#pragma once
#include <cstdint>

namespace tessera {

/** The geometry of a convolution as the Winograd kernels see it: NCDHW input, OIDHW weights. */
struct WinogradConv {
  int64_t N, C, O;
  int64_t in[3], out[3], k[3], pad[3];
};

enum class ConvPass { forward, backward_input, backward_weight };

/** Whether the Winograd kernels can compute this convolution: every axis has 1 or 3 taps (some
 *  axis 3) and padding at most taps - 1 (so that backward-input is again such a convolution). */
bool winograd_eligible(const WinogradConv& s);
/** Whether they are expected to be faster than implicit GEMM for this pass (a measured rule on the
 *  reduction in multiply-adds; see conv_winograd.cc). */
bool winograd_pays(const WinogradConv& s, ConvPass pass);

/** out[n, o] = sum_c w[o, c] (*) x[n, c] (+ bias[o]). */
void winograd_forward(const WinogradConv& s, const float* x, const float* w, const float* bias, float* out);
/** gx = the gradient of the forward with respect to x, given gy (a convolution of gy with the
 *  flipped, transposed weights). */
void winograd_backward_input(const WinogradConv& s, const float* gy, const float* w, float* gx);
/** gw = the gradient of the forward with respect to w, given x and gy. */
void winograd_backward_weight(const WinogradConv& s, const float* x, const float* gy, float* gw);

}  // namespace tessera
