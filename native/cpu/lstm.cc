// The recurrence of one LSTM layer-direction over all T steps (src/backend/interface.ts: lstmForward,
// lstmBackward), torch's gate order (i, f, g, o). Each step is one small GEMM through sgemm (z += h_prev
// W_hh^T forward, dL/dh_prev = dL/dz W_hh backward) and one SIMD pass over the [B, H] cells; the steps
// depend on each other but batch rows never meet, so each thread runs all T steps of a block of rows.
#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "families.h"
#include "gemm.h"
#include "simd.h"
#include "threadpool.h"

namespace tessera {
namespace {

/** n <= W floats from p as a vector (zeros after n). */
template <int W>
TESSERA_INLINE typename Vec<W>::F load_n(const float* p, int64_t n) {
  if (n == W) return Vec<W>::load(p);
  float lanes[W] = {};
  std::memcpy(lanes, p, n * sizeof(float));
  return Vec<W>::load(lanes);
}

template <int W>
TESSERA_INLINE void store_n(float* p, typename Vec<W>::F v, int64_t n) {
  if (n == W) return Vec<W>::store(p, v);
  float lanes[W];
  Vec<W>::store(lanes, v);
  std::memcpy(p, lanes, n * sizeof(float));
}

/** Cells [j, j + n) of batch row b of one step (n <= W): z [B, 4H] (pre-activation in, activated i, f, g, o
 *  out), c_prev [B, H] -> c, h [B, H]. */
template <int W>
TESSERA_INLINE void cell_forward(int64_t b, int64_t j, int64_t n, int64_t H, float* z, const float* c_prev, float* c_out,
                                 float* h_out) {
  using F = typename Vec<W>::F;
  float* zr = z + b * 4 * H;
  const int64_t at = b * H + j;
  const F i = vsigmoid<W>(load_n<W>(zr + j, n));
  const F f = vsigmoid<W>(load_n<W>(zr + H + j, n));
  const F g = vtanh<W>(load_n<W>(zr + 2 * H + j, n));
  const F o = vsigmoid<W>(load_n<W>(zr + 3 * H + j, n));
  const F c = f * load_n<W>(c_prev + at, n) + i * g;
  store_n<W>(zr + j, i, n);
  store_n<W>(zr + H + j, f, n);
  store_n<W>(zr + 2 * H + j, g, n);
  store_n<W>(zr + 3 * H + j, o, n);
  store_n<W>(c_out + at, c, n);
  store_n<W>(h_out + at, o * vtanh<W>(c), n);
}

/** Cells [j, j + n) of batch row b of one step backwards (n <= W): from the activated gates act [B, 4H], c and
 *  c_prev [B, H], the step's own dL/dh and dL/dc (gh, gc) and those flowing back from the later step (dh_next,
 *  dc_next), writes dL/dz into gz [B, 4H] and dL/dc_prev into dc_next. */
template <int W>
TESSERA_INLINE void cell_backward(int64_t b, int64_t j, int64_t n, int64_t H, const float* act, const float* c,
                                  const float* c_prev, const float* gh, const float* gc, const float* dh_next,
                                  float* dc_next, float* gz) {
  using F = typename Vec<W>::F;
  const float* ar = act + b * 4 * H;
  float* gr = gz + b * 4 * H;
  const int64_t at = b * H + j;
  const F i = load_n<W>(ar + j, n), f = load_n<W>(ar + H + j, n);
  const F g = load_n<W>(ar + 2 * H + j, n), o = load_n<W>(ar + 3 * H + j, n);
  const F tc = vtanh<W>(load_n<W>(c + at, n));
  const F dh = load_n<W>(gh + at, n) + load_n<W>(dh_next + at, n);
  const F dc = load_n<W>(gc + at, n) + load_n<W>(dc_next + at, n) + dh * o * (1.f - tc * tc);
  store_n<W>(gr + j, dc * g * i * (1.f - i), n);
  store_n<W>(gr + H + j, dc * load_n<W>(c_prev + at, n) * f * (1.f - f), n);
  store_n<W>(gr + 2 * H + j, dc * i * (1.f - g * g), n);
  store_n<W>(gr + 3 * H + j, dh * tc * o * (1.f - o), n);
  store_n<W>(dc_next + at, dc * f, n);
}

/** Calls piece(lanes, b, j, n) over the cells of rows [b0, b1), lanes a std::integral_constant<int, L> with L = W
 *  but on 16 lanes the last pieces of a row take 8 (H = 40 is 16 + 16 + 8): a partial 16-lane piece would go
 *  through memory lane by lane. */
template <int W, class Piece>
TESSERA_INLINE void each_cell_piece(int64_t b0, int64_t b1, int64_t H, Piece piece) {
  constexpr int Rest = W > 8 ? W / 2 : W;
  for (int64_t b = b0; b < b1; b++) {
    int64_t j = 0;
    for (; j + W <= H; j += W) piece(std::integral_constant<int, W>{}, b, j, int64_t(W));
    for (; j < H; j += Rest) piece(std::integral_constant<int, Rest>{}, b, j, std::min<int64_t>(Rest, H - j));
  }
}

// The cells are bound by their sigmoids and tanhs (an exp and a division each), which run twice as fast on
// 16 lanes as on 8: both cell kernels take 16 under AVX-512 (their 16-lane code compiles to 512-bit
// instructions throughout).
template <int W>
struct CellForward {
  static constexpr int kAvx512Lanes = 16;
  static TESSERA_INLINE void run(int64_t b0, int64_t b1, int64_t H, float* z, const float* c_prev, float* c_out,
                                 float* h_out) {
    each_cell_piece<W>(b0, b1, H, [&](auto lanes, int64_t b, int64_t j, int64_t n) TESSERA_LAMBDA_INLINE {
      cell_forward<decltype(lanes)::value>(b, j, n, H, z, c_prev, c_out, h_out);
    });
  }
};

template <int W>
struct CellBackward {
  static constexpr int kAvx512Lanes = 16;
  static TESSERA_INLINE void run(int64_t b0, int64_t b1, int64_t H, const float* act, const float* c, const float* c_prev,
                                 const float* gh, const float* gc, const float* dh_next, float* dc_next, float* gz) {
    each_cell_piece<W>(b0, b1, H, [&](auto lanes, int64_t b, int64_t j, int64_t n) TESSERA_LAMBDA_INLINE {
      cell_backward<decltype(lanes)::value>(b, j, n, H, act, c, c_prev, gh, gc, dh_next, dc_next, gz);
    });
  }
};

/** Batch rows per thread task: rows never meet in the recurrence, so a task runs all T steps of its rows
 *  (no hand-off per step). At least 16 rows, so each step's GEMM is not all packing, and about 2M
 *  multiply-adds, so a task outweighs its hand-off (DeepAR's sampling step of a few hundred paths of H = 40
 *  stays on one thread; its training batch of 32 x 60 steps splits in two). */
int64_t row_grain(int64_t T, int64_t H) { return std::max<int64_t>(16, (int64_t(1) << 21) / std::max<int64_t>(1, T * 4 * H * H)); }

tsr_lstm_params lstm_params(const Napi::CallbackInfo& info, size_t i, const char* kernel) {
  const tsr_lstm_params p = record_arg<tsr_lstm_params>(info, i, kernel);
  if (p.T < 0 || p.B < 0 || p.H < 1 || (p.reverse != 0 && p.reverse != 1)) {
    fail(std::string(kernel) + ": needs T >= 0, B >= 0, H >= 1 and reverse 0 or 1, got T " + std::to_string(p.T) +
         ", B " + std::to_string(p.B) + ", H " + std::to_string(p.H) + ", reverse " + std::to_string(p.reverse) +
         " (cpu backend)");
  }
  return p;
}

// lstmForward(gatesIn [T,B,4H], weightHh [4H,H], h0 [B,H], c0 [B,H], states [2,T,B,H], gates [T,B,4H], record)
Napi::Value LstmForward(const Napi::CallbackInfo& info) {
  const char* kernel = "lstmForward";
  const tsr_lstm_params p = lstm_params(info, 6, kernel);
  const int64_t T = p.T, B = p.B, H = p.H, G = checked_product({4, H}, kernel);
  const int64_t step_gates = checked_product({B, G}, kernel), step_states = checked_product({B, H}, kernel);
  const Span<float> gates_in = f32_arg(info, 0, kernel, "gatesIn"), w = f32_arg(info, 1, kernel, "weightHh");
  const Span<float> h0 = f32_arg(info, 2, kernel, "h0"), c0 = f32_arg(info, 3, kernel, "c0");
  const Span<float> states = f32_arg(info, 4, kernel, "states"), gates = f32_arg(info, 5, kernel, "gates");
  require_length(kernel, "gatesIn", gates_in.size, checked_product({T, step_gates}, kernel));
  require_length(kernel, "weightHh", w.size, checked_product({G, H}, kernel));
  require_length(kernel, "h0", h0.size, step_states);
  require_length(kernel, "c0", c0.size, step_states);
  require_length(kernel, "states", states.size, checked_product({2, T, step_states}, kernel));
  require_length(kernel, "gates", gates.size, checked_product({T, step_gates}, kernel));
  if (B == 0) return info.Env().Undefined();

  float* hs = states.data;
  float* cs = states.data + T * step_states;
  // W_hh^T (its element (k, r) is w[r * H + k]) in sgemm's panels once for every step and thread.
  std::vector<float> w_storage(packed_b_floats(G, H));
  const PackedB w_packed = pack_b_once(G, H, w.data, 1, H, w_storage.data());
  GemmOperand w_t;
  w_t.data = w.data;
  w_t.rs = 1;
  w_t.cs = H;
  w_t.packed_b = &w_packed;
  parallel_for(B, row_grain(T, H), [&](int64_t b0, int64_t b1) {
    GemmEpilogue accumulate;
    accumulate.accumulate = true;
    for (int64_t k = 0; k < T; k++) {
      const int64_t t = p.reverse ? T - 1 - k : k, prev = p.reverse ? t + 1 : t - 1;
      const float* h_prev = k == 0 ? h0.data : hs + prev * step_states;
      const float* c_prev = k == 0 ? c0.data : cs + prev * step_states;
      float* z = gates.data + t * step_gates;
      std::memcpy(z + b0 * G, gates_in.data + t * step_gates + b0 * G, (b1 - b0) * G * sizeof(float));
      // z [rows, 4H] += h_prev [rows, H] W_hh^T; nested in parallel_for, sgemm runs on this thread.
      GemmOperand h;
      h.data = h_prev + b0 * H;
      h.rs = H;
      h.cs = 1;
      sgemm(b1 - b0, G, H, h, w_t, z + b0 * G, G, accumulate);
      simd_dispatch<CellForward>(b0, b1, H, z, c_prev, cs + t * step_states, hs + t * step_states);
    }
  });
  return info.Env().Undefined();
}

// lstmBackward(weightHh, c0, gates, states, gradStates [2,T,B,H], gradGates [T,B,4H], gradH0, gradC0, record)
Napi::Value LstmBackward(const Napi::CallbackInfo& info) {
  const char* kernel = "lstmBackward";
  const tsr_lstm_params p = lstm_params(info, 8, kernel);
  const int64_t T = p.T, B = p.B, H = p.H, G = checked_product({4, H}, kernel);
  const int64_t step_gates = checked_product({B, G}, kernel), step_states = checked_product({B, H}, kernel);
  const Span<float> w = f32_arg(info, 0, kernel, "weightHh"), c0 = f32_arg(info, 1, kernel, "c0");
  const Span<float> gates = f32_arg(info, 2, kernel, "gates"), states = f32_arg(info, 3, kernel, "states");
  const Span<float> grad_states = f32_arg(info, 4, kernel, "gradStates"), grad_gates = f32_arg(info, 5, kernel, "gradGates");
  const Span<float> grad_h0 = f32_arg(info, 6, kernel, "gradH0"), grad_c0 = f32_arg(info, 7, kernel, "gradC0");
  require_length(kernel, "weightHh", w.size, checked_product({G, H}, kernel));
  require_length(kernel, "c0", c0.size, step_states);
  require_length(kernel, "gates", gates.size, checked_product({T, step_gates}, kernel));
  require_length(kernel, "states", states.size, checked_product({2, T, step_states}, kernel));
  require_length(kernel, "gradStates", grad_states.size, checked_product({2, T, step_states}, kernel));
  require_length(kernel, "gradGates", grad_gates.size, checked_product({T, step_gates}, kernel));
  require_length(kernel, "gradH0", grad_h0.size, step_states);
  require_length(kernel, "gradC0", grad_c0.size, step_states);
  if (B == 0) return info.Env().Undefined();

  // gradH0 and gradC0 carry dL/dh and dL/dc of the state each step read, from the step after it; the
  // first step (in visiting order) read h0 and c0, so they end as their gradients.
  float* dh_next = grad_h0.data;
  float* dc_next = grad_c0.data;
  const float* cs = states.data + T * step_states;
  const float* gh = grad_states.data;
  const float* gc = grad_states.data + T * step_states;
  std::vector<float> w_storage(packed_b_floats(H, G));
  const PackedB w_packed = pack_b_once(H, G, w.data, H, 1, w_storage.data());
  GemmOperand w_op;
  w_op.data = w.data;
  w_op.rs = H;
  w_op.cs = 1;
  w_op.packed_b = &w_packed;
  parallel_for(B, row_grain(T, H), [&](int64_t b0, int64_t b1) {
    std::fill(dh_next + b0 * H, dh_next + b1 * H, 0.f);
    std::fill(dc_next + b0 * H, dc_next + b1 * H, 0.f);
    for (int64_t k = T - 1; k >= 0; k--) {
      const int64_t t = p.reverse ? T - 1 - k : k, prev = p.reverse ? t + 1 : t - 1;
      const float* c_prev = k == 0 ? c0.data : cs + prev * step_states;
      float* gz = grad_gates.data + t * step_gates;
      const int64_t s = t * step_states;
      simd_dispatch<CellBackward>(b0, b1, H, gates.data + t * step_gates, cs + s, c_prev, gh + s, gc + s, dh_next, dc_next, gz);
      // dL/dh_prev [rows, H] = gz [rows, 4H] W_hh [4H, H] (W_hh packed once above).
      GemmOperand gz_rows;
      gz_rows.data = gz + b0 * G;
      gz_rows.rs = G;
      gz_rows.cs = 1;
      sgemm(b1 - b0, H, G, gz_rows, w_op, dh_next + b0 * H, H, GemmEpilogue{});
    }
  });
  return info.Env().Undefined();
}

void InitLstm(Napi::Env env, Napi::Object exports) {
  exports.Set("lstmForward", Napi::Function::New(env, LstmForward, "lstmForward"));
  exports.Set("lstmBackward", Napi::Function::New(env, LstmBackward, "lstmBackward"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(lstm, InitLstm);

}  // namespace tessera
