// matmul binding: batched strided views over sgemm with the fused epilogue.
#include <algorithm>
#include <cmath>
#include <string>

#include "families.h"
#include "gemm.h"
#include "strided.h"
#include "threadpool.h"

namespace tessera {
namespace {

// matmul(a, b, out, bias | undefined, record): the record is tsr_matmul_params (kernels/schema.h);
// a is [batch, M, K] and b [batch, K, N] through its strides and offsets (batch strides may be 0);
// out is dense [batch, M, N]. The cpu multiplies in float32 whatever `precision` says.
void Matmul(const Napi::CallbackInfo& info) {
  const char* k = "matmul";
  Span<float> a = f32_arg(info, 0, k, "a");
  Span<float> b = f32_arg(info, 1, k, "b");
  Span<float> out = f32_arg(info, 2, k, "out");
  Span<float> bias = optional_f32_arg(info, 3, k, "bias");
  const tsr_matmul_params p = record_arg<tsr_matmul_params>(info, 4, k);
  const int64_t batch = p.batch, M = p.M, N = p.N, K = p.K;
  const std::vector<int64_t> sa(p.a_strides, p.a_strides + 3), sb(p.b_strides, p.b_strides + 3);
  if (p.act < 0 || p.act >= TSR_ACT_COUNT) fail("matmul: unknown activation code " + std::to_string(p.act) + " (cpu backend)");
  check_view(k, "a", a.size, {batch, M, K}, sa, p.a_offset);
  check_view(k, "b", b.size, {batch, K, N}, sb, p.b_offset);
  require_length(k, "out", out.size, checked_product({batch, M, N}, k));
  if (bias.data) require_length(k, "bias", bias.size, N);

  GemmEpilogue ep;
  ep.alpha = static_cast<float>(p.alpha);
  ep.bias = bias.data;
  ep.act = static_cast<int>(p.act);
  auto one = [&](int64_t i) {
    sgemm(M, N, K, a.data + p.a_offset + i * sa[0], sa[1], sa[2], b.data + p.b_offset + i * sb[0], sb[1], sb[2],
          out.data + i * M * N, N, ep);
  };
  // Enough matrices to go round: one per thread (each sgemm then runs single-threaded inside), in
  // ranges worth a hand-off; otherwise one after the other, each threaded over its tiles.
  if (batch >= num_threads()) {
    const double work = std::max(1.0, double(M) * double(N) * double(K));
    const int64_t grain = static_cast<int64_t>(std::min(double(batch), std::ceil(kGemmThreadedWork / work)));
    parallel_for(batch, grain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; i++) one(i);
    });
  } else {
    for (int64_t i = 0; i < batch; i++) one(i);
  }
}

void InitMatmul(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(matmul, InitMatmul);

}  // namespace tessera
