// The recurrence of one LSTM layer-direction over all T steps (src/backend/interface.ts: lstmForward,
// lstmBackward), torch's gate order (i, f, g, o). Batch rows never meet in the recurrence (row b's state
// depends only on row b's inputs), so one block owns one row for all T steps: the whole sequence is one
// launch, and the steps are ordered by __syncthreads (which also makes the block's global writes visible
// to it). A thread owns the cells j = threadIdx.x + n * blockDim.x of its row: it forms their four gates
// from h_prev (in shared memory) and W_hh, and keeps their cell-state gradient between backward steps.
#include <string>

#include "kernels/cuda/common.cuh"

namespace tessera::cuda {
namespace {

constexpr int kThreads = 128;
// h_prev (forward) and dL/dh_prev (backward) of one row live in shared memory.
constexpr int64_t kMaxHidden = 48 * 1024 / sizeof(float);

__device__ __forceinline__ float sigmoid(float x) { return 1.f / (1.f + expf(-x)); }
__device__ __forceinline__ int64_t step_time(const tsr_lstm_params& p, int64_t k) { return p.reverse ? p.T - 1 - k : k; }

__global__ void lstm_forward_kernel(tsr_lstm_params p, const float* __restrict__ gates_in, const float* __restrict__ w,
                                    const float* __restrict__ h0, const float* __restrict__ c0, float* states,
                                    float* __restrict__ gates) {
  extern __shared__ float h_prev[];
  const int64_t b = blockIdx.x, B = p.B, H = p.H, T = p.T, G = 4 * H;
  float* hs = states;
  float* cs = states + T * B * H;
  for (int64_t j = threadIdx.x; j < H; j += blockDim.x) h_prev[j] = h0[b * H + j];
  __syncthreads();
  for (int64_t k = 0; k < T; ++k) {
    const int64_t t = step_time(p, k), prev = p.reverse ? t + 1 : t - 1;
    const float* z_in = gates_in + (t * B + b) * G;
    float* act = gates + (t * B + b) * G;
    for (int64_t j = threadIdx.x; j < H; j += blockDim.x) {
      float zi = z_in[j], zf = z_in[H + j], zg = z_in[2 * H + j], zo = z_in[3 * H + j];
      for (int64_t m = 0; m < H; ++m) {
        const float h = h_prev[m];
        zi += h * w[j * H + m];
        zf += h * w[(H + j) * H + m];
        zg += h * w[(2 * H + j) * H + m];
        zo += h * w[(3 * H + j) * H + m];
      }
      const float i = sigmoid(zi), f = sigmoid(zf), g = tanhf(zg), o = sigmoid(zo);
      const float c = f * (k == 0 ? c0[b * H + j] : cs[(prev * B + b) * H + j]) + i * g;
      act[j] = i;
      act[H + j] = f;
      act[2 * H + j] = g;
      act[3 * H + j] = o;
      cs[(t * B + b) * H + j] = c;
      hs[(t * B + b) * H + j] = o * tanhf(c);
    }
    __syncthreads();  // every cell has read h_prev
    for (int64_t j = threadIdx.x; j < H; j += blockDim.x) h_prev[j] = hs[(t * B + b) * H + j];
    __syncthreads();
  }
}

// grad_c0 carries each cell's dL/dc_prev from step to step (only its owner thread touches it) and ends as
// dL/dc0; dh_next (shared) is dL/dh_prev = gradGates[t] W_hh of the step just done.
__global__ void lstm_backward_kernel(tsr_lstm_params p, const float* __restrict__ w, const float* __restrict__ c0,
                                     const float* __restrict__ gates, const float* __restrict__ states,
                                     const float* __restrict__ grad_states, float* grad_gates, float* __restrict__ grad_h0,
                                     float* __restrict__ grad_c0) {
  extern __shared__ float dh_next[];
  const int64_t b = blockIdx.x, B = p.B, H = p.H, T = p.T, G = 4 * H;
  const float* cs = states + T * B * H;
  const float* gh = grad_states;
  const float* gc = grad_states + T * B * H;
  for (int64_t j = threadIdx.x; j < H; j += blockDim.x) dh_next[j] = 0.f, grad_c0[b * H + j] = 0.f;
  __syncthreads();
  for (int64_t k = T - 1; k >= 0; --k) {
    const int64_t t = step_time(p, k), prev = p.reverse ? t + 1 : t - 1;
    const float* act = gates + (t * B + b) * G;
    float* gz = grad_gates + (t * B + b) * G;
    for (int64_t j = threadIdx.x; j < H; j += blockDim.x) {
      const int64_t s = (t * B + b) * H + j;
      const float i = act[j], f = act[H + j], g = act[2 * H + j], o = act[3 * H + j];
      const float tc = tanhf(cs[s]);
      const float dh = gh[s] + dh_next[j];
      const float dc = gc[s] + grad_c0[b * H + j] + dh * o * (1.f - tc * tc);
      const float c_prev = k == 0 ? c0[b * H + j] : cs[(prev * B + b) * H + j];
      gz[j] = dc * g * i * (1.f - i);
      gz[H + j] = dc * c_prev * f * (1.f - f);
      gz[2 * H + j] = dc * i * (1.f - g * g);
      gz[3 * H + j] = dh * tc * o * (1.f - o);
      grad_c0[b * H + j] = dc * f;
    }
    __syncthreads();  // the row's gate gradients are written and dh_next is read
    for (int64_t j = threadIdx.x; j < H; j += blockDim.x) {
      float acc = 0.f;
      for (int64_t r = 0; r < G; ++r) acc += gz[r] * w[r * H + j];
      dh_next[j] = acc;
    }
    __syncthreads();
  }
  for (int64_t j = threadIdx.x; j < H; j += blockDim.x) grad_h0[b * H + j] = dh_next[j];
}

// The checks both entry points share; empty when the sizes are valid.
std::string lstm_problem(const tsr_lstm_params* p) {
  if (!p) return "null parameter record";
  if (p->T < 0 || p->B < 0 || p->H < 1 || (p->reverse != 0 && p->reverse != 1)) {
    return "needs T >= 0, B >= 0, H >= 1 and reverse 0 or 1, got T " + std::to_string(p->T) + ", B " +
           std::to_string(p->B) + ", H " + std::to_string(p->H) + ", reverse " + std::to_string(p->reverse);
  }
  if (p->H > kMaxHidden) return "H = " + std::to_string(p->H) + " exceeds " + std::to_string(kMaxHidden) + " (one row's state in shared memory)";
  if (p->B > INT_MAX) return "B = " + std::to_string(p->B) + " exceeds the grid";
  return "";
}

std::string lstm_detail(const tsr_lstm_params& p) {
  return "T " + std::to_string(p.T) + ", B " + std::to_string(p.B) + ", H " + std::to_string(p.H);
}

}  // namespace
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

extern "C" {

int tsr_cuda_lstm_forward(const float* gates_in, const float* weight_hh, const float* h0, const float* c0, float* states,
                          float* gates, const tsr_lstm_params* p, void* stream) {
  return guarded("lstm_forward", [&]() -> int {
    const std::string problem = lstm_problem(p);
    if (!problem.empty()) return invalid("lstm_forward", problem);
    if (p->B == 0) return TSR_OK;
    if (!gates_in || !weight_hh || !h0 || !c0 || !states || !gates) return invalid("lstm_forward", "null pointer");
    const size_t shared = size_t(p->H) * sizeof(float);
    lstm_forward_kernel<<<unsigned(p->B), kThreads, shared, as_stream(stream)>>>(*p, gates_in, weight_hh, h0, c0, states, gates);
    return check("lstm_forward", lstm_detail(*p), cudaGetLastError());
  });
}

int tsr_cuda_lstm_backward(const float* weight_hh, const float* c0, const float* gates, const float* states,
                           const float* grad_states, float* grad_gates, float* grad_h0, float* grad_c0,
                           const tsr_lstm_params* p, void* stream) {
  return guarded("lstm_backward", [&]() -> int {
    const std::string problem = lstm_problem(p);
    if (!problem.empty()) return invalid("lstm_backward", problem);
    if (p->B == 0) return TSR_OK;
    if (!weight_hh || !c0 || !gates || !states || !grad_states || !grad_gates || !grad_h0 || !grad_c0) {
      return invalid("lstm_backward", "null pointer");
    }
    const size_t shared = size_t(p->H) * sizeof(float);
    lstm_backward_kernel<<<unsigned(p->B), kThreads, shared, as_stream(stream)>>>(*p, weight_hh, c0, gates, states, grad_states,
                                                                                grad_gates, grad_h0, grad_c0);
    return check("lstm_backward", lstm_detail(*p), cudaGetLastError());
  });
}

}  // extern "C"
